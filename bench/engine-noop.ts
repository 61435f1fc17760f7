/**
 * A no-op `pulumi preview` and `pulumi up --yes` of the local stack against the same commands on an empty TypeScript
 * Pulumi program (`pulumi new typescript`'s index.ts, tsconfig.json and package.json), with the same CLI
 * (scripts/install-pulumi.sh), file backend, passphrase secrets and node_modules. The two programs are measured
 * interleaved (empty, stack, empty, stack, ...) so that load from other processes hits both alike. Each timed command
 * runs with `--expect-no-changes`: a run that would change something fails the bench instead of being timed.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { startKmsEmulator } from "../kms-emulator/index";
import type { BenchSection } from "./table";

const run = promisify(execFile);
const REPO = path.resolve(__dirname, "..");
const STACK = "bench";
/** The program's files, linked into the throwaway project (as test/engine does). */
const PROGRAM_ENTRIES = ["index.ts", "components", "dynamic-providers", "lib", "package.json", "tsconfig.json", "node_modules"];

/** `pulumi new typescript`, without its dependencies' install: what an empty TypeScript Pulumi program is. */
const EMPTY_PROGRAM: Record<string, string> = {
    "Pulumi.yaml": "name: empty\nruntime: nodejs\ndescription: An empty TypeScript Pulumi program\n",
    "index.ts": 'import * as pulumi from "@pulumi/pulumi";\n',
    "package.json": JSON.stringify({
        name: "empty",
        main: "index.ts",
        devDependencies: { "@types/node": "*", typescript: "*" },
        dependencies: { "@pulumi/pulumi": "*" },
    }),
    "tsconfig.json": JSON.stringify({
        compilerOptions: {
            strict: true,
            outDir: "bin",
            target: "es2020",
            module: "commonjs",
            moduleResolution: "node",
            sourceMap: true,
            experimentalDecorators: true,
            pretty: true,
            noFallthroughCasesInSwitch: true,
            noImplicitReturns: true,
            forceConsistentCasingInFileNames: true,
        },
        files: ["index.ts"],
    }),
};

/** The empty program plus one dynamic resource whose provider does nothing: the floor of any program with one. */
const ONE_DYNAMIC_PROGRAM: Record<string, string> = {
    ...EMPTY_PROGRAM,
    "Pulumi.yaml": "name: one-dynamic\nruntime: nodejs\ndescription: One do-nothing dynamic resource\n",
    "index.ts": [
        'import * as pulumi from "@pulumi/pulumi";',
        "const provider: pulumi.dynamic.ResourceProvider = {",
        '    async create() { return { id: "one", outs: {} }; },',
        "};",
        "class One extends pulumi.dynamic.Resource {}",
        'new One(provider, "one", {});',
        "",
    ].join("\n"),
};

/** Builds (or finds cached) the CLI; returns its bin directory. */
export async function pulumiBinDir(): Promise<string> {
    const { stdout } = await run("bash", [path.join(REPO, "scripts/install-pulumi.sh")], {
        cwd: REPO,
        maxBuffer: 64 * 1024 * 1024,
    });
    return stdout.trim().split("\n").pop()!;
}

export function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** "1.23 s (1.10–1.41)": median and range of seconds. */
function summary(ms: readonly number[]): string {
    const s = (v: number) => (v / 1000).toFixed(2);
    return `${s(median(ms))} (${s(Math.min(...ms))}–${s(Math.max(...ms))})`;
}

/** Machine conditions, printed with the figures. */
export function conditions(): string {
    const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
    return `${os.cpus().length} CPUs, load average ${load}, Node ${process.version}`;
}

const COMMANDS = {
    preview: ["preview", "--expect-no-changes"],
    up: ["up", "--yes", "--expect-no-changes"],
} as const;

export async function engineNoopRatios(runs = Number(process.env.BENCH_ENGINE_RUNS ?? 7)): Promise<BenchSection> {
    if (!Number.isInteger(runs) || runs < 1) {
        throw new Error(`BENCH_ENGINE_RUNS must be a whole number of at least 1 (got ${process.env.BENCH_ENGINE_RUNS})`);
    }
    const binDir = await pulumiBinDir();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-bench-engine-"));
    const emulator = await startKmsEmulator({ port: 0, hsmPendingMs: 0 });
    const dirs = { empty: path.join(tmp, "empty"), oneDynamic: path.join(tmp, "one-dynamic"), stack: path.join(tmp, "stack") };
    const programs = Object.keys(dirs) as (keyof typeof dirs)[];
    const env = {
        ...process.env,
        PATH: [binDir, path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
        PULUMI_BACKEND_URL: `file://${path.join(tmp, "state")}`,
        PULUMI_HOME: path.join(tmp, "pulumi-home"),
        PULUMI_CONFIG_PASSPHRASE: "bench",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
    };
    const pulumi = async (program: keyof typeof dirs, args: readonly string[]): Promise<number> => {
        const started = performance.now();
        await run(path.join(binDir, "pulumi"), [...args, "--non-interactive", "--stack", STACK], {
            cwd: dirs[program],
            env,
            maxBuffer: 64 * 1024 * 1024,
        }).catch((error: { stderr?: string; stdout?: string }) => {
            throw new Error(`pulumi ${args.join(" ")} (${program}) failed:\n${error.stdout ?? ""}${error.stderr ?? ""}`);
        });
        return performance.now() - started;
    };
    try {
        fs.mkdirSync(path.join(tmp, "state"));
        for (const [program, files] of [["empty", EMPTY_PROGRAM], ["oneDynamic", ONE_DYNAMIC_PROGRAM]] as const) {
            fs.mkdirSync(dirs[program]);
            for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dirs[program], file), text);
            fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dirs[program], "node_modules"));
            fs.writeFileSync(path.join(dirs[program], `Pulumi.${STACK}.yaml`), "config: {}\n");
        }
        fs.mkdirSync(dirs.stack);
        for (const entry of PROGRAM_ENTRIES) fs.symlinkSync(path.join(REPO, entry), path.join(dirs.stack, entry));
        fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(dirs.stack, "Pulumi.yaml"));
        // Pulumi.local.yaml with this bench's emulator and bundle directory.
        const local = fs
            .readFileSync(path.join(REPO, "Pulumi.local.yaml"), "utf8")
            .replace(/^(\s*stepca-cloudkms:kmsEndpoint:).*$/m, `$1 "${emulator.address}"`)
            .replace(/^(\s*stepca-cloudkms:localBundleDir:).*$/m, `$1 "${path.join(tmp, "bundle")}"`)
            .replace(/^encryptionsalt:.*\n?/m, "");
        fs.writeFileSync(path.join(dirs.stack, `Pulumi.${STACK}.yaml`), local);

        for (const program of programs) {
            await run(path.join(binDir, "pulumi"), ["stack", "init", STACK, "--secrets-provider", "passphrase", "--non-interactive"], {
                cwd: dirs[program],
                env,
            });
            await pulumi(program, ["up", "--yes"]);
            // One untimed no-op each: the first run after a change compiles (ts-node's cache) and serializes.
            await pulumi(program, COMMANDS.preview);
        }

        const before = conditions();
        const times = Object.fromEntries(
            (["preview", "up"] as const).map((command) => [command, Object.fromEntries(programs.map((p) => [p, [] as number[]]))]),
        ) as Record<"preview" | "up", Record<keyof typeof dirs, number[]>>;
        for (let i = 0; i < runs; i++) {
            for (const command of ["preview", "up"] as const) {
                // Rotate which program goes first, so none always runs right after another's same command.
                const order = programs.map((_, k) => programs[(k + i) % programs.length]);
                for (const program of order) times[command][program].push(await pulumi(program, COMMANDS[command]));
            }
        }
        const after = conditions();

        const rows = (["preview", "up"] as const).map((command) => {
            const { empty, oneDynamic, stack } = times[command];
            return [
                command === "preview" ? "pulumi preview" : "pulumi up --yes",
                summary(empty),
                summary(oneDynamic),
                summary(stack),
                (median(stack) / median(empty)).toFixed(2),
                (median(oneDynamic) / median(empty)).toFixed(2),
            ];
        });
        return {
            title: "No-op runs on the real engine: empty TypeScript program vs the local stack (s, median (min–max))",
            columns: ["command", "empty program", "one dynamic resource", "local stack", "stack / empty", "one dynamic / empty"],
            rows,
            notes: [
                `${runs} runs of each command per program (BENCH_ENGINE_RUNS), interleaved, after one untimed up and one`,
                "untimed preview each. Same CLI (scripts/install-pulumi.sh: Pulumi v3.276.0, language host v3.68.0), file",
                "backend, passphrase secrets and node_modules; the stack's KMS emulator runs in the bench process. Each timed",
                "run passes --expect-no-changes. Goal: stack / empty at or under 1.3 for both commands. `one dynamic resource`",
                "is the empty program plus one do-nothing pulumi.dynamic.Resource: what any program with a dynamic provider",
                "pays on this CLI (the provider's own Node process, @pulumi/pulumi loaded in full).",
                `Node's compile cache: ${process.env.NODE_COMPILE_CACHE ? `NODE_COMPILE_CACHE=${process.env.NODE_COMPILE_CACHE}, for all three programs` : "NODE_COMPILE_CACHE unset (npm run local sets it)"}.`,
                `Conditions: before ${before}; after ${after}.`,
            ],
        };
    } finally {
        for (const program of programs) {
            await run(path.join(binDir, "pulumi"), ["destroy", "--yes", "--non-interactive", "--stack", STACK], {
                cwd: dirs[program],
                env,
            }).catch(() => undefined);
        }
        await emulator.stop();
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}
