/**
 * A Docker engine for the tests that run real containers: scripts/docker-engine.sh makes one answer (installing
 * Debian's docker.io and starting dockerd when needed), and scripts/standin-image.sh builds the test-only stand-in
 * for the smallstep/step-ca image, since no registry is reachable. Where no engine can be had the test skips
 * loudly, or fails under STEPCA_REQUIRE_REAL_TESTS=1 (test/support/real-tools.ts).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { TestContext } from "node:test";
import { cannotRun } from "./real-tools";
import { repoScriptOutput } from "./repo-script";

const run = promisify(execFile);

/** The last ERROR line a script printed, else its whole stderr tail. */
function reasonOf(error: unknown): string {
    const stderr = String((error as { stderr?: string }).stderr ?? "");
    const lines = stderr.trim().split("\n");
    return lines.filter((l) => l.includes("ERROR")).pop() ?? (lines.slice(-5).join(" | ") || String(error));
}

/**
 * Makes a Docker engine answer; returns its server version, or undefined after skipping `t` (throws instead under
 * STEPCA_REQUIRE_REAL_TESTS=1) when none can be started here.
 */
export async function dockerEnginePresent(t: TestContext, testName: string): Promise<string | undefined> {
    try {
        return await repoScriptOutput("docker-engine.sh", 10);
    } catch (error) {
        cannotRun(t, `${testName} cannot run: no Docker engine (scripts/docker-engine.sh: ${reasonOf(error)})`);
        return undefined;
    }
}

/** Builds (or finds) the test-only stand-in step-ca image; returns its reference. */
export async function standinImage(): Promise<string> {
    return await repoScriptOutput("standin-image.sh", 45);
}

/** The docker CLI's trimmed stdout; rejects when it exits non-zero. */
export async function docker(...args: string[]): Promise<string> {
    const { stdout } = await run("docker", args, { maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
}
