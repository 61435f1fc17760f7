/**
 * The gce runtime's high availability, for real on loopback: three real step-ca replicas running the ca.json the
 * program renders for the gce runtime (PostgreSQL `db`, Cloud KMS through Application Default Credentials, which
 * find a STAND-IN of the metadata server as on a VM: no key file anywhere) on one
 * real PostgreSQL server (standing in for Cloud SQL; the DSN and PGPASSFILE line are lib/gce/database.ts's, pointed
 * at it instead of the Cloud SQL Auth Proxy), behind real HAProxy in `mode tcp` with HTTPS health checks (standing
 * in for the passthrough Network Load Balancer), all signing through the KMS emulator. Several clients issue
 * certificates through the load balancer while one replica is killed and later restarted.
 *
 * Each replica's ca.json differs from the rendered one in `address` only: on one host they cannot share a port,
 * and the program's `:port` would listen beyond loopback.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { DATABASE_NAME, DATABASE_USER, stepCaDatabase } from "../../lib/gce/database";
import { loadBalancerHealthCheck } from "../../lib/gce/load-balancing";
import { CONTAINER_SECRETS, UNIT_RESTART_SEC } from "../../lib/gce/vm-boot";
import { decryptProvisionerKey } from "../../lib/step-ca/jwk-provisioner";
import { prepareInteropCa } from "../interop/support/interop-ca";
import type { StepCaProcess } from "../interop/support/step-ca-process";
import { freePort } from "../support/free-port";
import { STEP_TOOLS_NEEDED, expectSuccess, run } from "../interop/support/step-tools";
import { POSTGRES_BIN_DIR, realToolsPresent } from "../support/real-tools";
import { HA_TOOLS_NEEDED, installHaTools } from "./support/ha-tools";
import { renderHaproxyConfig, startHaproxy } from "./support/haproxy";
import { startPostgres } from "./support/postgres-server";
import { startMetadataStandIn } from "../vm-boot/support/google-standins";
import { type Issued, SignClient, privateKeyPem } from "./support/sign-client";

/** Certificates to issue, clients issuing them at once, and when the replica goes and comes back. */
const TOTAL = 360;
const CLIENTS = 6;
const KILL_AFTER = 90;
const RESTART_AFTER = 180;
/** Held back until the restarted replica is in rotation again, so it must serve some of them. */
const AFTER_RESTART = 60;
/** Google's health-check seconds as HAProxy milliseconds: a 5 s interval becomes 500 ms. */
const MS_PER_SECOND = 100;
const SERVER_NAME = "localhost";

test("HA: 3 real step-ca replicas on one PostgreSQL behind HAProxy keep issuing while one is killed and restarted", { timeout: 20 * 60_000 }, async (t) => {
    const name = "the HA test (step-ca replicas, PostgreSQL, HAProxy)";
    if (!realToolsPresent(t, name, STEP_TOOLS_NEEDED)) return;
    const installError = await installHaTools();
    if (installError) console.error(installError);
    if (!realToolsPresent(t, name, HA_TOOLS_NEEDED)) return;

    // --- the shared database, then the CA as the gce runtime renders it, its DSN at that database -----------------
    const pg = await startPostgres(POSTGRES_BIN_DIR);
    t.after(() => pg.stop());
    const ca = await prepareInteropCa(t, {
        database: stepCaDatabase(pg.address),
        kmsCredentials: "applicationDefault",
    });
    const rendered = JSON.parse(ca.rendered.caJson as string);
    assert.deepEqual(rendered.db, {
        type: "postgresql",
        dataSource: `postgresql://${DATABASE_USER}@127.0.0.1:${pg.address.port}/?sslmode=disable`,
        database: DATABASE_NAME,
    });
    assert.deepEqual(rendered.kms, { type: "cloudkms" }, "gce: no credentials file, Application Default Credentials");
    const metadata = await startMetadataStandIn({ project: ca.config.project, email: `step-ca@${ca.config.project}.iam.gserviceaccount.com` });
    t.after(() => metadata.stop());
    // The password only in PGPASSFILE, beside the provisioner password as on the VM (CONTAINER_SECRETS).
    assert.equal(path.basename(CONTAINER_SECRETS.pgpass), "pgpass");
    const pgpass = path.join(path.dirname(ca.files.password), path.basename(CONTAINER_SECRETS.pgpass));
    fs.copyFileSync(pg.pgpassFile, pgpass);
    fs.chmodSync(pgpass, 0o400);

    // --- three replicas, started together as a new instance group's VMs boot ---------------------------------------
    const ports = [await freePort(), await freePort(), await freePort()];
    const replicaConfig = ports.map((port, i) => {
        const file = path.join(path.dirname(ca.files.caJson), `ca-replica-${i}.json`);
        fs.writeFileSync(file, JSON.stringify({ ...rendered, address: `127.0.0.1:${port}` }, null, "\t"), { mode: 0o600 });
        return file;
    });
    // Like the VM's systemd unit (Restart=always): a replica that exits is started again, RestartSec scaled down.
    // On an empty database the replicas race to create step-ca's tables and the losers exit at first boot.
    const exits: string[] = [];
    const startReplica = async (i: number): Promise<StepCaProcess> => {
        for (let attempt = 1; ; attempt++) {
            try {
                return await ca.startStepCa({
                    caJson: replicaConfig[i],
                    port: ports[i],
                    // No credentials file: ADC falls through to the metadata server (GCE_METADATA_HOST), as on a VM.
                    env: { PGPASSFILE: pgpass, GOOGLE_APPLICATION_CREDENTIALS: undefined, GCE_METADATA_HOST: metadata.host },
                });
            } catch (e) {
                const message = (e as Error).message;
                if (!message.includes("exited") || attempt >= 5) throw e;
                const reason = message.split("\n").filter((l) => /error/i.test(l)).pop() ?? message.split("\n")[0];
                exits.push(`replica-${i}: ${reason.trim()}`);
                await new Promise((r) => setTimeout(r, UNIT_RESTART_SEC * MS_PER_SECOND));
            }
        }
    };
    const started = Date.now();
    const replicas: StepCaProcess[] = await Promise.all(ports.map((_, i) => startReplica(i)));
    console.log(
        `HA: 3 replicas healthy ${Date.now() - started} ms after a simultaneous start on an empty database, ` +
            `${exits.length} restart(s) on the way${exits.length ? ` (${exits.join("; ")})` : ""}`,
    );
    const tokens = metadata.requests.filter((r) => r.url.startsWith("/computeMetadata/v1/instance/service-accounts/default/token") && r.status === 200);
    assert.ok(tokens.length >= 3, `every replica took its Cloud KMS token from the metadata server (${tokens.length})`);
    const tables = (await pg.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).split("\n");
    for (const table of ["x509_certs", "x509_certs_data", "revoked_x509_certs", "used_ott"]) {
        assert.ok(tables.includes(table), `step-ca created ${table} in the shared database (has: ${tables.join(", ")})`);
    }

    // --- the load balancer ------------------------------------------------------------------------------------------
    const lbPort = await freePort();
    const haDir = fs.mkdtempSync(path.join(ca.tmp, "haproxy-"));
    const rootFile = path.join(haDir, "root.pem");
    fs.writeFileSync(rootFile, ca.rootPem);
    const statsSocket = path.join(haDir, "stats.sock");
    const cfg = path.join(haDir, "haproxy.cfg");
    const backends = ports.map((port, i) => ({ name: `replica-${i}`, port }));
    fs.writeFileSync(
        cfg,
        renderHaproxyConfig({
            listenPort: lbPort,
            backends,
            health: loadBalancerHealthCheck(lbPort),
            msPerSecond: MS_PER_SECOND,
            serverName: SERVER_NAME,
            caFile: rootFile,
            statsSocket,
        }),
    );
    const lb = await startHaproxy("haproxy", cfg, statsSocket);
    t.after(() => lb.stop());
    for (const b of backends) await lb.waitForStatus(b.name, "UP", 30_000);

    // --- clients through the load balancer; one replica killed, later restarted -------------------------------------
    const provisioner = rendered.authority.provisioners.find((p: { type: string }) => p.type === "JWK");
    const client = new SignClient({
        port: lbPort,
        serverName: SERVER_NAME,
        rootPem: ca.rootPem,
        provisionerName: provisioner.name,
        provisionerKey: await decryptProvisionerKey(provisioner.encryptedKey, ca.rendered.provisionerPassword as string),
        maxAttempts: 8,
        attemptTimeoutMs: 15_000,
    });
    const victim = 1;
    const issued: Issued[] = [];
    const failures: string[] = [];
    let next = 0;
    let completed = 0;
    let rejoined = false;
    const waitUntil = async (condition: () => boolean, what: string, timeoutMs = 120_000) => {
        const until = Date.now() + timeoutMs;
        while (!condition()) {
            if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
            await new Promise((r) => setTimeout(r, 20));
        }
    };
    const events: Record<string, number> = {};
    let sessionsAtRejoin = 0;
    const controller = (async () => {
        try {
            await waitUntil(() => completed >= KILL_AFTER, `${KILL_AFTER} issuances`);
            events.killed = Date.now();
            replicas[victim].child.kill("SIGKILL"); // the VM is gone, mid-traffic
            events.markedDown = await lb.waitForStatus(backends[victim].name, "DOWN", 30_000);
            await waitUntil(() => completed >= RESTART_AFTER, `${RESTART_AFTER} issuances`);
            events.restarted = Date.now();
            replicas[victim] = await startReplica(victim);
            events.healthy = Date.now();
            events.markedUp = await lb.waitForStatus(backends[victim].name, "UP", 30_000);
            sessionsAtRejoin = (await lb.servers()).find((s) => s.name === backends[victim].name)!.sessions;
        } finally {
            rejoined = true;
        }
    })();
    const issueStarted = Date.now();
    const worker = async (w: number) => {
        for (;;) {
            const i = next++;
            if (i >= TOTAL) return;
            if (i >= TOTAL - AFTER_RESTART) await waitUntil(() => rejoined, "the restarted replica");
            try {
                issued.push(await client.issue(`ha-${w}-${i}.example.test`));
            } catch (e) {
                failures.push((e as Error).message);
            }
            completed++;
        }
    };
    await Promise.all([...Array(CLIENTS).keys()].map(worker));
    const issueSeconds = (Date.now() - issueStarted) / 1000;
    await controller;
    const servers = await lb.servers();

    // --- figures ----------------------------------------------------------------------------------------------------
    const retried = issued.filter((c) => c.attempts > 1);
    const byDone = [...issued].sort((a, b) => a.doneAt - b.doneAt);
    let stall = 0;
    for (let i = 1; i < byDone.length; i++) stall = Math.max(stall, byDone[i].doneAt - byDone[i - 1].doneAt);
    const retriedLatency = Math.max(0, ...retried.map((c) => c.doneAt - c.startedAt));
    const figures = [
        `${issued.length} certificates in ${issueSeconds.toFixed(1)} s through HAProxy: ${(issued.length / issueSeconds).toFixed(1)} issuances/s with ${CLIENTS} clients`,
        `failover gap: ${events.markedDown - events.killed} ms from SIGKILL of replica-${victim} to HAProxy marking it DOWN ` +
            `(check every ${loadBalancerHealthCheck(lbPort).checkIntervalSec * MS_PER_SECOND} ms, ${loadBalancerHealthCheck(lbPort).unhealthyThreshold} failures)`,
        `clients saw ${retried.reduce((n, c) => n + c.retried.length, 0)} failed attempts on ${retried.length} certificates, all retried ` +
            `(slowest retried issuance ${retriedLatency} ms; longest pause between two issuances ${stall} ms)`,
        `replica-${victim} restarted: healthy after ${events.healthy - events.restarted} ms, back in rotation after ${events.markedUp - events.restarted} ms`,
        `sessions per replica: ${servers.map((s) => `${s.name} ${s.sessions}`).join(", ")}`,
    ];
    for (const line of figures) {
        console.log(`HA: ${line}`);
        t.diagnostic(line);
    }
    if (retried.length > 0) console.log(`HA: e.g. retried after: ${retried[0].retried[0]}`);

    // --- zero failures, unique serials, every chain verifies ------------------------------------------------------
    assert.deepEqual(failures, [], "no issuance failed after the client's retries");
    assert.equal(issued.length, TOTAL);
    assert.equal(new Set(issued.map((c) => c.leaf.serialNumber)).size, TOTAL, "every serial is unique");
    const root = new X509Certificate(ca.rootPem);
    const intermediate = new X509Certificate(ca.intermediatePem);
    for (const c of issued) {
        assert.equal(c.chain.length, 1, `${c.name}: step-ca returns the intermediate`);
        assert.equal(c.chain[0].fingerprint256, intermediate.fingerprint256, `${c.name}: the program's intermediate`);
        assert.ok(c.leaf.checkIssued(intermediate) && c.leaf.verify(intermediate.publicKey), `${c.name}: signed by the intermediate`);
        assert.equal(c.leaf.subjectAltName, `DNS:${c.name}`);
    }
    assert.ok(intermediate.verify(root.publicKey));
    const leavesDir = fs.mkdtempSync(path.join(ca.tmp, "leaves-"));
    const leafFiles = issued.map((c, i) => {
        const file = path.join(leavesDir, `${i}.crt`);
        fs.writeFileSync(file, c.leafPem);
        return file;
    });
    const verified = expectSuccess(
        "openssl verify",
        await run("openssl", ["verify", "-CAfile", ca.files.rootCert, "-untrusted", ca.files.intermediateCert, ...leafFiles], { timeoutMs: 120_000 }),
    );
    assert.equal(verified.stdout.split("\n").filter((l) => l.endsWith(": OK")).length, TOTAL, "openssl verifies every chain");
    const stored = Number(await pg.query("SELECT count(*) FROM x509_certs"));
    assert.ok(stored >= TOTAL, `the shared database holds every certificate (${stored})`);
    assert.ok(events.markedDown > events.killed, "HAProxy took the killed replica out");
    const victimSessions = servers.find((s) => s.name === backends[victim].name)!.sessions;
    assert.ok(victimSessions > sessionsAtRejoin, `the restarted replica served again (${sessionsAtRejoin} → ${victimSessions} sessions)`);

    // --- a one-time token used at one replica is refused at another (used tokens are in the shared database) -------
    const replayed = "replay.example.test";
    const replayBody = JSON.stringify({ csr: (await client.csr(replayed)).csrPem, ott: await client.token(replayed) });
    assert.equal((await client.post(replayBody, ports[0])).status, 201, "the token works once, at replica-0");
    const replayLog = replicas[2].log().length;
    const replay = await client.post(replayBody, ports[2]);
    assert.equal(replay.status, 401, `the same token at replica-2 is refused: ${replay.body}`);
    await assertLogged(replicas[2], replayLog, /token already used/, "replica-2 refused the token as used");
    console.log("HA: a one-time token used at replica-0 was refused at replica-2 (token already used)");

    // --- revoked through one replica, refused renewal through another ---------------------------------------------
    const files = async (c: Issued, label: string) => {
        const crt = path.join(ca.tmp, `${label}.crt`);
        const key = path.join(ca.tmp, `${label}.key`);
        fs.writeFileSync(crt, c.leafPem + c.chainPem);
        fs.writeFileSync(key, await privateKeyPem(c.privateKey), { mode: 0o600 });
        return { crt, key };
    };
    const url = (i: number) => `https://${SERVER_NAME}:${ports[i]}`;
    const renew = (f: { crt: string; key: string }, i: number) =>
        ca.cli(["ca", "renew", f.crt, f.key, "--ca-url", url(i), "--root", ca.files.rootCert, "--out", `${f.crt}.renewed`, "--force"]);
    const kept = await files(issued[1], "kept");
    const renewed = expectSuccess("step ca renew (not revoked) through replica-2", await renew(kept, 2));
    assert.notEqual(new X509Certificate(fs.readFileSync(`${kept.crt}.renewed`)).serialNumber, issued[1].leaf.serialNumber, renewed.stderr);

    const revoked = await files(issued[0], "revoked");
    expectSuccess(
        `step ca revoke through replica-${victim} (the restarted one)`,
        await ca.cli(["ca", "revoke", "--cert", revoked.crt, "--key", revoked.key, "--ca-url", url(victim), "--root", ca.files.rootCert]),
    );
    const serialDecimal = BigInt(`0x${issued[0].leaf.serialNumber}`).toString();
    assert.equal(await pg.query(`SELECT count(*) FROM revoked_x509_certs WHERE nkey = '${serialDecimal}'::bytea`), "1", "revocation stored in the shared database");
    for (const other of [0, 2]) {
        const before = replicas[other].log().length;
        const refused = await renew(revoked, other);
        assert.notEqual(refused.code, 0, `renewal of the revoked certificate through replica-${other} must be refused`);
        assert.match(refused.stderr, /lacked necessary authorization/, refused.stderr);
        await assertLogged(replicas[other], before, /authorizeRenew: certificate has been revoked/, `replica-${other} refused it as revoked`);
    }
    console.log(`HA: certificate ${issued[0].leaf.serialNumber} revoked through replica-${victim}, renewal refused through replica-0 and replica-2`);
});

/** Asserts that `replica` logs `pattern` after offset `from`; step-ca may log a refusal just after answering. */
async function assertLogged(replica: StepCaProcess, from: number, pattern: RegExp, message: string): Promise<void> {
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        if (pattern.test(replica.log().slice(from))) return;
    }
    assert.match(replica.log().slice(from), pattern, message);
}
