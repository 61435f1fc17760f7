/**
 * Interop: the real step-ca and step CLI against the CA this program builds.
 *
 * Root and intermediate are minted by the program's providers against the local KMS emulator, ca.json and
 * defaults.json are rendered by the program's config provider (container paths mapped to a temp dir), then the real
 * step-ca (built from its Go module at the version of the image the program pins) signs leaves with the
 * intermediate key on the emulator, reached unmodified: HTTPS_PROXY sends its gRPC to a local CONNECT proxy that
 * tunnels cloudkms.googleapis.com:443 to the emulator's TLS port, whose certificate the test CA in SSL_CERT_FILE
 * vouches for; a service-account key file with a real RSA key authenticates with self-signed JWTs.
 */
import assert from "node:assert/strict";
import { X509Certificate, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { test } from "node:test";
import { intermediateCertificateProvider } from "../../dynamic-providers/certificates/intermediate-certificate";
import { rootCertificateProvider } from "../../dynamic-providers/certificates/root-certificate";
import { stepCaConfigProvider } from "../../dynamic-providers/step-ca-config";
import { emulatorCryptoKeyProvider } from "../../dynamic-providers/emulator/emulator-crypto-key";
import { emulatorKeyRingProvider } from "../../dynamic-providers/emulator/emulator-key-ring";
import { CLOUD_KMS_HOST, createServiceAccountJson, createTlsIdentity, startConnectProxy, startKmsEmulator } from "../../kms-emulator/index";
import { stepCaPaths } from "../../lib/step-ca/ca-json";
import { listenAddress, subjectOf, validateConfig } from "../../lib/config/config";
import { SETTINGS } from "../../lib/config/settings";
import { createKmsClient } from "../../lib/kms/client";
import { stepCaLayout } from "../../lib/step-ca/layout";
import { realToolsPresent } from "../support/real-tools";
import { type StepCaProcess, freePort, startStepCa } from "./support/step-ca-process";
import { STEP_TOOLS_NEEDED, expectSuccess, installStep, run } from "./support/step-tools";

const PROJECT_NAME = "stepca-cloudkms";
const KMS_AUTHORITY = `${CLOUD_KMS_HOST}:443`;
const LEAF_NAME = "interop.example.test";

/** Everything a provider's create() returns, as the engine would store it. */
type Outs = Record<string, unknown>;

async function create(provider: { create?: (inputs: any) => Promise<{ id: string; outs?: any }> }, inputs: Outs): Promise<Outs> {
    const result = await provider.create!(inputs);
    return result.outs as Outs;
}

/** Without the terminal colours the step CLI prints. */
function plain(text: string): string {
    return text.replace(/\x1b\[[0-9;]*m/g, "");
}

function splitPem(bundle: string): string[] {
    return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

test("real step-ca + step CLI issue, verify and renew certificates from the CA the program configures", { timeout: 30 * 60_000 }, async (t) => {
    if (!realToolsPresent(t, "the step-ca interop test (real step-ca + step CLI)", STEP_TOOLS_NEEDED)) return;

    // --- the real binaries, at the version of the image the program pins ----------------------------------------
    const tools = await installStep();
    const caVersion = expectSuccess("step-ca version", await run(tools.stepCa, ["version"])).stdout.trim();
    const cliVersion = expectSuccess("step version", await run(tools.step, ["version"])).stdout.trim();
    t.diagnostic(`step-ca: ${caVersion.split("\n")[0]}; step CLI: ${cliVersion.split("\n")[0]}`);
    console.log(`step-ca version: ${caVersion.split("\n")[0]}`);
    console.log(`step CLI version: ${cliVersion.split("\n")[0]}`);
    const imageTag = String(SETTINGS.image.default).split(":").pop();
    assert.match(caVersion, new RegExp(`^Smallstep CA/${imageTag!.replace(/\./g, "\\.")} `), `step-ca must match the pinned image ${SETTINGS.image.default}`);

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-interop-"));
    const cleanups: (() => Promise<void> | void)[] = [() => fs.rmSync(tmp, { recursive: true, force: true })];
    t.after(async () => {
        for (const cleanup of cleanups.reverse()) {
            try {
                await cleanup();
            } catch (e) {
                console.warn(`cleanup: ${(e as Error).message}`);
            }
        }
    });

    // --- the program's configuration (defaults of Pulumi.yaml / lib/config/settings.ts) --------------------------
    const port = await freePort();
    // One emulator, as `npm run local` runs it: the program's providers use its plaintext port, step-ca its TLS port
    // as cloudkms.googleapis.com, whose certificate the throwaway CA in SSL_CERT_FILE vouches for.
    const tlsIdentity = await createTlsIdentity();
    const kmsLog: string[] = [];
    const emulator = await startKmsEmulator({ hsmPendingMs: 0, tls: { certPem: tlsIdentity.certPem, keyPem: tlsIdentity.keyPem }, log: (l) => kmsLog.push(l) });
    cleanups.push(() => emulator.stop());
    const config = validateConfig(PROJECT_NAME, {
        // Set explicitly: the emulator, like Cloud KMS, wants a 6-30 character project ID.
        "gcp:project": "stepca-interop",
        [`${PROJECT_NAME}:mode`]: "local",
        [`${PROJECT_NAME}:kmsEndpoint`]: emulator.address,
        [`${PROJECT_NAME}:dnsNames`]: JSON.stringify(["localhost", "127.0.0.1"]),
        [`${PROJECT_NAME}:port`]: String(port),
    });
    const kmsEndpoint = emulator.address;

    // --- keys on the emulator, through the program's emulator providers (the real @google-cloud/kms client) -----
    const suffix = randomBytes(3).toString("hex");
    const ring = (role: string) =>
        create(emulatorKeyRingProvider, {
            kmsEndpoint,
            project: config.project,
            location: config.kms.location,
            keyRingId: `${config.kms.keyRingPrefix}-${role}-${suffix}`,
        });
    const rootRing = await ring("root");
    const intermediateRing = config.kms.separateKeyRings ? await ring("intermediate") : rootRing;
    const key = (role: string, keyRing: Outs, algorithm: string) =>
        create(emulatorCryptoKeyProvider, {
            kmsEndpoint,
            keyRing: keyRing.name,
            cryptoKeyId: `${role}-${suffix}`,
            algorithm,
            protectionLevel: config.kms.protectionLevel,
            destroyScheduledDuration: config.kms.destroyScheduledDuration,
            labels: { app: "step-ca", role },
        });
    const rootKey = await key("root", rootRing, config.kms.rootAlgorithm);
    const intermediateKey = await key("intermediate", intermediateRing, config.kms.intermediateAlgorithm);
    const rootKeyVersion = rootKey.keyVersion as string;
    const intermediateKeyVersion = intermediateKey.keyVersion as string;

    // --- root and intermediate through the program's certificate providers ---------------------------------------
    const rootInputs = { keyVersion: rootKeyVersion, subject: subjectOf(config.root), validityDays: config.root.validityDays, kmsEndpoint };
    const rootCheck = await rootCertificateProvider.check!({}, rootInputs);
    assert.deepEqual(rootCheck.failures ?? [], []);
    const root = await create(rootCertificateProvider, rootInputs);
    const intermediateInputs = {
        keyVersion: intermediateKeyVersion,
        issuerKeyVersion: rootKeyVersion,
        issuerCertPem: root.certPem,
        subject: subjectOf(config.intermediate),
        validityDays: config.intermediate.validityDays,
        renewBeforeDays: config.intermediate.renewBeforeDays,
        kmsEndpoint,
    };
    const intermediateCheck = await intermediateCertificateProvider.check!({}, intermediateInputs);
    assert.deepEqual(intermediateCheck.failures ?? [], []);
    const intermediate = await create(intermediateCertificateProvider, intermediateInputs);
    const rootPem = root.certPem as string;
    const intermediatePem = intermediate.certPem as string;

    // --- step-ca's files: the container layout (STEPPATH /home/step, secrets /run/secrets/step-ca) in the temp dir,
    // turned into ca.json's paths by the same function the program uses ------------------------------------------
    const files = stepCaLayout(path.join(tmp, "step"), path.join(tmp, "secrets"));
    const stepPath = files.stepPath;
    const paths = stepCaPaths(files);
    const configInputs = {
        intermediateKeyVersion,
        rootCertPem: rootPem,
        dnsNames: [...config.dnsNames],
        address: listenAddress(config.mode, config.port), // as the program renders it
        provisionerName: config.provisionerName,
        paths,
    };
    const configCheck = await stepCaConfigProvider.check!({}, configInputs);
    assert.deepEqual(configCheck.failures ?? [], []);
    const rendered = await create(stepCaConfigProvider, configInputs);
    const provisionerPassword = rendered.provisionerPassword as string;
    assert.ok(provisionerPassword.length >= 20, "the config provider generates a strong provisioner password");

    for (const dir of [path.dirname(files.caJson), path.dirname(files.rootCert), path.dirname(files.password), path.join(tmp, "home")]) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    fs.writeFileSync(files.caJson, rendered.caJson as string);
    fs.writeFileSync(files.defaultsJson, rendered.defaultsJson as string);
    fs.writeFileSync(files.rootCert, rootPem);
    fs.writeFileSync(files.intermediateCert, intermediatePem);
    // step-ca's --password-file: the program uploads the provisioner password there (unused with KMS keys).
    fs.writeFileSync(files.password, provisionerPassword, { mode: 0o600 });
    fs.writeFileSync(files.kmsCredentials, createServiceAccountJson(config.project), { mode: 0o600 });
    const passwordFile = path.join(tmp, "provisioner-password");
    fs.writeFileSync(passwordFile, provisionerPassword, { mode: 0o600 });
    const wrongPasswordFile = path.join(tmp, "wrong-password");
    fs.writeFileSync(wrongPasswordFile, `${provisionerPassword}-wrong`, { mode: 0o600 });

    // --- step-ca's route to the emulator's TLS port; from here on, count only what step-ca does ------------------
    const trustFile = path.join(tmp, "test-ca.pem");
    fs.writeFileSync(trustFile, tlsIdentity.caCertPem);
    const emptyCertDir = fs.mkdtempSync(path.join(tmp, "no-certs-"));
    // The test's own calls (disable/enable the key) go to the plaintext port while step-ca uses TLS: one state.
    const admin = createKmsClient(emulator.address);
    cleanups.push(() => admin.close());
    const tunnelled: string[] = [];
    const refused: string[] = [];
    const proxy = await startConnectProxy({
        routes: { [KMS_AUTHORITY]: { host: "127.0.0.1", port: emulator.tlsPort! } },
        onConnect: (authority, ok) => (ok ? tunnelled : refused).push(authority),
    });
    cleanups.push(() => proxy.stop());
    emulator.calls.reset();
    kmsLog.length = 0;

    const signsBy = (keyVersion: string, outcome = "OK") =>
        kmsLog.filter((l) => l.startsWith(`AsymmetricSign ${keyVersion} -> ${outcome}`)).length;
    const signs = () => emulator.calls.byMethod().AsymmetricSign ?? 0;

    // --- step-ca, started as the container starts it (argv, HOME/STEPPATH), plus the routing variables -----------
    const stepCaEnv: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: path.join(tmp, "home"), // writable HOME: the Google auth library looks for ~/.config/gcloud
        STEPPATH: stepPath,
        HTTPS_PROXY: proxy.url, // gRPC-Go: CONNECT cloudkms.googleapis.com:443 through the test proxy
        SSL_CERT_FILE: trustFile, // Go's crypto/x509: trust the test CA (and only it)
        SSL_CERT_DIR: emptyCertDir,
    };
    const stepCa: StepCaProcess = await startStepCa({
        stepCa: tools.stepCa,
        args: ["--password-file", files.password, files.caJson],
        env: stepCaEnv,
        port: config.port,
        serverName: config.dnsNames[0],
        rootPem,
        timeoutMs: 90_000,
    });
    cleanups.push(() => stepCa.stop());
    t.diagnostic(`step-ca up on 127.0.0.1:${config.port}; KMS calls at start: ${JSON.stringify(emulator.calls.byMethod())}`);

    const cli = (args: string[]) =>
        run(tools.step, args, {
            cwd: tmp,
            // No proxy variables: the CLI talks to step-ca directly; defaults.json (from STEPPATH) gives URL and root.
            env: { PATH: process.env.PATH, HOME: path.join(tmp, "home"), STEPPATH: stepPath },
            timeoutMs: 60_000,
        });
    const issue = (name: string, password = passwordFile) =>
        cli(["ca", "certificate", LEAF_NAME, `${name}.crt`, `${name}.key`, "--provisioner", config.provisionerName, "--provisioner-password-file", password, "--force"]);

    await t.test("step-ca reached the emulator through HTTPS_PROXY and TLS, and nothing else (no OAuth token exchange)", () => {
        assert.deepEqual(refused, [], "step-ca tried to reach something other than Cloud KMS (e.g. a token endpoint)");
        assert.ok(tunnelled.includes(KMS_AUTHORITY), `tunnelled: ${JSON.stringify(tunnelled)}`);
        assert.ok(kmsLog.some((l) => l.startsWith(`GetPublicKey ${intermediateKeyVersion} -> OK`)), kmsLog.join("\n"));
        // At start step-ca issues its own TLS certificate with the intermediate key: one AsymmetricSign, nothing else.
        assert.equal(signs(), 1, kmsLog.join("\n"));
        assert.equal(signsBy(intermediateKeyVersion), 1, kmsLog.join("\n"));
    });

    await t.test("step-ca serves a TLS certificate its KMS intermediate signed", async () => {
        const socket = tls.connect({ host: "127.0.0.1", port: config.port, servername: config.dnsNames[0], ca: rootPem });
        await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
        const served = new X509Certificate(socket.getPeerX509Certificate()!.raw);
        socket.destroy();
        assert.ok(served.verify(new X509Certificate(intermediatePem).publicKey));
        assert.ok(served.checkHost(config.dnsNames[0]));
    });

    let leaf!: X509Certificate;
    await t.test("step ca certificate with the JWK provisioner and the generated password", async () => {
        const before = signsBy(intermediateKeyVersion);
        expectSuccess("step ca certificate", await issue("leaf"));
        const chain = splitPem(fs.readFileSync(path.join(tmp, "leaf.crt"), "utf8"));
        assert.equal(chain.length, 2, "step writes leaf + intermediate");
        leaf = new X509Certificate(chain[0]);
        const intermediateCert = new X509Certificate(intermediatePem);
        assert.equal(new X509Certificate(chain[1]).fingerprint256, intermediateCert.fingerprint256);
        assert.match(leaf.subjectAltName ?? "", new RegExp(`DNS:${LEAF_NAME.replace(/\./g, "\\.")}`));
        console.log(`issued leaf subject: ${leaf.subject.replace(/\n/g, ", ")}`);
        console.log(`issued leaf issuer:  ${leaf.issuer.replace(/\n/g, ", ")}`);
        console.log(`issued leaf serial:  ${leaf.serialNumber}, valid ${leaf.validFrom} .. ${leaf.validTo}`);
        assert.equal(leaf.issuer, intermediateCert.subject);

        // The signature on the leaf: made with the intermediate key, which only the emulator holds.
        const [kmsPublicKey] = await admin.getPublicKey({ name: intermediateKeyVersion });
        assert.ok(leaf.verify(intermediateCert.publicKey), "leaf signature verifies with the intermediate's public key");
        assert.equal(
            intermediateCert.publicKey.export({ type: "spki", format: "pem" }).toString().trim(),
            String(kmsPublicKey.pem).trim(),
            "the intermediate certificate certifies the emulator's intermediate key",
        );
        assert.equal(signsBy(intermediateKeyVersion) - before, 1, `one AsymmetricSign with the intermediate key; KMS log:\n${kmsLog.join("\n")}`);
        assert.equal(signsBy(rootKeyVersion), 0, "the root key is never used by step-ca");
        console.log(`AsymmetricSign calls on the intermediate key for this issuance: ${signsBy(intermediateKeyVersion) - before}`);
    });

    await t.test("the leaf chains to our root: openssl verify and step certificate verify", async () => {
        const chain = splitPem(fs.readFileSync(path.join(tmp, "leaf.crt"), "utf8"));
        fs.writeFileSync(path.join(tmp, "leaf-only.crt"), chain[0]);
        fs.writeFileSync(path.join(tmp, "chain.crt"), chain.slice(1).join(""));
        const openssl = expectSuccess(
            "openssl verify",
            await run("openssl", ["verify", "-CAfile", files.rootCert, "-untrusted", "chain.crt", "leaf-only.crt"], { cwd: tmp }),
        );
        assert.match(openssl.stdout, /leaf-only\.crt: OK/);
        expectSuccess("step certificate verify", await cli(["certificate", "verify", "leaf.crt", "--roots", files.rootCert, "--host", LEAF_NAME]));
        // And not to some other root: a fresh throwaway CA must not verify it.
        const otherRoot = path.join(tmp, "other-root.pem");
        fs.writeFileSync(otherRoot, (await createTlsIdentity(["other.example"])).caCertPem);
        const foreign = await cli(["certificate", "verify", "leaf.crt", "--roots", otherRoot]);
        assert.notEqual(foreign.code, 0, "step certificate verify must fail against an unrelated root");
    });

    await t.test("step ca roots returns our root", async () => {
        expectSuccess("step ca roots", await cli(["ca", "roots", "roots.pem", "--force"]));
        const roots = splitPem(fs.readFileSync(path.join(tmp, "roots.pem"), "utf8"));
        assert.equal(roots.length, 1);
        assert.equal(new X509Certificate(roots[0]).fingerprint256, new X509Certificate(rootPem).fingerprint256);
        assert.equal(
            new X509Certificate(rootPem).fingerprint256.replace(/:/g, "").toLowerCase(),
            rendered.fingerprint,
            "defaults.json's fingerprint is our root's",
        );
    });

    await t.test("step ca renew renews the leaf (one more AsymmetricSign with the intermediate key)", async () => {
        const before = signsBy(intermediateKeyVersion);
        expectSuccess("step ca renew", await cli(["ca", "renew", "leaf.crt", "leaf.key", "--force"]));
        const renewed = new X509Certificate(splitPem(fs.readFileSync(path.join(tmp, "leaf.crt"), "utf8"))[0]);
        assert.notEqual(renewed.serialNumber, leaf.serialNumber, "a renewed certificate has a new serial");
        assert.equal(renewed.subject, leaf.subject);
        assert.equal(renewed.publicKey.export({ type: "spki", format: "der" }).toString("hex"), leaf.publicKey.export({ type: "spki", format: "der" }).toString("hex"));
        assert.ok(renewed.verify(new X509Certificate(intermediatePem).publicKey));
        assert.equal(signsBy(intermediateKeyVersion) - before, 1);
        console.log(`renewed leaf serial: ${renewed.serialNumber} (was ${leaf.serialNumber})`);
    });

    await t.test("a wrong provisioner password is refused", async () => {
        const before = signs();
        const r = await issue("wrong", wrongPasswordFile);
        assert.notEqual(r.code, 0, "issuance with a wrong password must fail");
        console.log(`wrong password -> ${r.stderr.trim().split("\n").pop()}`);
        assert.match(r.stderr, /decrypt|password/i);
        assert.ok(!fs.existsSync(path.join(tmp, "wrong.crt")));
        assert.equal(signs(), before, "nothing was signed");
    });

    await t.test("intermediate key version DISABLED: issuance fails clearly, /health still answers; re-enabled it works", async () => {
        const setState = (state: "ENABLED" | "DISABLED") =>
            admin.updateCryptoKeyVersion({ cryptoKeyVersion: { name: intermediateKeyVersion, state }, updateMask: { paths: ["state"] } });
        const [disabled] = await setState("DISABLED");
        assert.equal(disabled.state, "DISABLED");
        try {
            const refusedBefore = signsBy(intermediateKeyVersion, "FAILED_PRECONDITION");
            const r = await issue("while-disabled");
            assert.notEqual(r.code, 0, "issuance must fail while the intermediate key version is disabled");
            assert.ok(!fs.existsSync(path.join(tmp, "while-disabled.crt")));
            const cliSaid = r.stderr.trim();
            console.log(`issuance with the key DISABLED -> step CLI: ${plain(cliSaid).split("\n").find((l) => /error/i.test(l))}`);
            assert.match(cliSaid, /internal server error/i);
            assert.equal(signsBy(intermediateKeyVersion, "FAILED_PRECONDITION") - refusedBefore, 1, kmsLog.slice(-5).join("\n"));
            // step-ca's own log names the cause.
            const caSaid = stepCa
                .log()
                .split("\n")
                .filter((l) => /DISABLED|FailedPrecondition|not enabled/i.test(l));
            assert.ok(caSaid.length > 0, `step-ca's log should name the disabled key version:\n${stepCa.log().slice(-3000)}`);
            console.log(`step-ca log: ${/error="([^"]*)"/.exec(caSaid[0])?.[1] ?? caSaid[0]}`);
            assert.match(caSaid.join("\n"), new RegExp(intermediateKeyVersion.replace(/\//g, "\\/")));
            const health = await stepCa.health();
            assert.equal(health.status, 200, "/health still answers");
            assert.match(health.body, /"status":"ok"/);
        } finally {
            const [enabled] = await setState("ENABLED");
            assert.equal(enabled.state, "ENABLED");
        }
        const before = signsBy(intermediateKeyVersion);
        expectSuccess("step ca certificate after re-enabling", await issue("after-enable"));
        const again = new X509Certificate(splitPem(fs.readFileSync(path.join(tmp, "after-enable.crt"), "utf8"))[0]);
        assert.ok(again.verify(new X509Certificate(intermediatePem).publicKey));
        assert.equal(signsBy(intermediateKeyVersion) - before, 1);
    });

    const byMethod = emulator.calls.byMethod();
    console.log(`KMS emulator calls while step-ca ran: ${JSON.stringify(byMethod)}`);
    console.log(`AsymmetricSign with the intermediate key: ${signsBy(intermediateKeyVersion)} OK, ${signsBy(intermediateKeyVersion, "FAILED_PRECONDITION")} refused (disabled); with the root key: ${signsBy(rootKeyVersion)}`);
});
