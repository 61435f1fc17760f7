/**
 * The docker resource plugin built from the upstream Terraform provider (scripts/install-docker-provider.sh)
 * answers to what the unmodified @pulumi/docker SDK sends: its version, every resource token and, for each, every
 * property name, nested types included. Read from the schema the bridge generated for the plugin and from the
 * SDK's own generated code in node_modules.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { dockerProviderDir } from "../support/pulumi-engine";
import { realToolsPresent } from "../support/real-tools";

const SDK = path.resolve(__dirname, "../../node_modules/@pulumi/docker");
/** The SDK's one resource that is not bridged (pulumi-docker implements it natively, building images). */
const NATIVE = new Set(["docker:index/image:Image"]);

interface Schema {
    resources: Record<string, { inputProperties?: Record<string, unknown>; properties?: Record<string, unknown> }>;
    types: Record<string, { properties?: Record<string, unknown> }>;
}

test("the bridged docker plugin speaks @pulumi/docker 5.2.0's tokens and property names", { timeout: 45 * 60 * 1000 }, async (t) => {
    if (!realToolsPresent(t, "the docker provider schema test", { go: "builds the provider", bash: "runs its install script", flock: "it serializes builds" })) return;
    const dir = await dockerProviderDir();
    const sdkVersion = JSON.parse(fs.readFileSync(path.join(SDK, "package.json"), "utf8")).pulumi.version;
    assert.equal(execFileSync(path.join(dir, "pulumi-resource-docker"), ["-version"], { encoding: "utf8" }).trim(), sdkVersion);
    const schema = JSON.parse(fs.readFileSync(path.join(dir, "schema.json"), "utf8")) as Schema;

    const problems: string[] = [];
    let resources = 0;
    for (const file of fs.readdirSync(SDK).filter((f) => f.endsWith(".js"))) {
        const source = fs.readFileSync(path.join(SDK, file), "utf8");
        const token = /__pulumiType = ['"]([^'"]+)['"]/.exec(source)?.[1];
        if (!token || token === "docker" || NATIVE.has(token)) continue;
        resources++;
        const resource = schema.resources[token];
        if (!resource) {
            problems.push(`no resource ${token}`);
            continue;
        }
        const known = new Set([...Object.keys(resource.inputProperties ?? {}), ...Object.keys(resource.properties ?? {})]);
        for (const [, name] of source.matchAll(/resourceInputs\["([^"]+)"\]/g)) {
            if (!known.has(name)) problems.push(`${token}: no property ${name}`);
        }
    }
    assert.ok(resources >= 10, `only ${resources} SDK resources found`);

    const typesByName = new Map(Object.entries(schema.types).map(([token, type]) => [token.split(":").pop()!, type]));
    let types = 0;
    const inputs = fs.readFileSync(path.join(SDK, "types/input.d.ts"), "utf8");
    for (const [, name, body] of inputs.matchAll(/export interface (\w+) \{([\s\S]*?)\n\}/g)) {
        const type = typesByName.get(name);
        if (!type) continue; // the native Image's build types, and function arguments
        types++;
        for (const [, property] of body.matchAll(/^ {4}(\w+)\??:/gm)) {
            if (!(property in (type.properties ?? {}))) problems.push(`${name}: no property ${property}`);
        }
    }
    assert.ok(types >= 50, `only ${types} SDK input types matched the schema`);
    assert.ok(typesByName.has("ContainerUpload") && typesByName.has("ContainerHealthcheck"));
    assert.deepEqual(problems, []);
    console.log(`# ${resources} resources and ${types} input types match`);
});
