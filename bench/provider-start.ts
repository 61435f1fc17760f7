/**
 * How long the dynamic-provider process takes to start, as the engine starts it (`pulumi-resource-pulumi-nodejs`, on
 * the critical path of every `pulumi preview` and `pulumi up` of a program with a dynamic resource): from spawn
 * until it prints its port, with Pulumi's entry alone and with scripts/bin/pulumi-nodejs-provider-start.js
 * preloaded, run interleaved. NODE_COMPILE_CACHE is set for both, but only the preload writes the cache: the
 * provider is stopped with SIGINT, before Node's own write at exit, so Pulumi's entry alone starts without it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROVIDER_START, runDynamicProvider } from "../test/support/dynamic-provider";
import { conditions, median } from "./engine-noop";
import type { BenchSection } from "./table";

async function startTime(nodeArgs: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
    const run = await runDynamicProvider(nodeArgs, env, { stopAtPort: true });
    if (run.msToPort === undefined) throw new Error(`the provider printed no port:\n${run.stdout}${run.stderr}`);
    return run.msToPort;
}

export async function providerStartTimes(runs = Number(process.env.BENCH_PROVIDER_RUNS ?? 15)): Promise<BenchSection> {
    if (!Number.isInteger(runs) || runs < 1) {
        throw new Error(`BENCH_PROVIDER_RUNS must be a whole number of at least 1 (got ${process.env.BENCH_PROVIDER_RUNS})`);
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-bench-provider-"));
    const env = { NODE_COMPILE_CACHE: path.join(tmp, "compile-cache") };
    const variants = { stock: [] as string[], preloaded: ["--require", PROVIDER_START] };
    const times = { stock: [] as number[], preloaded: [] as number[] };
    try {
        // One untimed start each fills the compile cache.
        for (const args of Object.values(variants)) await startTime(args, env);
        const before = conditions();
        for (let i = 0; i < runs; i++) {
            for (const variant of i % 2 === 0 ? (["stock", "preloaded"] as const) : (["preloaded", "stock"] as const)) {
                times[variant].push(await startTime(variants[variant], env));
            }
        }
        const ms = (values: readonly number[]) =>
            `${median(values).toFixed(0)} (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;
        return {
            title: "Dynamic-provider start, spawn to port (ms, median (min–max))",
            columns: ["Pulumi's entry alone", "with pulumi-nodejs-provider-start.js", "preloaded / alone"],
            rows: [[ms(times.stock), ms(times.preloaded), (median(times.preloaded) / median(times.stock)).toFixed(2)]],
            notes: [
                `${runs} starts each (BENCH_PROVIDER_RUNS), interleaved, after one untimed start each, stopped with SIGINT as the`,
                "engine stops providers; NODE_COMPILE_CACHE set for both, written only by the preload (see its header).",
                `Conditions: before ${before}; after ${conditions()}.`,
            ],
        };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}
