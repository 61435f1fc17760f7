/**
 * A server the tests run as a child process (PostgreSQL, HAProxy): its stdout and stderr as one log, whether it has
 * exited (so a start loop can fail with why, not time out), and a stop that escalates to SIGKILL.
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";

export interface Daemon {
    readonly child: ChildProcess;
    /** Everything it printed so far. */
    log(): string;
    /** `<name> exited (code …, signal …)` once it has exited. */
    exited(): string | undefined;
    /** Sends `signal` unless it has exited, and SIGKILL if it has not exited `graceMs` later. */
    stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

/** Spawns `file` with stdin closed; `options.stdio` is not used. */
export function startDaemon(name: string, file: string, args: string[], options: SpawnOptions): Daemon {
    const child = spawn(file, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    let exited: string | undefined;
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (log += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (log += d));
    const closed = new Promise<void>((resolve) =>
        child.once("close", (code, signal) => {
            exited = `${name} exited (code ${code}, signal ${signal})`;
            resolve();
        }),
    );
    return {
        child,
        log: () => log,
        exited: () => exited,
        stop: async (signal, graceMs) => {
            if (exited !== undefined) return;
            child.kill(signal);
            const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
            await closed;
            clearTimeout(t);
        },
    };
}
