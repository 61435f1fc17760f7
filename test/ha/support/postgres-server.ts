/**
 * A real PostgreSQL 15 server (Debian's binaries) for the HA test, as Cloud SQL serves the gce runtime: a database
 * owned by step-ca's built-in user (what `gcp.sql.Database` and `gcp.sql.User` make), password authentication over
 * TCP on 127.0.0.1 only, the password only in a PGPASSFILE. The cluster lives in a temp dir and runs as the
 * `postgres` user when the test runs as root (the server refuses root).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DATABASE_NAME, DATABASE_USER, type DatabaseAddress, pgpassLine } from "../../../lib/gce/database";
import { startDaemon } from "../../support/daemon";
import { freePort } from "../../support/free-port";
import { type RunResult, run } from "../../interop/support/step-tools";

export interface PostgresServer {
    readonly address: DatabaseAddress;
    /** A PGPASSFILE (mode 0600) with step-ca's password for this server, as the VM's secrets directory holds it. */
    readonly pgpassFile: string;
    /** The server's log so far. */
    log(): string;
    /** One SQL statement as step-ca's user over TCP, unaligned tuples only (`psql -AtX`); never waits for input. */
    query(sql: string): Promise<string>;
    stop(): Promise<void>;
}

/** The uid/gid to run the server as: the `postgres` user when we are root, else ourselves. */
function serverIdentity(): { uid: number; gid: number } | undefined {
    if (process.getuid?.() !== 0) return undefined;
    const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
    return { uid: id("-u"), gid: id("-g") };
}

/**
 * Runs a PostgreSQL client or tool to completion: stdin closed (psql would otherwise wait for a password), a
 * connect timeout, `-w` where the caller passes it, and a hard kill after `timeoutMs`.
 */
function runPg(
    file: string,
    args: string[],
    o: { env?: NodeJS.ProcessEnv; identity?: { uid: number; gid: number }; timeoutMs?: number } = {},
): Promise<RunResult> {
    return run(file, args, {
        env: { PATH: process.env.PATH, PGCONNECT_TIMEOUT: "5", ...o.env },
        ...o.identity,
        timeoutMs: o.timeoutMs ?? 30_000,
    });
}

function check(what: string, r: RunResult): string {
    if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
}

export async function startPostgres(binDir: string): Promise<PostgresServer> {
    const identity = serverIdentity();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-ha-pg-"));
    const dataDir = path.join(dir, "data");
    const socketDir = path.join(dir, "socket");
    for (const d of [socketDir, dataDir]) {
        fs.mkdirSync(d, { mode: 0o700 });
        if (identity) fs.chownSync(d, identity.uid, identity.gid);
    }
    // The server's user must reach its directories through ours.
    if (identity) fs.chmodSync(dir, 0o711);
    // Superuser: trust on the private socket only; everyone over TCP: SCRAM passwords.
    check(
        "initdb",
        await runPg(
            path.join(binDir, "initdb"),
            ["-D", dataDir, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"],
            { identity, env: { HOME: dir }, timeoutMs: 120_000 },
        ),
    );

    const port = await freePort();
    const address = { host: "127.0.0.1", port };
    const server = startDaemon(
        "postgres",
        path.join(binDir, "postgres"),
        ["-D", dataDir, "-c", "listen_addresses=127.0.0.1", "-c", `port=${port}`, "-c", `unix_socket_directories=${socketDir}`],
        { env: { PATH: process.env.PATH, HOME: dir }, ...identity },
    );
    const stop = async () => {
        await server.stop("SIGINT", 10_000); // fast shutdown
        fs.rmSync(dir, { recursive: true, force: true });
    };

    try {
        const deadline = Date.now() + 60_000;
        for (;;) {
            if (server.exited() !== undefined) throw new Error(`${server.exited()} before accepting connections:\n${server.log()}`);
            const ready = await runPg(path.join(binDir, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-t", "1"], { timeoutMs: 5_000 });
            if (ready.code === 0) break;
            if (Date.now() > deadline) throw new Error(`postgres not ready within 60 s: ${ready.stdout}${ready.stderr}\n${server.log()}`);
            await new Promise((r) => setTimeout(r, 200));
        }

        const password = randomBytes(18).toString("base64url");
        const superuser = (sql: string) =>
            runPg(path.join(binDir, "psql"), ["-w", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", socketDir, "-p", String(port), "-U", "postgres", "-d", "postgres", "-c", sql], {
                identity,
                env: { HOME: dir },
            });
        check("CREATE ROLE", await superuser(`CREATE ROLE "${DATABASE_USER}" LOGIN PASSWORD '${password}'`));
        check("CREATE DATABASE", await superuser(`CREATE DATABASE ${DATABASE_NAME} OWNER "${DATABASE_USER}"`));

        const pgpassFile = path.join(dir, "pgpass");
        fs.writeFileSync(pgpassFile, `${pgpassLine(address)}${password}\n`, { mode: 0o600 });
        const query = async (sql: string) =>
            check(
                `psql -c ${JSON.stringify(sql)}`,
                await runPg(
                    path.join(binDir, "psql"),
                    ["-w", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", address.host, "-p", String(port), "-U", DATABASE_USER, "-d", DATABASE_NAME, "-c", sql],
                    { env: { HOME: dir, PGPASSFILE: pgpassFile }, timeoutMs: 15_000 },
                ),
            ).trim();
        return { address, pgpassFile, log: server.log, query, stop };
    } catch (e) {
        await stop();
        throw e;
    }
}
