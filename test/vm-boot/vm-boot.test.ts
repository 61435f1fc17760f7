/**
 * The gce runtime's VM boot path, run: the cloud-config the instance template carries (lib/gce/vm-boot.ts, from a
 * CA minted by the program's providers on the KMS emulator) is applied to a stand-in VM file system, its fetch
 * script (real bash and curl) takes a token from a STAND-IN metadata server and reads the secrets (ca.json among
 * them) from a STAND-IN Secret Manager into the tmpfs directory, and the step-ca unit's own `docker run` starts the step-ca container
 * on a real Docker engine (with the test-only stand-in image, since no registry is reachable), which gets its
 * Cloud KMS token from the same metadata stand-in: keyless, as on a VM.
 *
 * What differs from a VM, each because it cannot exist here: the Cloud SQL Auth Proxy is not started (no Cloud SQL;
 * its image cannot be pulled), so ca.json's DSN names a local PostgreSQL server instead of the proxy's
 * 127.0.0.1:5432; ca.json listens on 127.0.0.1:<port> instead of :<port> (loopback only); the VM's paths lie below
 * a temp dir; and the container gets the test's routes to the emulator (HTTPS_PROXY, the test CA) and the metadata
 * stand-in's address (GCE_METADATA_HOST) on top of the unit's arguments.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { SETTINGS } from "../../lib/config/settings";
import { stepCaDatabase } from "../../lib/gce/database";
import {
    CONTAINER_SECRETS,
    VM_PATHS,
    type VmBootSpec,
    cloudSqlProxyDockerRun,
    renderCloudConfig,
    stepCaDockerRun,
} from "../../lib/gce/vm-boot";
import { STEP_USER } from "../../lib/step-ca/container";
import { decryptProvisionerKey } from "../../lib/step-ca/jwk-provisioner";
import { CONTAINER_LAYOUT } from "../../lib/step-ca/layout";
import { prepareInteropCa } from "../interop/support/interop-ca";
import { STEP_TOOLS_NEEDED, run } from "../interop/support/step-tools";
import { dockerEnginePresent, standinImage } from "../support/docker-engine";
import { POSTGRES_BIN_DIR, cannotRun, realToolsPresent } from "../support/real-tools";
import { HA_TOOLS_NEEDED, installHaTools } from "../ha/support/ha-tools";
import { startPostgres } from "../ha/support/postgres-server";
import { SignClient } from "../ha/support/sign-client";
import { startMetadataStandIn, startSecretManagerStandIn } from "./support/google-standins";
import { VmFileSystem, parseCloudConfig, parseUnit } from "./support/vm-standin";

/** The project prepareInteropCa uses. */
const PROJECT = "stepca-interop";
const SERVICE_ACCOUNT = `step-ca@${PROJECT}.iam.gserviceaccount.com`;
const VERSIONS = {
    password: `projects/${PROJECT}/secrets/step-ca-password/versions/1`,
    pgpass: `projects/${PROJECT}/secrets/step-ca-pgpass/versions/1`,
    caJson: `projects/${PROJECT}/secrets/step-ca-ca-json/versions/1`,
};

test("VM boot path: the gce cloud-config fetches its secrets through stand-ins of Google's endpoints and starts the docker runtime's step-ca container", { timeout: 30 * 60_000 }, async (t) => {
    const name = "the VM boot-path test";
    if (!realToolsPresent(t, name, { ...STEP_TOOLS_NEEDED, curl: "the fetch script reads the secrets with curl" })) return;
    const installError = await installHaTools();
    if (installError) console.error(installError);
    if (!realToolsPresent(t, name, { postgresql: HA_TOOLS_NEEDED.postgresql })) return;
    if (process.getuid?.() !== 0) {
        cannotRun(t, `${name} cannot run: it needs root, to give the files to step-ca's uid ${STEP_USER} as cloud-init and the fetch script do`);
        return;
    }

    // --- the CA as the gce runtime renders it (container paths, PostgreSQL, ADC), and the stand-ins ---------------
    const pg = await startPostgres(POSTGRES_BIN_DIR);
    t.after(() => pg.stop());
    const ca = await prepareInteropCa(t, {
        database: stepCaDatabase(pg.address),
        kmsCredentials: "applicationDefault",
        paths: "container",
    });
    const password = ca.rendered.provisionerPassword as string;
    const caJson = ca.rendered.caJson as string;
    const pgpassLine = fs.readFileSync(pg.pgpassFile, "utf8");
    const metadata = await startMetadataStandIn({ project: PROJECT, email: SERVICE_ACCOUNT });
    t.after(() => metadata.stop());
    const secretManager = await startSecretManagerStandIn({
        token: metadata.token,
        secrets: { [VERSIONS.password]: password, [VERSIONS.pgpass]: pgpassLine, [VERSIONS.caJson]: caJson },
    });
    t.after(() => secretManager.stop());

    const spec: VmBootSpec = {
        image: String(SETTINGS.image.default),
        port: ca.config.port,
        dnsNames: ca.config.dnsNames,
        defaultsJson: ca.rendered.defaultsJson as string,
        rootCertPem: ca.rootPem,
        intermediateCertPem: ca.intermediatePem,
        secrets: VERSIONS,
        cloudSqlInstance: `${PROJECT}:europe-west1:step-ca`,
    };
    const userData = renderCloudConfig(spec);
    const pgPassword = pgpassLine.trim().split(":").pop()!;
    for (const secret of [password, pgPassword]) assert.ok(!userData.includes(secret), "no secret in the user-data");
    const provisioner = JSON.parse(caJson).authority.provisioners.find((p: { type: string }) => p.type === "JWK");
    assert.ok(!userData.includes(provisioner.encryptedKey) && !userData.includes(JSON.parse(caJson).key), "no ca.json in the user-data");

    // --- cloud-init: write_files, then runcmd --------------------------------------------------------------------
    const vm = new VmFileSystem(fs.mkdtempSync(path.join(ca.tmp, "vm-")));
    const cloudConfig = parseCloudConfig(userData);
    vm.writeFiles(cloudConfig.writeFiles);
    const home = VM_PATHS.stepHome;
    const inHome = (containerPath: string) => vm.onVm(`${home}${containerPath.slice(CONTAINER_LAYOUT.stepPath.length)}`);
    assert.ok(!fs.existsSync(inHome(CONTAINER_LAYOUT.caJson)), "ca.json comes from Secret Manager, not the cloud-config");
    assert.equal(fs.readFileSync(inHome(CONTAINER_LAYOUT.defaultsJson), "utf8"), spec.defaultsJson);
    assert.equal(fs.readFileSync(inHome(CONTAINER_LAYOUT.rootCert), "utf8"), ca.rootPem);
    assert.equal(fs.readFileSync(inHome(CONTAINER_LAYOUT.intermediateCert), "utf8"), ca.intermediatePem);
    assert.equal(fs.statSync(vm.onVm(VM_PATHS.fetchScript)).mode & 0o777, 0o755);
    assert.deepEqual(cloudConfig.runcmd, [
        ["chown", "-R", `${STEP_USER}:${STEP_USER}`, home],
        ["systemctl", "daemon-reload"],
        ["systemctl", "start", "cloud-sql-proxy.service", "step-ca.service"],
    ]);
    const chown = await run("chown", ["-R", `${STEP_USER}:${STEP_USER}`, vm.onVm(home)]);
    assert.equal(chown.code, 0, chown.stderr);
    assert.equal(fs.statSync(inHome(CONTAINER_LAYOUT.defaultsJson)).uid, Number(STEP_USER));

    // --- the units systemctl starts ----------------------------------------------------------------------------------
    const proxyUnit = parseUnit(fs.readFileSync(vm.onVm(`${VM_PATHS.units}/cloud-sql-proxy.service`), "utf8"));
    assert.deepEqual(proxyUnit.execStart.argv, cloudSqlProxyDockerRun(spec.cloudSqlInstance));
    console.log("vm-boot: cloud-sql-proxy.service is not started: the Cloud SQL Auth Proxy cannot run here; ca.json's DSN names a local PostgreSQL");
    const unit = parseUnit(fs.readFileSync(vm.onVm(`${VM_PATHS.units}/step-ca.service`), "utf8"));
    assert.equal(unit.restart, "always");
    assert.ok(unit.after.includes("cloud-sql-proxy.service") && unit.after.includes("docker.service"));
    assert.deepEqual(unit.execStart.argv, stepCaDockerRun(spec), "ExecStart is the docker runtime's container definition");
    assert.ok(!unit.execStart.argv.some((a) => a.includes("GOOGLE_APPLICATION_CREDENTIALS")), "no credentials file: ADC from the metadata server");
    assert.deepEqual(
        unit.execStartPre.map((c) => [c.ignoreFailure, ...c.argv]),
        [
            [true, "/usr/bin/docker", "rm", "-f", "step-ca"],
            [false, "/bin/bash", VM_PATHS.fetchScript],
        ],
    );

    // --- ExecStartPre: the fetch script against the stand-ins ------------------------------------------------------
    const secretsDir = vm.onVm(VM_PATHS.secretsDir);
    const fetch = () =>
        run("bash", [vm.onVm(unit.execStartPre[1].argv[1])], {
            env: {
                PATH: process.env.PATH,
                GCE_METADATA_HOST: metadata.host,
                SECRET_MANAGER_ENDPOINT: `http://${secretManager.host}`,
                STEP_CA_SECRETS_DIR: secretsDir,
            },
            timeoutMs: 120_000,
        });
    metadata.attachServiceAccount(false);
    const refused = await fetch();
    assert.notEqual(refused.code, 0, "without a service account the script fails (and step-ca does not start)");
    assert.deepEqual(fs.existsSync(secretsDir) ? fs.readdirSync(secretsDir) : [], [], "nothing fetched");
    metadata.attachServiceAccount(true);
    const fetched = await fetch();
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.deepEqual(fs.readdirSync(secretsDir).sort(), ["ca.json", "password", "pgpass"], "the secrets, no temp files left");
    assert.equal(fs.statSync(secretsDir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(secretsDir).uid, Number(STEP_USER), "step-ca's user can enter the secrets directory");
    for (const [file, value] of [["password", password], ["pgpass", pgpassLine], ["ca.json", caJson]] as const) {
        const stat = fs.statSync(path.join(secretsDir, file));
        assert.equal(stat.mode & 0o777, 0o400, `${file} is 0400`);
        assert.equal(`${stat.uid}:${stat.gid}`, `${STEP_USER}:${STEP_USER}`, `${file} belongs to step-ca's user`);
        assert.equal(fs.readFileSync(path.join(secretsDir, file), "utf8"), value, `${file} holds the secret`);
    }
    const tokenRequests = metadata.requests.filter((r) => r.url.startsWith("/computeMetadata/v1/instance/service-accounts/default/token"));
    assert.equal(tokenRequests.filter((r) => r.status === 200).length, 1, "one token for the fetch");
    assert.deepEqual(
        secretManager.requests.map((r) => [r.method, r.url, r.status, r.headers.authorization === `Bearer ${metadata.token}`]),
        [
            ["GET", `/v1/${VERSIONS.password}:access`, 200, true],
            ["GET", `/v1/${VERSIONS.pgpass}:access`, 200, true],
            ["GET", `/v1/${VERSIONS.caJson}:access`, 200, true],
        ],
    );
    console.log(`vm-boot: fetch script: ${metadata.requests.length} metadata requests, ${secretManager.requests.length} Secret Manager accesses, secrets 0400 ${STEP_USER}:${STEP_USER} in ${VM_PATHS.secretsDir}`);

    // --- ExecStart: the container, on a real Docker engine -------------------------------------------------------
    await t.test("the unit's docker run starts step-ca, keyless, and it issues", { timeout: 20 * 60_000 }, async (st) => {
        const engine = await dockerEnginePresent(st, `${name} (container)`);
        if (!engine) return;
        const image = await standinImage();
        const containerName = `stepca-vm-boot-${process.pid}`;
        const routes = fs.mkdtempSync(path.join(ca.tmp, "routes-"));
        fs.copyFileSync(ca.stepCaEnv.SSL_CERT_FILE!, path.join(routes, "test-ca.pem"));
        fs.chmodSync(routes, 0o755);
        const testOnly = [
            `--env=HTTPS_PROXY=${ca.stepCaEnv.HTTPS_PROXY}`,
            "--env=SSL_CERT_FILE=/run/vm-boot-test/test-ca.pem",
            `--env=GCE_METADATA_HOST=${metadata.host}`,
            `--volume=${routes}:/run/vm-boot-test:ro`,
        ];
        const onThisMachine = (argv: string[]) =>
            argv.flatMap((arg, i) => {
                if (i === 0) return [fs.existsSync(arg) ? arg : "docker"];
                if (arg === "step-ca" && argv[i - 1] === "-f") return [containerName];
                if (arg === "--name=step-ca") return [`--name=${containerName}`];
                const volume = /^--volume=([^:]+):(.*)$/.exec(arg);
                if (volume) return [`--volume=${vm.onVm(volume[1])}:${volume[2]}`];
                if (arg === spec.image) return [...testOnly, image];
                return [arg];
            });
        st.after(() => run("docker", ["rm", "-f", containerName]).then(() => undefined));
        await run(onThisMachine(unit.execStartPre[0].argv)[0], onThisMachine(unit.execStartPre[0].argv).slice(1));
        const argv = onThisMachine(unit.execStart.argv);
        assert.ok(argv.includes(`--volume=${secretsDir}:${path.dirname(CONTAINER_SECRETS.pgpass)}:ro`));
        assert.ok(argv.includes(`--volume=${path.join(secretsDir, "ca.json")}:${CONTAINER_LAYOUT.caJson}:ro`), "ca.json from the secrets");
        const tokensBefore = metadata.requests.length;
        const started = Date.now();
        const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
        let log = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => (log += d));
        child.stderr.setEncoding("utf8").on("data", (d: string) => (log += d));
        let exited: number | null | undefined;
        child.once("close", (code) => (exited = code));

        const status = async () =>
            (await run("docker", ["inspect", "--format", "{{.State.Health.Status}}", containerName])).stdout.trim();
        const deadline = Date.now() + 120_000;
        let health = "";
        while ((health = await status()) !== "healthy") {
            if (exited !== undefined) throw new Error(`the container exited (${exited}):\n${log}`);
            if (Date.now() > deadline) throw new Error(`container not healthy within 120 s (${health}):\n${log}`);
            await new Promise((r) => setTimeout(r, 500));
        }
        console.log(`vm-boot: container ${image} healthy (its own \`step ca health\` check) ${Date.now() - started} ms after docker run; engine ${engine}`);
        const kmsTokens = metadata.requests.slice(tokensBefore).filter((r) => r.url.includes("/service-accounts/default/token") && r.status === 200);
        assert.ok(kmsTokens.length >= 1, `step-ca took its Cloud KMS token from the metadata server (${metadata.requests.slice(tokensBefore).map((r) => r.url).join(", ")})`);

        const client = new SignClient({
            port: spec.port,
            serverName: spec.dnsNames[0],
            rootPem: ca.rootPem,
            provisionerName: provisioner.name,
            provisionerKey: await decryptProvisionerKey(provisioner.encryptedKey, password),
            maxAttempts: 1,
            attemptTimeoutMs: 30_000,
        });
        const issued = await client.issue("vm-boot.example.test");
        assert.ok(issued.leaf.verify(new X509Certificate(ca.intermediatePem).publicKey), "signed by the intermediate");
        assert.ok(ca.signsBy(ca.intermediateKeyVersion) >= 1, "through the KMS emulator");
        assert.equal(await pg.query(`SELECT count(*) FROM x509_certs`), "1", "recorded in the database the DSN names");
        // Docker leaves an empty mountpoint for the file mount on the VM's disk; ca.json itself stays in tmpfs.
        assert.equal(fs.statSync(inHome(CONTAINER_LAYOUT.caJson)).size, 0, "no ca.json content on the VM's disk");
        const asked = [...new Set(metadata.requests.slice(tokensBefore).map((r) => `${r.url.split("?")[0]} ${r.status}`))];
        console.log(`vm-boot: issued ${issued.leaf.serialNumber} through the container; step-ca asked the metadata stand-in for: ${asked.join(", ")}`);
    });
});
