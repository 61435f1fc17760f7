/**
 * A Docker engine for the tests that run real containers: scripts/docker-engine.sh makes one answer (installing
 * Debian's docker.io and starting dockerd when needed), and scripts/standin-image.sh builds the test-only stand-in
 * for the smallstep/step-ca image, since no registry is reachable. Where no engine can be had the test skips
 * loudly, or fails under STEPCA_REQUIRE_REAL_TESTS=1 (test/support/real-tools.ts).
 */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import type { TestContext } from "node:test";
import { cannotRun } from "./real-tools";

const REPO = path.resolve(__dirname, "../..");
const run = promisify(execFile);

/** The last ERROR line a script printed, else its whole stderr tail. */
function reasonOf(error: unknown): string {
    const stderr = String((error as { stderr?: string }).stderr ?? "");
    const lines = stderr.trim().split("\n");
    return lines.filter((l) => l.includes("ERROR")).pop() ?? (lines.slice(-5).join(" | ") || String(error));
}

async function script(name: string, timeoutMinutes: number): Promise<string> {
    const { stdout } = await run("bash", [path.join(REPO, "scripts", name)], {
        cwd: REPO,
        maxBuffer: 64 * 1024 * 1024,
        timeout: timeoutMinutes * 60 * 1000,
    });
    return stdout.trim().split("\n").pop()!;
}

/**
 * Makes a Docker engine answer; returns its server version, or undefined after skipping `t` (throws instead under
 * STEPCA_REQUIRE_REAL_TESTS=1) when none can be started here.
 */
export async function dockerEnginePresent(t: TestContext, testName: string): Promise<string | undefined> {
    try {
        return await script("docker-engine.sh", 10);
    } catch (error) {
        cannotRun(t, `${testName} cannot run: no Docker engine (scripts/docker-engine.sh: ${reasonOf(error)})`);
        return undefined;
    }
}

/** Builds (or finds) the test-only stand-in step-ca image; returns its reference. */
export async function standinImage(): Promise<string> {
    return await script("standin-image.sh", 45);
}
