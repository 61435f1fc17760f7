/**
 * HAProxy (Debian's) as the gce runtime's TCP passthrough load balancer on loopback: `mode tcp`, so step-ca
 * terminates its own TLS; an HTTPS health check on /health with the thresholds of the Google health check the
 * program creates (lib/gce/load-balancing.ts), its intervals scaled down so the test runs in seconds. Like a
 * passthrough Network Load Balancer it does not redispatch a failed connection to another replica: the client
 * retries.
 */
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import type { HttpsHealthCheck } from "../../../lib/gce/load-balancing";
import { type RunResult, run } from "../../interop/support/step-tools";
import { startDaemon } from "../../support/daemon";

export interface Backend {
    readonly name: string;
    readonly port: number;
}

export interface HaproxyConfig {
    readonly listenPort: number;
    readonly backends: readonly Backend[];
    readonly health: HttpsHealthCheck;
    /** Seconds of the Google check become this many milliseconds (e.g. 100: a 5 s interval is 500 ms). */
    readonly msPerSecond: number;
    /** TLS name the check sends and verifies against `caFile` (step-ca's root). */
    readonly serverName: string;
    readonly caFile: string;
    readonly statsSocket: string;
}

/** haproxy.cfg for the config above; everything on 127.0.0.1. */
export function renderHaproxyConfig(c: HaproxyConfig): string {
    const ms = (seconds: number) => `${seconds * c.msPerSecond}ms`;
    const h = c.health;
    return [
        "global",
        `    stats socket ${c.statsSocket} mode 600 level admin`,
        "    maxconn 2000",
        "defaults",
        "    mode tcp",
        "    timeout connect 2s",
        "    timeout client 30s",
        "    timeout server 30s",
        `    timeout check ${ms(h.timeoutSec)}`,
        // A refused connection is not tried on another server (no `option redispatch`), as with Google's NLB.
        "    retries 0",
        "frontend step-ca",
        `    bind 127.0.0.1:${c.listenPort}`,
        "    default_backend replicas",
        "backend replicas",
        "    balance roundrobin",
        "    option httpchk",
        `    http-check send meth GET uri ${h.httpsHealthCheck.requestPath} ver HTTP/1.1 hdr Host ${c.serverName}`,
        "    http-check expect status 200",
        `    default-server check check-ssl check-sni ${c.serverName} verify required ca-file ${c.caFile} ` +
            `inter ${ms(h.checkIntervalSec)} rise ${h.healthyThreshold} fall ${h.unhealthyThreshold}`,
        ...c.backends.map((b) => `    server ${b.name} 127.0.0.1:${b.port}`),
        "",
    ].join("\n");
}

/** A backend server as `show stat` reports it. */
export interface ServerStat {
    readonly name: string;
    /** UP, DOWN, "UP 1/2", "DOWN 1/2", NOLB, MAINT, ... */
    readonly status: string;
    /** Connections (sessions) it has taken in total. */
    readonly sessions: number;
}

export interface Haproxy {
    readonly child: ChildProcess;
    log(): string;
    /** The backend servers' state, from the stats socket. */
    servers(): Promise<ServerStat[]>;
    /** Polls until `name`'s status is exactly `status`; resolves to when it was seen. */
    waitForStatus(name: string, status: "UP" | "DOWN", timeoutMs: number): Promise<number>;
    stop(): Promise<void>;
}

/** One command on HAProxy's stats socket; it answers and closes. */
function statsCommand(socket: string, command: string): Promise<string> {
    return new Promise((resolve, reject) => {
        let out = "";
        const conn = net.connect(socket, () => conn.end(`${command}\n`));
        conn.setEncoding("utf8").on("data", (d: string) => (out += d));
        conn.setTimeout(5000, () => conn.destroy(new Error(`stats socket: ${command} timed out`)));
        conn.once("error", reject);
        conn.once("close", () => resolve(out));
    });
}

/** Checks the file with `haproxy -c`, then runs HAProxy in the foreground. */
export async function startHaproxy(haproxy: string, configFile: string, statsSocket: string): Promise<Haproxy> {
    const checked: RunResult = await run(haproxy, ["-c", "-f", configFile], { timeoutMs: 15_000 });
    if (checked.code !== 0) throw new Error(`haproxy -c rejected ${configFile}:\n${checked.stdout}${checked.stderr}`);
    const server = startDaemon("haproxy", haproxy, ["-db", "-f", configFile], { cwd: path.dirname(configFile) });

    const servers = async (): Promise<ServerStat[]> => {
        const csv = (await statsCommand(statsSocket, "show stat")).trim().split("\n");
        const header = csv[0].replace(/^# /, "").split(",");
        const col = (row: string[], name: string) => row[header.indexOf(name)];
        return csv
            .slice(1)
            .map((line) => line.split(","))
            .filter((row) => col(row, "pxname") === "replicas" && !["FRONTEND", "BACKEND"].includes(col(row, "svname")))
            .map((row) => ({ name: col(row, "svname"), status: col(row, "status"), sessions: Number(col(row, "stot")) }));
    };

    const deadline = Date.now() + 15_000;
    for (;;) {
        if (server.exited() !== undefined) throw new Error(`${server.exited()} at start:\n${server.log()}`);
        if (fs.existsSync(statsSocket)) {
            try {
                await servers();
                break;
            } catch {
                // not answering yet
            }
        }
        if (Date.now() > deadline) throw new Error(`haproxy's stats socket did not answer within 15 s:\n${server.log()}`);
        await new Promise((r) => setTimeout(r, 100));
    }

    return {
        child: server.child,
        log: server.log,
        servers,
        waitForStatus: async (name, status, timeoutMs) => {
            const until = Date.now() + timeoutMs;
            for (;;) {
                const server = (await servers()).find((s) => s.name === name);
                if (server?.status === status) return Date.now();
                if (Date.now() > until) throw new Error(`haproxy: ${name} not ${status} within ${timeoutMs} ms (${server?.status})`);
                await new Promise((r) => setTimeout(r, 50));
            }
        },
        stop: () => server.stop("SIGTERM", 5000),
    };
}
