import { type ChildProcess, spawn } from "node:child_process";
import * as https from "node:https";

/** A running step-ca and its combined log (step-ca logs to stderr). */
export interface StepCaProcess {
    child: ChildProcess;
    /** Everything step-ca printed so far. */
    log(): string;
    /** GET /health over TLS, trusting only `rootPem`; resolves to the status code and body. */
    health(): Promise<{ status: number; body: string }>;
    stop(): Promise<void>;
}

export interface StartStepCaOptions {
    stepCa: string;
    /** step-ca's arguments, e.g. `["--password-file", file, caJson]`. */
    args: string[];
    /** The environment for step-ca, complete (nothing is inherited). */
    env: NodeJS.ProcessEnv;
    /** 127.0.0.1 port step-ca listens on (the rendered ca.json's address). */
    port: number;
    /** A DNS name from ca.json's dnsNames, sent as TLS SNI and checked against step-ca's server certificate. */
    serverName: string;
    rootPem: string;
    /** How long to wait for /health; step-ca calls Cloud KMS GetPublicKey before it listens. */
    timeoutMs?: number;
}

export async function startStepCa(o: StartStepCaOptions): Promise<StepCaProcess> {
    const child = spawn(o.stepCa, o.args, { env: o.env, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (log += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (log += d));
    let exited: string | undefined;
    const closed = new Promise<void>((resolve) =>
        child.once("close", (code, signal) => {
            exited = `step-ca exited (code ${code}, signal ${signal})`;
            resolve();
        }),
    );
    child.once("error", (e) => (exited = `step-ca failed to start: ${e.message}`));

    const health = () =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
            const req = https.get(
                {
                    host: "127.0.0.1",
                    port: o.port,
                    path: "/health",
                    servername: o.serverName,
                    ca: o.rootPem,
                    timeout: 5000,
                    agent: false,
                },
                (res) => {
                    let body = "";
                    res.setEncoding("utf8").on("data", (d: string) => (body += d));
                    res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
                },
            );
            req.on("timeout", () => req.destroy(new Error("GET /health timed out")));
            req.on("error", reject);
        });

    const stop = async () => {
        if (exited === undefined) {
            child.kill("SIGTERM");
            const t = setTimeout(() => child.kill("SIGKILL"), 5000);
            await closed;
            clearTimeout(t);
        }
    };

    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    let lastError = "";
    for (;;) {
        if (exited !== undefined) {
            throw new Error(`${exited} before /health answered. step-ca log:\n${log}`);
        }
        try {
            const h = await health();
            if (h.status === 200) break;
            lastError = `HTTP ${h.status} ${h.body}`;
        } catch (e) {
            lastError = (e as Error).message;
        }
        if (Date.now() > deadline) {
            await stop();
            throw new Error(`step-ca /health did not answer within ${o.timeoutMs ?? 60_000} ms (${lastError}). step-ca log:\n${log}`);
        }
        await new Promise((r) => setTimeout(r, 200));
    }
    return { child, log: () => log, health, stop };
}

