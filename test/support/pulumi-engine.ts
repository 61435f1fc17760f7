/**
 * Running the program on the real Pulumi engine, for the docker tests: the CLI built by scripts/install-pulumi.sh,
 * the docker resource plugin built by scripts/install-docker-provider.sh (found on PATH by the engine), a
 * throwaway project linking the program's files, a file backend and the passphrase secrets provider.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { type EngineEvent, LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";

const REPO = path.resolve(__dirname, "../..");
const run = promisify(execFile);

/** The program's files, linked into a throwaway project directory (Pulumi.yaml is copied). */
const PROGRAM_ENTRIES = ["index.ts", "components", "dynamic-providers", "lib", "package.json", "tsconfig.json", "node_modules"];

async function scriptOutputDir(script: string, mustHold: string): Promise<string> {
    const { stdout } = await run("bash", [path.join(REPO, "scripts", script)], {
        cwd: REPO,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 45 * 60 * 1000,
    });
    const dir = stdout.trim().split("\n").pop()!;
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
    };
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(options.pathDirs[0]) });
    const workspace = await LocalWorkspace.create({ workDir: projectDir, pulumiCommand, envVars, secretsProvider: "passphrase" });
    await workspace.createStack(stackName);
    const stack = await LocalWorkspace.selectStack({ stackName, workDir: projectDir }, { pulumiCommand, envVars });
    return { stack, projectDir, envVars };
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
            out.push([`${meta.type}::${meta.urn.split("::").pop()}`, meta.op]);
        }
        return out;
    }

    /** Resources (type::name) whose operations include `op`. */
    named(op: string): string[] {
        return [...new Set(this.sequence().filter(([, o]) => o === op).map(([r]) => r))].sort();
    }

    /** The outputs the engine holds for a resource of `type` after its last step. */
    outputsOf(type: string): Record<string, unknown> | undefined {
        return this.events
            .map((e) => e.resOutputsEvent?.metadata)
            .filter((m) => m?.type === type)
            .pop()?.new?.outputs;
    }
}

/** Whether a change summary holds nothing but "same". */
export function onlySame(changes: Record<string, number> | undefined): boolean {
    return Object.entries(changes ?? {}).every(([op, n]) => op === "same" || n === 0);
}
