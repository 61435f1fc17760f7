import { spawn } from "node:child_process";
import * as path from "node:path";

const REPO_ROOT = path.resolve(__dirname, "../../..");
const INSTALL_SCRIPT = path.join(REPO_ROOT, "scripts/install-step.sh");

/** What the interop test needs on this machine (checked by test/support/real-tools.ts), and why. */
export const STEP_TOOLS_NEEDED = {
    go:
        "needed to build step-ca and the step CLI from github.com/smallstep/certificates/cmd/step-ca and " +
        "github.com/smallstep/cli/cmd/step (scripts/install-step.sh)",
    bash: "runs scripts/install-step.sh",
    flock: "scripts/install-step.sh serializes builds with it",
    openssl: "verifies the issued leaf's chain (`openssl verify`)",
} as const;

/**
 * Runs scripts/install-step.sh (cached under $HOME/.cache/stepca-cloudkms; cold build takes minutes) and returns
 * the bin directory holding `step-ca` and `step`. The script's progress goes to this process's stderr.
 */
export async function installStep(): Promise<{ binDir: string; stepCa: string; step: string }> {
    const child = spawn("bash", [INSTALL_SCRIPT], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const code = await new Promise<number | null>((resolve, reject) => {
        child.once("error", reject);
        child.once("close", resolve);
    });
    if (code !== 0) throw new Error(`scripts/install-step.sh failed with exit code ${code}`);
    const binDir = out.trim().split("\n").pop() ?? "";
    return { binDir, stepCa: path.join(binDir, "step-ca"), step: path.join(binDir, "step") };
}

export interface RunResult {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** Runs a command to completion without a shell; never throws on a non-zero exit (the caller asserts). */
export async function run(
    file: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; uid?: number; gid?: number } = {},
): Promise<RunResult> {
    const child = spawn(file, args, { env: opts.env, cwd: opts.cwd, uid: opts.uid, gid: opts.gid, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    const code = await new Promise<number | null>((resolve, reject) => {
        child.once("error", reject);
        child.once("close", resolve);
    });
    clearTimeout(timer);
    return { code, stdout, stderr };
}

/** Fails with the command's output when it did not exit 0. */
export function expectSuccess(what: string, r: RunResult): RunResult {
    if (r.code !== 0) {
        throw new Error(`${what} failed (exit ${r.code})\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
    }
    return r;
}
