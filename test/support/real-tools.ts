/**
 * The one prerequisite check of the tests that run real third-party software (test/interop: step-ca and the step
 * CLI; test/engine: the Pulumi engine; test/docker: a Docker engine too; test/ha: HAProxy and PostgreSQL from
 * Debian's packages), built from Go modules by scripts/install-*.sh or installed by scripts/docker-engine.sh and
 * scripts/install-ha-tools.sh.
 *
 * Where a tool is missing such a test skips loudly (CONTRIBUTING: never pass). With STEPCA_REQUIRE_REAL_TESTS=1 —
 * set by .ci/run, because CI has these tools and must run those tests — the same message fails the test instead.
 */
import { spawnSync } from "node:child_process";
import type { TestContext } from "node:test";

/** Set to 1 (as .ci/run does) to turn a missing-prerequisite skip into a failure. */
export const REQUIRE_REAL_TESTS_ENV = "STEPCA_REQUIRE_REAL_TESTS";

/** A tool a real test needs, and what for (the reason goes into the skip or failure message). */
export type RealTool = "go" | "openssl" | "bash" | "flock" | "curl" | "haproxy" | "postgresql";

/** Where Debian's postgresql-15 package puts the server binaries (not on PATH). */
export const POSTGRES_BIN_DIR = "/usr/lib/postgresql/15/bin";

const PROBES: Record<RealTool, { label: string; works: () => boolean }> = {
    go: { label: "Go toolchain (`go` on PATH)", works: () => exitsZero("go", ["version"]) },
    openssl: { label: "`openssl` on PATH", works: () => exitsZero("openssl", ["version"]) },
    bash: { label: "`bash` on PATH", works: () => exitsZero("bash", ["-c", "true"]) },
    // util-linux flock has no --version on every build; `command -v` is enough to know it can be run.
    flock: { label: "`flock` on PATH", works: () => exitsZero("sh", ["-c", "command -v flock"]) },
    curl: { label: "`curl` on PATH", works: () => exitsZero("curl", ["--version"]) },
    haproxy: { label: "`haproxy` on PATH", works: () => exitsZero("haproxy", ["-v"]) },
    postgresql: {
        label: `PostgreSQL 15 server binaries in ${POSTGRES_BIN_DIR}`,
        works: () => exitsZero(`${POSTGRES_BIN_DIR}/postgres`, ["--version"]) && exitsZero(`${POSTGRES_BIN_DIR}/psql`, ["--version"]),
    },
};

function exitsZero(file: string, args: string[]): boolean {
    const r = spawnSync(file, args, { stdio: "ignore" });
    return !r.error && r.status === 0;
}

/** What is missing, each with why it is needed; empty when everything is there. */
export function missingRealTools(needs: Partial<Record<RealTool, string>>): string[] {
    return (Object.entries(needs) as [RealTool, string][])
        .filter(([tool]) => !PROBES[tool].works())
        .map(([tool, why]) => `${PROBES[tool].label} — ${why}`);
}

/** Whether STEPCA_REQUIRE_REAL_TESTS asks for the real tests to run (any value but "", "0" or "false"). */
export function realTestsRequired(env: NodeJS.ProcessEnv = process.env): boolean {
    const value = (env[REQUIRE_REAL_TESTS_ENV] ?? "").trim().toLowerCase();
    return value !== "" && value !== "0" && value !== "false";
}

/**
 * Checks the tools `needs` names. All there → returns true and the test goes on. Something missing → skips the
 * test loudly (banner on stderr + `t.skip`) and returns false, or, when STEPCA_REQUIRE_REAL_TESTS is set, throws
 * with the same message so the test fails.
 *
 *     if (!realToolsPresent(t, "the engine test", { go: "builds the Pulumi CLI" })) return;
 */
export function realToolsPresent(t: TestContext, testName: string, needs: Partial<Record<RealTool, string>>): boolean {
    const missing = missingRealTools(needs);
    if (missing.length === 0) return true;
    return cannotRun(t, `${testName} cannot run: missing ${missing.join("; ")}`);
}

/**
 * A real test's prerequisite is missing (`message` says which and why): skips the test loudly and returns false, or
 * throws with the same message when STEPCA_REQUIRE_REAL_TESTS is set. For checks that are not a tool on PATH,
 * e.g. a Docker engine that cannot be started (test/support/docker-engine.ts).
 */
export function cannotRun(t: TestContext, message: string): false {
    const banner = "!".repeat(100);
    if (realTestsRequired()) {
        const failure = `${message}. ${REQUIRE_REAL_TESTS_ENV}=1 (set by .ci/run) requires this test to run, so it fails instead of skipping.`;
        console.error(`\n${banner}\nFAILING: ${failure}\n${banner}\n`);
        throw new Error(failure);
    }
    const skip = `${message}. Install it and rerun (${REQUIRE_REAL_TESTS_ENV}=1 turns this skip into a failure, as in CI).`;
    console.warn(`\n${banner}\nSKIPPING: ${skip}\n${banner}\n`);
    t.skip(skip);
    return false;
}
