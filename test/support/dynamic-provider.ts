import { spawn } from "node:child_process";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "../..");

/** Pulumi's dynamic-provider entry, which the engine runs through pulumi-resource-pulumi-nodejs. */
export const DYNAMIC_PROVIDER_ENTRY = path.join(REPO, "node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js");

/** scripts/bin/pulumi-nodejs-provider-start.js, which our pulumi-resource-pulumi-nodejs preloads. */
export const PROVIDER_START = path.join(REPO, "scripts/bin/pulumi-nodejs-provider-start.js");

export interface ProviderRun {
    readonly stdout: string;
    readonly stderr: string;
    /** Milliseconds from spawn until it printed its port; undefined when it exited first. */
    readonly msToPort?: number;
}

/**
 * Runs the dynamic-provider entry (with `nodeArgs` before it, an engine address nothing listens on after it) until it
 * exits or, with `stopAtPort`, until it prints its port, then stops it with SIGINT as the engine does.
 */
export function runDynamicProvider(
    nodeArgs: readonly string[],
    env: NodeJS.ProcessEnv,
    { stopAtPort = false } = {},
): Promise<ProviderRun> {
    return new Promise((resolve, reject) => {
        const started = performance.now();
        const child = spawn(process.execPath, [...nodeArgs, DYNAMIC_PROVIDER_ENTRY, "127.0.0.1:1"], {
            cwd: REPO,
            env: { ...process.env, ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        let msToPort: number | undefined;
        child.stdout.on("data", (chunk: Buffer) => {
            stdout += chunk;
            if (msToPort === undefined && /^\d+\n/.test(stdout)) {
                msToPort = performance.now() - started;
                if (stopAtPort) child.kill("SIGINT");
            }
        });
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
        child.on("error", reject);
        child.on("exit", () => resolve({ stdout, stderr, msToPort }));
    });
}
