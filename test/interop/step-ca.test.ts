/**
 * Interop: the real step-ca and step CLI against the CA this program builds with its default settings (one JWK
 * provisioner), stood up by support/interop-ca.ts: root and intermediate minted by the program's providers on the
 * local KMS emulator, ca.json rendered by its config provider, and the real step-ca (built from its Go module at the
 * version of the image the program pins) signing leaves with the intermediate key on the emulator, reached unmodified
 * through HTTPS_PROXY and TLS.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tls from "node:tls";
import { test } from "node:test";
import { createTlsIdentity } from "../../kms-emulator/index";
import { SETTINGS } from "../../lib/config/settings";
import { realToolsPresent } from "../support/real-tools";
import { KMS_AUTHORITY, splitPem, startInteropCa } from "./support/interop-ca";
import { STEP_TOOLS_NEEDED, expectSuccess, installStep, run } from "./support/step-tools";

const LEAF_NAME = "interop.example.test";

/** Without the terminal colours the step CLI prints. */
function plain(text: string): string {
    return text.replace(/\x1b\[[0-9;]*m/g, "");
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

    // --- the CA the program configures with its defaults (Pulumi.yaml / lib/config/settings.ts), step-ca running --
    const ca = await startInteropCa(t);
    const { tmp, config, files, rootPem, intermediatePem, rendered, emulator, kmsLog, admin, tunnelled, refused, stepCa, cli } = ca;
    const { rootKeyVersion, intermediateKeyVersion, signsBy } = ca;
    const provisionerPassword = rendered.provisionerPassword as string;
    assert.ok(provisionerPassword.length >= 20, "the config provider generates a strong provisioner password");
    const passwordFile = path.join(tmp, "provisioner-password");
    fs.writeFileSync(passwordFile, provisionerPassword, { mode: 0o600 });
    const wrongPasswordFile = path.join(tmp, "wrong-password");
    fs.writeFileSync(wrongPasswordFile, `${provisionerPassword}-wrong`, { mode: 0o600 });
    const signs = () => emulator.calls.byMethod().AsymmetricSign ?? 0;
    t.diagnostic(`step-ca up on 127.0.0.1:${config.port}; KMS calls at start: ${JSON.stringify(emulator.calls.byMethod())}`);

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
