import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";

const REPO = path.resolve(__dirname, "../..");
const run = promisify(execFile);

/**
 * Runs scripts/<name> (an install or start script: cached builds can take many minutes cold) from the repository
 * root; resolves to the last line it printed (the directory, version or image it made), rejects with its stderr.
 */
export async function repoScriptOutput(name: string, timeoutMinutes: number): Promise<string> {
    const { stdout } = await run("bash", [path.join(REPO, "scripts", name)], {
        cwd: REPO,
        maxBuffer: 64 * 1024 * 1024,
        timeout: timeoutMinutes * 60 * 1000,
    });
    return stdout.trim().split("\n").pop()!;
}
