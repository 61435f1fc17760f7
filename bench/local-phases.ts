/**
 * `npm run local` on a fresh copy of the project, then again (a no-op), then `npm run local:down`, each split into
 * phases. The copy (the repository's tracked files, node_modules linked) lives in a temp directory with free ports
 * instead of Pulumi.local.yaml's 8085/8086/9000, so neither a running local stack nor its state is touched. "Fresh"
 * means no state, no emulator, no step-ca, and caches cold for this directory (ts-node's compile cache, the
 * serialized-provider cache); npm packages and the Go-built tools (Pulumi CLI, step-ca) are the ones installed.
 * Phases are read from scripts/local.sh's own log lines, timed as they arrive.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../test/support/free-port";
import { conditions } from "./engine-noop";
import type { BenchSection } from "./table";

const REPO = path.resolve(__dirname, "..");

/** A phase ends at the first log line matching its marker, after the previous phase's end. */
interface Phase {
    readonly name: string;
    readonly ends: RegExp;
}

const UP_PHASES: readonly Phase[] = [
    { name: "toolchain (Node 22, npm packages, Pulumi CLI)", ends: /^local: using the Pulumi CLI/ },
    { name: "KMS emulator", ends: /^local: (Cloud KMS emulator listening|KMS emulator already running)/ },
    { name: "pulumi up", ends: /^local: outputs \(secrets hidden/ },
    { name: "stack outputs", ends: /^local: step-ca bundle \(STEPPATH\)/ },
    { name: "step-ca", ends: /^local: step-ca is up at/ },
];

const DOWN_PHASES: readonly Phase[] = [
    { name: "toolchain (Node 22, npm packages, Pulumi CLI)", ends: /^local: using the Pulumi CLI/ },
    { name: "stop step-ca", ends: /^local: step-ca (stopped|not running)/ },
    { name: "KMS emulator", ends: /^local: (Cloud KMS emulator listening|KMS emulator already running)/ },
    { name: "pulumi destroy, stop the emulator", ends: /^local: KMS emulator stopped/ },
];

/** Runs scripts/local.sh <command> in `dir`; returns each stderr line with its time (ms since start) and the total. */
function runLocal(dir: string, command: "up" | "down", env: NodeJS.ProcessEnv): Promise<{ lines: [number, string][]; totalMs: number }> {
    return new Promise((resolve, reject) => {
        const started = performance.now();
        const child = spawn("bash", ["scripts/local.sh", command], { cwd: dir, env, stdio: ["ignore", "ignore", "pipe"] });
        const lines: [number, string][] = [];
        let partial = "";
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
            const parts = (partial + chunk).split("\n");
            partial = parts.pop()!;
            for (const line of parts) lines.push([performance.now() - started, line]);
        });
        child.on("error", reject);
        child.on("exit", (code) => {
            const totalMs = performance.now() - started;
            if (code === 0) resolve({ lines, totalMs });
            else reject(new Error(`local.sh ${command} exited ${code}:\n${lines.slice(-30).map(([, l]) => l).join("\n")}`));
        });
    });
}

/** Phase durations (s) from the timed lines, plus "rest" up to the exit and the total. */
function phaseTimes(phases: readonly Phase[], lines: [number, string][], totalMs: number, what: string): string[] {
    const out: string[] = [];
    let from = 0;
    let index = 0;
    for (const phase of phases) {
        const hit = lines.findIndex(([, line], i) => i >= index && phase.ends.test(line));
        if (hit < 0) {
            throw new Error(`${what}: no log line for the end of "${phase.name}" (${phase.ends}):\n${lines.map(([, l]) => l).join("\n")}`);
        }
        out.push(((lines[hit][0] - from) / 1000).toFixed(2));
        from = lines[hit][0];
        index = hit + 1;
    }
    out.push(((totalMs - from) / 1000).toFixed(2), (totalMs / 1000).toFixed(2));
    return out;
}

export async function localRunPhases(): Promise<BenchSection[]> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-bench-local-"));
    const dir = path.join(tmp, "project");
    const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: REPO, encoding: "utf8" }).split("\0").filter(Boolean);
    for (const file of tracked) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.copyFileSync(path.join(REPO, file), path.join(dir, file));
        // Same times as the originals: a package-lock.json newer than node_modules would make local.sh run `npm ci`
        // into the linked node_modules.
        const { atime, mtime } = fs.statSync(path.join(REPO, file));
        fs.utimesSync(path.join(dir, file), atime, mtime);
    }
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
    const [kmsPort, proxyPort, caPort] = [await freePort(), await freePort(), await freePort()];
    const stackFile = path.join(dir, "Pulumi.local.yaml");
    fs.writeFileSync(
        stackFile,
        fs
            .readFileSync(stackFile, "utf8")
            .replace(/^(\s*stepca-cloudkms:kmsEndpoint:).*$/m, `$1 127.0.0.1:${kmsPort}`)
            .replace(/^(\s*stepca-cloudkms:port:).*$/m, `$1 "${caPort}"`),
    );
    const env: NodeJS.ProcessEnv = { ...process.env, STEPCA_LOCAL_PROXY_PORT: String(proxyPort) };
    delete env.PULUMI_CONFIG_PASSPHRASE; // local.sh's default, the one Pulumi.local.yaml's salt belongs to
    const before = conditions();
    let up = false;
    try {
        const fresh = await runLocal(dir, "up", env);
        up = true;
        const again = await runLocal(dir, "up", env);
        const down = await runLocal(dir, "down", env);
        up = false;
        const after = conditions();
        const upColumns = [...UP_PHASES.map((p) => p.name), "rest", "total"];
        return [
            {
                title: "npm run local by phase (s)",
                columns: ["run", ...upColumns],
                rows: [
                    ["fresh (no state)", ...phaseTimes(UP_PHASES, fresh.lines, fresh.totalMs, "fresh up")],
                    ["again (no-op)", ...phaseTimes(UP_PHASES, again.lines, again.totalMs, "second up")],
                ],
                notes: [
                    "A copy of the tracked files in a temp directory, node_modules linked, free ports. Fresh: no Pulumi state, no",
                    "emulator or step-ca running, ts-node's and the provider cache cold for that directory (the first `pulumi up`",
                    "type-checks the program); npm packages, the Pulumi CLI and step-ca already installed or cached.",
                    `Conditions: before ${before}; after ${after}.`,
                ],
            },
            {
                title: "npm run local:down by phase (s)",
                columns: ["run", ...DOWN_PHASES.map((p) => p.name), "rest", "total"],
                rows: [["down", ...phaseTimes(DOWN_PHASES, down.lines, down.totalMs, "down")]],
            },
        ];
    } finally {
        if (up) await runLocal(dir, "down", env).catch((e: unknown) => console.error(`bench: local:down after a failure: ${e}`));
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}
