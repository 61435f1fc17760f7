/**
 * Running the program on the real Pulumi engine, for the engine and docker tests: the CLI built by
 * scripts/install-pulumi.sh, the docker resource plugin built by scripts/install-docker-provider.sh (found on PATH
 * by the engine), a throwaway project linking the program's files, a file backend and the passphrase secrets
 * provider, the engine's events by resource, and steps that each depend on the ones before.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { TestContext } from "node:test";
import { type EngineEvent, LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { repoScriptOutput } from "./repo-script";

const REPO = path.resolve(__dirname, "../..");

/** The program's files, linked into a throwaway project directory (Pulumi.yaml is copied). */
const PROGRAM_ENTRIES = ["index.ts", "components", "dynamic-providers", "lib", "package.json", "tsconfig.json", "node_modules"];

async function scriptOutputDir(script: string, mustHold: string): Promise<string> {
    const dir = await repoScriptOutput(script, 45);
    assert.ok(fs.existsSync(path.join(dir, mustHold)), `${script} printed ${dir}, which has no ${mustHold}`);
    return dir;
}

/** Builds (or finds cached) the Pulumi CLI; returns its bin directory. */
export const pulumiBinDir = () => scriptOutputDir("install-pulumi.sh", "pulumi");

/** Builds (or finds cached) the bridged docker provider; returns the directory of `pulumi-resource-docker`. */
export const dockerProviderDir = () => scriptOutputDir("install-docker-provider.sh", "pulumi-resource-docker");

/** A throwaway project on a file backend; `pathDirs` go first on the engine's PATH (CLI, plugins). */
export async function throwawayStack(options: {
    tmp: string;
    stackName: string;
    stackYaml: string;
    passphrase: string;
    pathDirs: string[];
}): Promise<{ stack: Stack; projectDir: string; envVars: Record<string, string> }> {
    const { tmp, stackName } = options;
    const projectDir = path.join(tmp, "project");
    fs.mkdirSync(projectDir);
    fs.mkdirSync(path.join(tmp, "state"));
    for (const entry of PROGRAM_ENTRIES) fs.symlinkSync(path.join(REPO, entry), path.join(projectDir, entry));
    fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(projectDir, "Pulumi.yaml"));
    fs.writeFileSync(path.join(projectDir, `Pulumi.${stackName}.yaml`), options.stackYaml);
    const envVars: Record<string, string> = {
        PATH: [...options.pathDirs, path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
        PULUMI_BACKEND_URL: `file://${path.join(tmp, "state")}`,
        PULUMI_HOME: path.join(tmp, "pulumi-home"),
        PULUMI_CONFIG_PASSPHRASE: options.passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "false",
    };
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(options.pathDirs[0]) });
    const workspace = await LocalWorkspace.create({ workDir: projectDir, pulumiCommand, envVars, secretsProvider: "passphrase" });
    await workspace.createStack(stackName);
    const stack = await LocalWorkspace.selectStack({ stackName, workDir: projectDir }, { pulumiCommand, envVars });
    return { stack, projectDir, envVars };
}

/** `stepca:IntermediateCertificate` from `urn:pulumi:s::p::a$b$pulumi-nodejs:dynamic/stepca:IntermediateCertificate::n`. */
export function typeOf(urn: string): string {
    const type = urn.split("::")[2].split("$").pop()!;
    return type.replace(/^pulumi-nodejs:dynamic\//, "");
}

/** `type::name` of a resource, the dynamic-provider prefix left out (see {@link typeOf}). */
function resourceOf(urn: string): string {
    return `${typeOf(urn)}::${urn.split("::").pop()}`;
}

/** Resource operations of one engine run, in the order the engine reported them (providers and the stack left out). */
export class Ops {
    readonly events: EngineEvent[] = [];
    readonly onEvent = (event: EngineEvent) => {
        this.events.push(event);
    };

    /** `[type::name, op]` of every resource step, in order. */
    sequence(): [string, string][] {
        const out: [string, string][] = [];
        for (const e of this.events) {
            const meta = e.resourcePreEvent?.metadata;
            if (!meta || meta.urn.includes("::pulumi:providers:") || meta.type === "pulumi:pulumi:Stack") continue;
            out.push([resourceOf(meta.urn), meta.op]);
        }
        return out;
    }

    /** Every resource's operations, by URN. */
    byUrn(): Map<string, string[]> {
        const ops = new Map<string, string[]>();
        for (const e of this.events) {
            const meta = e.resourcePreEvent?.metadata;
            if (!meta || meta.urn.includes("::pulumi:providers:") || meta.type === "pulumi:pulumi:Stack") continue;
            ops.set(meta.urn, [...(ops.get(meta.urn) ?? []), meta.op]);
        }
        return ops;
    }

    /** Resources (type::name) whose operations include `op`. */
    named(op: string): string[] {
        return [...new Set(this.sequence().filter(([, o]) => o === op).map(([r]) => r))].sort();
    }

    /** The outputs the engine holds for a resource of `type` (as {@link typeOf} names it) after its last step. */
    outputsOf(type: string): Record<string, unknown> | undefined {
        return this.events
            .map((e) => e.resOutputsEvent?.metadata)
            .filter((m) => m && typeOf(m.urn) === type)
            .pop()?.new?.outputs;
    }

    /** The last outputs event of the resource named `name`: its operation and the outputs the engine now holds. */
    outputsAfter(name: string): { op?: string; outputs?: Record<string, unknown> } {
        const meta = this.events
            .map((e) => e.resOutputsEvent?.metadata)
            .filter((m) => m?.urn.endsWith(`::${name}`))
            .pop();
        return { op: meta?.op, outputs: meta?.new?.outputs };
    }

    /** Properties reported changed for a resource, before (plan) and after (outputs) each step. */
    diffsOf(name: string): string[] {
        const out: string[] = [];
        for (const e of this.events) {
            for (const meta of [e.resourcePreEvent?.metadata, e.resOutputsEvent?.metadata]) {
                if (meta && meta.urn.endsWith(`::${name}`)) {
                    out.push(...(meta.keys ?? []), ...(meta.diffs ?? []), ...Object.keys(meta.detailedDiff ?? {}));
                }
            }
        }
        return [...new Set(out)].sort();
    }
}

/**
 * Subtests that each depend on the ones before: after a failure the rest skip, naming it. Each prints its time.
 * `broken()` names the failed step, if any (to keep state for inspection).
 */
export function sequentialSteps(t: TestContext): {
    step: (name: string, body: (st: TestContext) => Promise<void>) => Promise<void>;
    broken: () => string | undefined;
} {
    let broken: string | undefined;
    const step = (name: string, body: (st: TestContext) => Promise<void>) =>
        t.test(name, async (st) => {
            if (broken) {
                st.skip(`an earlier step failed (${broken})`);
                return;
            }
            const t0 = Date.now();
            try {
                await body(st);
            } catch (error) {
                broken = name;
                throw error;
            } finally {
                console.log(`# ${name}: ${Math.round((Date.now() - t0) / 1000)} s`);
            }
        });
    return { step, broken: () => broken };
}

/** Whether a change summary holds nothing but "same". */
export function onlySame(changes: Record<string, number> | undefined): boolean {
    return Object.entries(changes ?? {}).every(([op, n]) => op === "same" || n === 0);
}
