/**
 * The container path for real: the program's local stack in its docker flavour (keys on the KMS emulator,
 * step-ca in a container through the production StepCaContainer) on the real Pulumi engine, with the docker
 * provider bridged from the upstream Terraform provider (scripts/install-docker-provider.sh), on a real Docker
 * engine (scripts/docker-engine.sh), running the TEST-ONLY stand-in step-ca image (scripts/standin-image.sh).
 * Host networking, 127.0.0.1 only: step-ca reaches the in-process emulator through its CONNECT proxy.
 *
 * Steps (each depends on the ones before; after a failure the rest are skipped):
 *   1. up → step-ca healthy (time from container start to healthy printed); uploads root-owned, secrets 0440 and
 *      unreadable to another user; a certificate issued with the step CLI through the CA's port, verified
 *   2. second up → no changes
 *   3. a certificate revoked; a new intermediate → the container replaced (the old one removed first), the database
 *      volume kept: the revoked certificate stays revoked, the other renews; healthy again
 *   4. step-ca denied its key (PERMISSION_DENIED on the emulator) and the container replaced → up fails within the
 *      wait with step-ca's own error; access back → up starts it again, healthy
 *   5. destroy → container gone; the volume is removed with the stack (Pulumi deletes what it created)
 *   6. up again works
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { test } from "node:test";
import {
    CLOUD_KMS_HOST,
    type ConnectProxy,
    type KmsEmulator,
    createServiceAccountJson,
    createTlsIdentity,
    startConnectProxy,
    startKmsEmulator,
} from "../../kms-emulator/index";
import { LOCAL_PROJECT } from "../../lib/config/config";
import { docker, dockerEnginePresent, standinImage } from "../support/docker-engine";
import { freePort } from "../support/free-port";
import { Ops, dockerProviderDir, onlySame, pulumiBinDir, sequentialSteps, throwawayStack } from "../support/pulumi-engine";
import { realToolsPresent } from "../support/real-tools";

const REPO = path.resolve(__dirname, "../..");
// Per run: the container and volume are named after the stack, and other runs may share the Docker engine.
const STACK = `dockertest-${process.pid}`;
const PASSPHRASE = "docker-test-passphrase";
const CONTAINER = `stepca-cloudkms-${STACK}`;
const VOLUME = `${CONTAINER}-data`;
const HEALTH_TYPE = "stepca:ContainerHealth";
const CONTAINER_TYPE = "docker:index/container:Container";
const INTERMEDIATE_CN = "Docker Test Intermediate CA";

const run = promisify(execFile);

/** The exit status and output of a command that may fail. */
async function attempt(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ ok: boolean; out: string }> {
    try {
        const { stdout, stderr } = await run(file, args, { env, maxBuffer: 16 * 1024 * 1024 });
        return { ok: true, out: `${stdout}${stderr}` };
    } catch (e) {
        const err = e as { stdout?: string; stderr?: string; message: string };
        return { ok: false, out: `${err.stdout ?? ""}${err.stderr ?? ""}${err.message}` };
    }
}

function stackYaml(s: { kmsEndpoint: string; proxyPort: number; credentialsDir: string; image: string; port: number }): string {
    return [
        "config:",
        "  stepca-cloudkms:mode: local",
        "  stepca-cloudkms:localRuntime: docker",
        `  stepca-cloudkms:kmsEndpoint: "${s.kmsEndpoint}"`,
        `  stepca-cloudkms:localKmsProxyPort: "${s.proxyPort}"`,
        `  stepca-cloudkms:localKmsCredentialsDir: "${s.credentialsDir}"`,
        `  stepca-cloudkms:image: "${s.image}"`,
        "  stepca-cloudkms:destroyScheduledDuration: 86400s",
        "  stepca-cloudkms:organization: Docker Test",
        "  stepca-cloudkms:rootCommonName: Docker Test Root CA",
        `  stepca-cloudkms:intermediateCommonName: ${INTERMEDIATE_CN}`,
        "  stepca-cloudkms:dnsNames:",
        "    - localhost",
        "    - 127.0.0.1",
        `  stepca-cloudkms:port: "${s.port}"`,
        "",
    ].join("\n");
}

test("the step-ca container on a real Docker engine, through the real Pulumi engine and docker provider", { timeout: 60 * 60 * 1000 }, async (t) => {
    const tools = { go: "builds the Pulumi CLI, the docker provider and step-ca", bash: "runs the install scripts", flock: "the install scripts serialize builds with it" };
    if (!realToolsPresent(t, "the docker container test", tools)) return;
    const engineVersion = await dockerEnginePresent(t, "the docker container test");
    if (!engineVersion) return;

    const started = Date.now();
    // One at a time: they share the two cores with everything else.
    const binDir = await pulumiBinDir();
    const providerDir = await dockerProviderDir();
    const image = await standinImage();
    const stepBin = (await run("bash", [path.join(REPO, "scripts/install-step.sh")])).stdout.trim().split("\n").pop()!;
    console.log(`# Docker engine ${engineVersion}; CLI ${binDir}; provider ${providerDir}; image ${image} (ready in ${Math.round((Date.now() - started) / 1000)} s)`);

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-docker-"));
    const tls = await createTlsIdentity([CLOUD_KMS_HOST]);
    const emulator: KmsEmulator = await startKmsEmulator({ port: 0, hsmPendingMs: 0, tls: { certPem: tls.certPem, keyPem: tls.keyPem } });
    const proxy: ConnectProxy = await startConnectProxy({ routes: { [`${CLOUD_KMS_HOST}:443`]: { host: "127.0.0.1", port: emulator.tlsPort! } } });
    const credentialsDir = path.join(tmp, "kms-credentials");
    fs.mkdirSync(credentialsDir, { mode: 0o700 });
    fs.writeFileSync(path.join(credentialsDir, "tls-ca.crt"), tls.caCertPem);
    fs.writeFileSync(path.join(credentialsDir, "service-account.json"), createServiceAccountJson(LOCAL_PROJECT), { mode: 0o600 });
    let port = await freePort();
    const settings = { kmsEndpoint: emulator.address, proxyPort: proxy.port, credentialsDir, image, port };
    const { stack } = await throwawayStack({ tmp, stackName: STACK, stackYaml: stackYaml(settings), passphrase: PASSPHRASE, pathDirs: [binDir, providerDir] });

    // The step CLI as a client of the CA, with settings of its own.
    const client = path.join(tmp, "client");
    fs.mkdirSync(client);
    const rootFile = path.join(client, "root.crt");
    const passwordFile = path.join(client, "password");
    const stepEnv = { ...process.env, STEPPATH: path.join(client, "steppath"), HOME: client };
    const step = (...args: string[]) => attempt(path.join(stepBin, "step"), args, stepEnv);
    const caUrl = () => `https://localhost:${port}`;
    const issue = async (name: string) => {
        const r = await step("ca", "certificate", name, path.join(client, `${name}.crt`), path.join(client, `${name}.key`), "--ca-url", caUrl(), "--root", rootFile, "--provisioner", "admin", "--provisioner-password-file", passwordFile, "--force");
        assert.ok(r.ok, `step ca certificate ${name}: ${r.out}`);
        const verify = await step("certificate", "verify", path.join(client, `${name}.crt`), "--roots", rootFile, "--host", name);
        assert.ok(verify.ok, `step certificate verify ${name}: ${verify.out}`);
    };
    const renew = (name: string) => step("ca", "renew", path.join(client, `${name}.crt`), path.join(client, `${name}.key`), "--ca-url", caUrl(), "--root", rootFile, "--force");
    const containerId = () => docker("inspect", "--format", "{{.Id}}", CONTAINER);

    const { step: stepOf, broken } = sequentialSteps(t);
    const healthyAfter = (ops: Ops) => {
        const seconds = ops.outputsOf(HEALTH_TYPE)?.secondsToHealthy;
        assert.equal(typeof seconds, "number", `no secondsToHealthy: ${JSON.stringify(ops.outputsOf(HEALTH_TYPE))}`);
        console.log(`# container start → step-ca healthy: ${seconds} s`);
    };

    let firstId = "";
    try {
        await stepOf("1. up: step-ca healthy in the container, files owned and readable as intended, a certificate issued", async () => {
            const ops = new Ops();
            const t0 = Date.now();
            const result = await stack.up({ onEvent: ops.onEvent, color: "never" });
            console.log(`# up (create): ${Math.round((Date.now() - t0) / 1000)} s`);
            assert.equal(result.summary.result, "succeeded");
            healthyAfter(ops);
            assert.equal(result.outputs.caUrl.value, caUrl());
            fs.writeFileSync(rootFile, String(result.outputs.rootCertPem.value));
            fs.writeFileSync(passwordFile, String(result.outputs.provisionerPassword.value), { mode: 0o600 });
            firstId = await containerId();
            assert.equal(await docker("inspect", "--format", "{{.HostConfig.NetworkMode}} {{.State.Health.Status}}", CONTAINER), "host healthy");

            // Root-owned uploads (no owner: Engine 20.10 cannot chown to the image's user name); step reads the
            // secrets through group root; another user reads nothing secret.
            const listing = await docker("exec", CONTAINER, "ls", "-ln", "/run/secrets/step-ca/password", "/run/secrets/step-ca/kms-emulator-account.json", "/home/step/config/ca.json");
            for (const line of listing.split("\n")) {
                assert.match(line, line.includes("/run/secrets/") ? /^-r--r-----\s+\d+\s+0\s+0\s/ : /^-r--r--r--\s+\d+\s+0\s+0\s/, line);
            }
            assert.match(await docker("exec", CONTAINER, "id"), /^uid=1000\(step\) gid=0\(root\)/);
            const stranger = await attempt("docker", ["exec", "--user", "4242:4242", CONTAINER, "cat", "/run/secrets/step-ca/password"]);
            assert.ok(!stranger.ok && /Permission denied/.test(stranger.out), `another user read the password file: ${stranger.out}`);

            await issue("leaf-a.localhost");
            await issue("leaf-b.localhost");
        });

        await stepOf("2. a second up changes nothing", async () => {
            const ops = new Ops();
            const result = await stack.up({ onEvent: ops.onEvent, color: "never" });
            assert.ok(onlySame(result.summary.resourceChanges), `changes: ${JSON.stringify(result.summary.resourceChanges)}; ops: ${JSON.stringify(ops.sequence().filter(([, o]) => o !== "same"))}`);
            assert.equal(await containerId(), firstId);
        });

        await stepOf("3. a new intermediate replaces the container (old one first); the database volume survives", async () => {
            // Revoked with the certificate's own key (mTLS), as its holder would.
            const revoked = await step("ca", "revoke", "--cert", path.join(client, "leaf-a.localhost.crt"), "--key", path.join(client, "leaf-a.localhost.key"), "--ca-url", caUrl(), "--root", rootFile);
            assert.ok(revoked.ok, `step ca revoke: ${revoked.out}`);
            assert.ok(!(await renew("leaf-a.localhost")).ok, "a revoked certificate renewed before the replacement");

            await stack.setConfig("stepca-cloudkms:intermediateCommonName", { value: `${INTERMEDIATE_CN} 2` });
            const ops = new Ops();
            const result = await stack.up({ onEvent: ops.onEvent, color: "never" });
            assert.equal(result.summary.result, "succeeded");
            const containerOps = ops.sequence().filter(([r]) => r.startsWith(`${CONTAINER_TYPE}::`)).map(([, o]) => o);
            const deleted = containerOps.indexOf("delete-replaced");
            assert.ok(deleted >= 0 && deleted < containerOps.indexOf("create-replacement"), `container ops: ${containerOps}`);
            assert.deepEqual(ops.named("replace").filter((r) => r.includes("docker:index/volume")), [], "the volume is kept");
            healthyAfter(ops);
            assert.notEqual(await containerId(), firstId);
            fs.writeFileSync(rootFile, String(result.outputs.rootCertPem.value));

            const a = await renew("leaf-a.localhost");
            assert.ok(!a.ok, `the revoked certificate must stay revoked: ${a.out}`);
            // The client only sees a 401; the new container's own log says why, from the database it inherited.
            const { stderr } = await run("docker", ["logs", CONTAINER], { maxBuffer: 16 * 1024 * 1024 });
            assert.match(stderr, /authorizeRenew: certificate has been revoked/);
            const b = await renew("leaf-b.localhost");
            assert.ok(b.ok, `the other certificate renews: ${b.out}`);
            await issue("leaf-c.localhost");
        });

        await stepOf("4. a step-ca that may not use its key: up fails fast with step-ca's error; fixed, up starts it", async () => {
            const intermediateKey = String((await stack.outputs()).intermediateKeyVersion.value).replace(/\/cryptoKeyVersions\/\d+$/, "");
            emulator.faults.denyKey(intermediateKey);
            // A new port replaces the container and touches nothing that calls KMS from the program.
            port = await freePort();
            await stack.setConfig("stepca-cloudkms:port", { value: String(port) });
            const t0 = Date.now();
            await assert.rejects(stack.up({ color: "never" }), (error: Error) => {
                assert.match(error.message, /step-ca \(container [0-9a-f]{12}\) did not become healthy: (its process exited|the container exited)/);
                assert.match(error.message, /Permission 'cloudkms\.cryptoKeyVersions\.\w+' denied/);
                const lines = error.message.split("\n");
                const quoted = [lines.find((l) => /did not become healthy/.test(l)), lines.find((l) => /denied/.test(l))];
                console.log(`# up failed with:\n#   ${quoted.map((l) => l?.trim().slice(0, 400)).join("\n#   ")}`);
                return true;
            });
            const seconds = (Date.now() - t0) / 1000;
            console.log(`# failing up: ${seconds.toFixed(1)} s (health timeout 180 s)`);
            assert.ok(seconds < 90, `the failure took ${seconds} s: the wait did not stop when step-ca exited`);
            assert.equal(await docker("inspect", "--format", "{{.State.Status}}", CONTAINER), "exited", "stopped, not left restarting");

            emulator.faults.clear();
            const ops = new Ops();
            const result = await stack.up({ onEvent: ops.onEvent, color: "never" });
            assert.equal(result.summary.result, "succeeded");
            healthyAfter(ops);
            await issue("leaf-d.localhost");
        });

        await stepOf("5. destroy removes the container and, with the stack, the volume", async () => {
            const result = await stack.destroy({ color: "never" });
            assert.equal(result.summary.result, "succeeded");
            assert.equal((await attempt("docker", ["inspect", CONTAINER])).ok, false, "the container is gone");
            assert.equal((await attempt("docker", ["volume", "inspect", VOLUME])).ok, false, "the volume is gone with it");
        });

        await stepOf("6. up again after destroy works", async () => {
            const ops = new Ops();
            const result = await stack.up({ onEvent: ops.onEvent, color: "never" });
            assert.equal(result.summary.result, "succeeded");
            healthyAfter(ops);
            fs.writeFileSync(rootFile, String(result.outputs.rootCertPem.value));
            fs.writeFileSync(passwordFile, String(result.outputs.provisionerPassword.value), { mode: 0o600 });
            await issue("leaf-e.localhost");
        });
    } finally {
        if (broken()) {
            console.warn(`# docker test failed at "${broken()}"; state and project kept in ${tmp}; container ${CONTAINER} kept`);
            console.warn(await docker("logs", "--tail", "30", CONTAINER).catch((e: unknown) => `(no logs: ${e})`));
        } else {
            await stack.destroy({ color: "never" }).catch((e: unknown) => console.warn(`# cleanup destroy failed: ${e}`));
        }
        await proxy.stop();
        await emulator.stop();
        if (!broken()) fs.rmSync(tmp, { recursive: true, force: true });
    }
});
