import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { PROVIDER_START as START, runDynamicProvider } from "../support/dynamic-provider";


/** What the preload leaves to be loaded on first use: TypeScript, and what the closure serializer brings in. */
const DEFERRED = ["/node_modules/typescript/", "/@pulumi/pulumi/automation/", "/node_modules/normalize-package-data/"];

/**
 * Required after the entry has loaded (its first turn): which of DEFERRED were loaded by then, and whether
 * serializeFunction still works afterwards (and what it loads).
 */
const PROBE = `
const loaded = () => ${JSON.stringify(DEFERRED)}.filter((m) => Object.keys(require.cache).some((f) => f.includes(m)));
setImmediate(async () => {
    const before = loaded();
    const pulumi = require(${JSON.stringify(require.resolve("@pulumi/pulumi"))});
    const answer = 41;
    const { text } = await pulumi.runtime.serializeFunction(() => answer + 1);
    process.stderr.write("PROBE " + JSON.stringify({ before, after: loaded(), text }) + "\\n");
    process.exit(0);
});
`;

function probeResult(stderr: string): { before: string[]; after: string[]; text: string } {
    const line = stderr.split("\n").find((l) => l.startsWith("PROBE "));
    assert.ok(line, `the probe reported nothing:\n${stderr}`);
    return JSON.parse(line.slice("PROBE ".length));
}

describe("dynamic-provider start (scripts/bin/pulumi-nodejs-provider-start.js)", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-provider-start-"));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const probe = path.join(tmp, "probe.js");
    fs.writeFileSync(probe, PROBE);
    const noCache = { NODE_COMPILE_CACHE: path.join(tmp, "unused-cache") };

    it("the provider loads TypeScript and the closure serializer's modules at start without it (the probe can tell)", async () => {
        const { stderr } = await runDynamicProvider(["--require", probe], noCache);
        assert.deepEqual(probeResult(stderr).before, DEFERRED);
    });

    it("with it, none of them is loaded at start, and serializeFunction still works (loading what it needs then)", async () => {
        const { stderr } = await runDynamicProvider(["--require", START, "--require", probe], noCache);
        const result = probeResult(stderr);
        assert.deepEqual(result.before, []);
        // The serializer's own modules; normalize-package-data waits for a computeCodePaths call.
        assert.deepEqual(result.after, DEFERRED.slice(0, 2));
        assert.match(result.text, /answer \+ 1/);
        assert.match(result.text, /41/);
    });

    it("the functions it stands in for are functions of this @pulumi/pulumi", () => {
        const { DEFERRED_MODULES } = require(START) as { DEFERRED_MODULES: Record<string, string[]> };
        assert.ok(Object.keys(DEFERRED_MODULES).length > 0);
        for (const [module, names] of Object.entries(DEFERRED_MODULES)) {
            const real = require(module) as Record<string, unknown>;
            for (const name of names) assert.equal(typeof real[name], "function", `${module}.${name}`);
        }
    });

    it("starts the provider (it prints its port) and writes the compile cache before the engine's SIGINT", async () => {
        const cache = path.join(tmp, "compile-cache");
        const { stdout, stderr } = await runDynamicProvider(["--require", START], { NODE_COMPILE_CACHE: cache }, { stopAtPort: true });
        assert.match(stdout, /^\d+\n/, stderr);
        const entries = fs.readdirSync(cache, { recursive: true });
        assert.ok(entries.length > 1, `no compile cache written in ${cache}: ${entries.join(", ")}`);
    });
});
