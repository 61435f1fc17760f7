/**
 * Wall time to evaluate the whole program (index.ts) under Pulumi mocks, per example stack, with the mocks the unit
 * tests use (test/unit/support/mocked-stack.ts). Each stack is measured in its own Node process: the first run
 * there also loads the program's modules (@pulumi/gcp, @pulumi/docker, the providers), the runs after it do not.
 */
import { fork } from "node:child_process";
import { DYNAMIC, runStack } from "../test/unit/support/mocked-stack";
import type { BenchSection } from "./table";

/** The example stacks: Pulumi.<stack>.yaml. */
export const EXAMPLE_STACKS = ["dev", "prod", "local"] as const;

/** What one stack's process measured. */
interface StackTimings {
    readonly stack: string;
    /** The first run in a fresh process, module loading included. */
    readonly firstMs: number;
    /** The runs after it. */
    readonly runsMs: number[];
    readonly resources: number;
    readonly components: number;
    readonly dynamic: number;
    /** Resources of provider plugins (gcp, docker). */
    readonly plugin: number;
    readonly outputs: number;
}

/** Runs `runs` timed evaluations (after the first) of each stack, each stack in a fresh process. */
export async function stackEvaluationTime(
    runs = Number(process.env.BENCH_STACK_RUNS ?? 10),
    stacks: readonly string[] = EXAMPLE_STACKS,
): Promise<BenchSection> {
    if (!Number.isInteger(runs) || runs < 1) {
        throw new Error(`BENCH_STACK_RUNS must be a whole number of at least 1 (got ${process.env.BENCH_STACK_RUNS})`);
    }
    const rows: (string | number)[][] = [];
    for (const stack of stacks) {
        const t = await inChildProcess(stack, runs);
        const sorted = [...t.runsMs].sort((a, b) => a - b);
        rows.push([
            `Pulumi.${stack}.yaml`,
            t.resources,
            t.components,
            t.dynamic,
            t.plugin,
            t.outputs,
            t.firstMs.toFixed(1),
            sorted.length,
            sorted[0].toFixed(1),
            median(sorted).toFixed(1),
            sorted[sorted.length - 1].toFixed(1),
        ]);
    }
    return {
        title: "Wall time to evaluate the whole stack under Pulumi mocks (ms)",
        columns: [
            "stack",
            "resources",
            "components",
            "dynamic",
            "gcp/docker",
            "outputs",
            "first (cold)",
            "runs",
            "min",
            "median",
            "max",
        ],
        rows,
        notes: [
            "One fresh Node process per stack. `first (cold)` includes loading the program's modules; min/median/max are",
            "the runs after it. A run: config + mocks set, index.ts evaluated, stack outputs resolved, every",
            "registration settled. The mocks run each dynamic resource's real `check`, and StepCaConfig's real",
            "`create` (the provisioner key's PBES2 wrap, 600 000 iterations). Runs: BENCH_STACK_RUNS (default 10).",
        ],
    };
}

function median(sorted: readonly number[]): number {
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Forks this module (inheriting the TypeScript loader) to time one stack, and takes its result over IPC. */
function inChildProcess(stack: string, runs: number): Promise<StackTimings> {
    return new Promise((resolve, reject) => {
        const child = fork(__filename, [stack, String(runs)], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
        let result: { timings?: StackTimings; error?: string } = {};
        child.on("message", (message) => (result = message as typeof result));
        child.on("error", reject);
        child.on("exit", (code) => {
            if (result.timings && code === 0) {
                resolve(result.timings);
            } else {
                reject(new Error(`timing stack ${stack} failed (exit ${code}): ${result.error ?? "no result"}`));
            }
        });
    });
}

/** In the child: one untimed-for-stats first run, then `runs` timed runs, all of the same stack. */
async function timeStack(stack: string, runs: number): Promise<StackTimings> {
    const timed = async () => {
        const started = performance.now();
        const run = await runStack(stack);
        const ms = performance.now() - started;
        if (run.checkFailures.length > 0) {
            throw new Error(`the providers' checks failed: ${run.checkFailures.join("; ")}`);
        }
        return { ms, run };
    };
    const first = await timed();
    const runsMs: number[] = [];
    for (let i = 0; i < runs; i++) {
        const { ms, run } = await timed();
        if (run.resources.length !== first.run.resources.length) {
            throw new Error(`run ${i + 2} registered ${run.resources.length} resources, the first ${first.run.resources.length}`);
        }
        runsMs.push(ms);
    }
    const types = first.run.resources.map((r) => r.type);
    return {
        stack,
        firstMs: first.ms,
        runsMs,
        resources: types.length,
        components: types.filter((t) => t.startsWith("stepca:")).length,
        dynamic: types.filter((t) => t.startsWith(DYNAMIC(""))).length,
        plugin: types.filter((t) => t.startsWith("gcp:") || t.startsWith("docker:")).length,
        outputs: Object.keys(first.run.outputs).length,
    };
}

if (require.main === module && process.send) {
    const [stack, runs] = process.argv.slice(2);
    timeStack(stack, Number(runs)).then(
        (timings) => process.send!({ timings }, () => process.exit(0)),
        (error: unknown) =>
            process.send!({ error: error instanceof Error ? error.stack ?? error.message : String(error) }, () =>
                process.exit(1),
            ),
    );
}
