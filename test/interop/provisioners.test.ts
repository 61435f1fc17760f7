/**
 * Interop: provisioners, lifetimes, issuance policy and name constraints, configured through the stack settings and
 * exercised with the real step-ca, the step CLI, openssl and certbot (from PyPI), all on loopback.
 *
 * ACME http-01 needs step-ca to fetch http://<identifier>:80/...: the identifier is `localhost` (the only name
 * resolving to 127.0.0.1 here; Go does not resolve *.localhost) and the challenge server listens on 127.0.0.1:80,
 * which other test runs may want too, so every use of port 80 holds /tmp/port80.lock (flock).
 */
import assert from "node:assert/strict";
import { X509Certificate, webcrypto } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { test } from "node:test";
import { CLOUD_KMS_HOST, createTlsIdentity } from "../../kms-emulator/index";
import { createKmsClient } from "../../lib/kms/client";
import { asymmetricSign, getPublicKey } from "../../lib/kms/signer";
import { remoteSigningKey } from "../../lib/kms/webcrypto";
import { randomSerialNumber } from "../../lib/pki/certificate-templates";
import { loadX509 } from "../../lib/pki/x509";
import { realTestsRequired, realToolsPresent, REQUIRE_REAL_TESTS_ENV } from "../support/real-tools";
import { certbotUnavailable, installCertbot } from "./support/certbot";
import { type InteropCa, splitPem, startInteropCa } from "./support/interop-ca";
import { STEP_TOOLS_NEEDED, expectSuccess, run } from "./support/step-tools";

const OPERATOR_PASSWORD = "operators-interop-password";
const PORT_80_LOCK = "/tmp/port80.lock";
const HOUR = 3600_000;

/** What the step CLI said went wrong: its last line that is neither progress nor the STEPDEBUG hint. */
function reason(stderr: string): string {
    return stderr.split("\n").filter((l) => l.trim() && !/Re-run with STEPDEBUG|\u2714/.test(l)).pop() ?? stderr;
}

/** Validity of a certificate in ms, without step-ca's one-minute backdate. */
function lifetime(cert: X509Certificate): number {
    return Date.parse(cert.validTo) - Date.parse(cert.validFrom) - 60_000;
}

function firstCert(file: string): X509Certificate {
    return new X509Certificate(splitPem(fs.readFileSync(file, "utf8"))[0]);
}

/** `openssl verify` of a leaf PEM against the CA's root, with the intermediate as untrusted. */
async function opensslVerify(ca: InteropCa, leafPem: string, name: string) {
    fs.writeFileSync(path.join(ca.tmp, `${name}.pem`), leafPem);
    fs.writeFileSync(path.join(ca.tmp, "intermediate.pem"), ca.intermediatePem);
    return run("openssl", ["verify", "-CAfile", ca.files.rootCert, "-untrusted", "intermediate.pem", `${name}.pem`], { cwd: ca.tmp });
}

/**
 * A leaf for `dnsName` signed outside step-ca with the intermediate key (through KMS, as a misused key would be):
 * name constraints are the only thing that can stop it.
 */
async function signLeafWithIntermediateKey(ca: InteropCa, dnsName: string): Promise<string> {
    const x509 = loadX509();
    const client = createKmsClient(ca.emulator.address);
    try {
        const { algorithm } = await getPublicKey(client, ca.intermediateKeyVersion);
        const { crypto, signingKey } = remoteSigningKey(algorithm, (digest) =>
            asymmetricSign(client, ca.intermediateKeyVersion, algorithm.digest, digest),
        );
        const leafKeys = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
        const issuer = new x509.X509Certificate(ca.intermediatePem);
        const cert = await x509.X509CertificateGenerator.create(
            {
                serialNumber: randomSerialNumber(),
                subject: `CN=${dnsName}`,
                issuer: issuer.subjectName,
                notBefore: new Date(Date.now() - 60_000),
                notAfter: new Date(Date.now() + HOUR),
                publicKey: leafKeys.publicKey,
                signingKey,
                extensions: [
                    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
                    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
                    new x509.SubjectAlternativeNameExtension([{ type: "dns", value: dnsName }]),
                    new x509.AuthorityKeyIdentifierExtension(issuer.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId),
                ],
            },
            crypto,
        );
        return cert.toString("pem");
    } finally {
        await client.close();
    }
}

/** Runs `file args` holding the port-80 lock, so concurrent runs take turns on 127.0.0.1:80. */
function onPort80(file: string, args: string[], opts: Parameters<typeof run>[2]) {
    return run("flock", ["--timeout", "300", PORT_80_LOCK, file, ...args], { timeoutMs: 360_000, ...opts });
}

test("provisioners, lifetimes, policy and name constraints from stack config, with the real step-ca", { timeout: 30 * 60_000 }, async (t) => {
    if (!realToolsPresent(t, "the provisioners interop test (real step-ca + step CLI)", STEP_TOOLS_NEEDED)) return;

    const ca = await startInteropCa(t, {
        settings: {
            provisioners: [
                { type: "JWK", name: "operators", password: OPERATOR_PASSWORD, claims: { defaultTLSCertDuration: "1h", maxTLSCertDuration: "2h" } },
                { type: "ACME", name: "acme", challenges: ["http-01"] },
            ],
            claims: { defaultTLSCertDuration: "12h", maxTLSCertDuration: "24h" },
            policy: { x509: { allow: { dns: ["localhost", "*.example.test"], ip: ["127.0.0.1"] }, deny: { dns: ["denied.example.test"] } } },
            nameConstraints: { permittedDNSDomains: ["localhost", "example.test"], permittedIPRanges: ["127.0.0.0/8"] },
        },
        // `pulumi config set --secret --path 'provisioners[0].password' …` makes the whole setting secret.
        secretSettings: ["provisioners"],
    });
    const passwordFile = path.join(ca.tmp, "operators-password");
    fs.writeFileSync(passwordFile, OPERATOR_PASSWORD, { mode: 0o600 });
    const jwk = (name: string, file: string, extra: string[] = []) =>
        ca.cli(["ca", "certificate", name, `${file}.crt`, `${file}.key`, "--provisioner", "operators", "--provisioner-password-file", passwordFile, "--force", ...extra]);

    await t.test("ca.json lists the configured provisioners, claims and policy, and step-ca serves them", async () => {
        const authority = JSON.parse(ca.rendered.caJson as string).authority;
        assert.deepEqual(authority.provisioners.map((p: { type: string; name: string }) => `${p.type}:${p.name}`), ["JWK:operators", "ACME:acme"]);
        const listed = JSON.parse(expectSuccess("step ca provisioner list", await ca.cli(["ca", "provisioner", "list"])).stdout);
        assert.deepEqual(listed.map((p: { type: string; name: string }) => `${p.type}:${p.name}`), ["JWK:operators", "ACME:acme"]);
    });

    await t.test("JWK: the provisioner's default lifetime applies when none is asked for", async () => {
        expectSuccess("step ca certificate (JWK)", await jwk("leaf.example.test", "jwk"));
        const leaf = firstCert(path.join(ca.tmp, "jwk.crt"));
        assert.equal(lifetime(leaf), HOUR, `${leaf.validFrom} .. ${leaf.validTo}`);
        assert.ok(leaf.verify(new X509Certificate(ca.intermediatePem).publicKey));
        console.log(`JWK leaf: ${leaf.subject}, valid ${leaf.validFrom} .. ${leaf.validTo}`);
    });

    await t.test("a lifetime above the provisioner's maximum is refused; one inside it is granted", async () => {
        const tooLong = await jwk("long.example.test", "long", ["--not-after", "3h"]);
        assert.notEqual(tooLong.code, 0, "3h is above maxTLSCertDuration 2h");
        assert.match(tooLong.stderr, /duration|not.?after/i);
        console.log(`--not-after 3h -> ${reason(tooLong.stderr)}`);
        assert.ok(!fs.existsSync(path.join(ca.tmp, "long.crt")));
        expectSuccess("step ca certificate --not-after 90m", await jwk("long.example.test", "ok", ["--not-after", "90m"]));
        assert.equal(lifetime(firstCert(path.join(ca.tmp, "ok.crt"))), 1.5 * HOUR);
    });

    await t.test("names outside the issuance policy are refused", async () => {
        for (const name of ["outside.invalid", "denied.example.test", "a.b.example.test"]) {
            const r = await jwk(name, "refused");
            assert.notEqual(r.code, 0, `${name} must be refused`);
            assert.match(r.stderr, new RegExp(`dns name "${name.replace(/\./g, "\\.")}" (is )?not (permitted|allowed)`, "i"), r.stderr);
            console.log(`${name} -> ${reason(r.stderr)}`);
        }
        assert.ok(!fs.existsSync(path.join(ca.tmp, "refused.crt")));
    });

    await t.test("ACME http-01 with the step CLI on loopback, the authority's default lifetime", async () => {
        const before = ca.signsBy(ca.intermediateKeyVersion);
        const r = await onPort80(ca.tools.step, ["ca", "certificate", "localhost", "acme.crt", "acme.key", "--provisioner", "acme", "--http-listen", "127.0.0.1:80", "--force"], {
            cwd: ca.tmp,
            env: { PATH: process.env.PATH, HOME: path.join(ca.tmp, "home"), STEPPATH: ca.files.stepPath },
        });
        expectSuccess("step ca certificate (ACME http-01)", r);
        const leaf = firstCert(path.join(ca.tmp, "acme.crt"));
        assert.match(leaf.subjectAltName ?? "", /DNS:localhost/);
        assert.equal(lifetime(leaf), 12 * HOUR, "authority claims: defaultTLSCertDuration 12h");
        assert.ok(ca.signsBy(ca.intermediateKeyVersion) > before, "signed with the intermediate key in KMS");
        const verified = await opensslVerify(ca, splitPem(fs.readFileSync(path.join(ca.tmp, "acme.crt"), "utf8"))[0], "acme-leaf");
        assert.equal(verified.code, 0, verified.stderr);
    });

    await t.test("the intermediate carries critical name constraints; openssl accepts leaves inside, rejects one outside", async () => {
        const text = expectSuccess("openssl x509 -text", await run("openssl", ["x509", "-noout", "-text", "-in", ca.files.intermediateCert])).stdout;
        assert.match(text, /X509v3 Name Constraints: critical/);
        assert.match(text, /Permitted:\s+DNS:localhost\s+DNS:example\.test\s+IP:127\.0\.0\.0\/255\.0\.0\.0/);
        // step-ca's own leaf (JWK, above) and one signed outside step-ca inside the constraints verify ...
        const issued = await opensslVerify(ca, splitPem(fs.readFileSync(path.join(ca.tmp, "jwk.crt"), "utf8"))[0], "issued");
        assert.equal(issued.code, 0, issued.stderr);
        const inside = await opensslVerify(ca, await signLeafWithIntermediateKey(ca, "inside.example.test"), "inside");
        assert.equal(inside.code, 0, inside.stderr + inside.stdout);
        // ... a leaf for a name outside them, signed by the very same key, does not.
        const outside = await opensslVerify(ca, await signLeafWithIntermediateKey(ca, "evil.invalid"), "outside");
        assert.notEqual(outside.code, 0, "openssl must reject a leaf outside the name constraints");
        assert.match(outside.stdout + outside.stderr, /permitted subtree violation/);
        console.log(`leaf outside the constraints -> ${(outside.stdout + outside.stderr).trim().split("\n").filter((l) => /error/.test(l))[0]}`);
    });

    await t.test("certbot (from PyPI) gets a certificate over ACME http-01 and renews it", async (st) => {
        const missing = certbotUnavailable();
        if (missing) {
            const message = `certbot cannot be installed: missing ${missing}`;
            if (realTestsRequired()) throw new Error(`${message}; ${REQUIRE_REAL_TESTS_ENV}=1 requires this test to run.`);
            console.warn(`\nSKIPPING: ${message}\n`);
            st.skip(message);
            return;
        }
        const certbot = installCertbot();
        const dirs = ["config", "work", "logs"].map((d) => path.join(ca.tmp, `certbot-${d}`));
        const common = ["--config-dir", dirs[0], "--work-dir", dirs[1], "--logs-dir", dirs[2], "--non-interactive"];
        const env = { PATH: process.env.PATH, HOME: path.join(ca.tmp, "home"), REQUESTS_CA_BUNDLE: ca.files.rootCert };
        const directory = `https://127.0.0.1:${ca.config.port}/acme/acme/directory`;
        const obtained = await onPort80(certbot, [
            "certonly", "--standalone", "--http-01-address", "127.0.0.1", "--http-01-port", "80",
            "-d", "localhost", "--server", directory, "--agree-tos", "--register-unsafely-without-email", ...common,
        ], { env, cwd: ca.tmp });
        expectSuccess("certbot certonly", obtained);
        const live = path.join(dirs[0], "live/localhost");
        const first = firstCert(path.join(live, "cert.pem"));
        assert.match(first.subjectAltName ?? "", /DNS:localhost/);
        assert.equal((await opensslVerify(ca, fs.readFileSync(path.join(live, "cert.pem"), "utf8"), "certbot")).code, 0);

        // Without a terminal, certbot renew first sleeps up to 8 minutes (spreading load on public CAs).
        const renewed = await onPort80(certbot, ["renew", "--force-renewal", "--no-random-sleep-on-renew", ...common], { env, cwd: ca.tmp });
        expectSuccess("certbot renew", renewed);
        const second = firstCert(path.join(live, "cert.pem"));
        assert.notEqual(second.serialNumber, first.serialNumber, "renew issued a new certificate");
        assert.ok(second.verify(new X509Certificate(ca.intermediatePem).publicKey));
        console.log(`certbot: ${first.serialNumber} renewed as ${second.serialNumber}`);
    });
});

/** A JSON server on loopback for stand-ins; counts the paths it was asked for. */
async function jsonServer(
    routes: Record<string, unknown>,
    tlsOptions?: { key: string; cert: string },
): Promise<{ port: number; hits: string[]; close(): Promise<void> }> {
    const hits: string[] = [];
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
        hits.push(req.url ?? "");
        const body = routes[req.url ?? ""];
        res.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json", "cache-control": "max-age=3600" });
        res.end(body === undefined ? "{}" : JSON.stringify(body));
    };
    const server = tlsOptions ? https.createServer(tlsOptions, handler) : http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as AddressInfo).port,
        hits,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

test("GCP and OIDC provisioners: step-ca starts with the rendered config (Google's keys and the IdP are stand-ins)", { timeout: 30 * 60_000 }, async (t) => {
    if (!realToolsPresent(t, "the GCP/OIDC provisioner start test (real step-ca)", STEP_TOOLS_NEEDED)) return;

    // Stand-in for Google's OAuth2 certificate endpoint, which step-ca's GCP provisioner fetches at start: served as
    // www.googleapis.com (the test CA step-ca trusts vouches for it) behind the same CONNECT proxy as Cloud KMS.
    const tlsIdentity = await createTlsIdentity([CLOUD_KMS_HOST, "www.googleapis.com"]);
    const { publicKey } = await webcrypto.subtle.generateKey(
        { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
        true,
        ["sign", "verify"],
    );
    const jwks = { keys: [{ ...(await webcrypto.subtle.exportKey("jwk", publicKey)), kid: "stand-in", use: "sig", alg: "RS256" }] };
    const google = await jsonServer({ "/oauth2/v3/certs": jwks }, { key: tlsIdentity.keyPem, cert: tlsIdentity.certPem });
    t.after(() => google.close());
    // Stand-in OpenID provider: discovery document and key set, on loopback over http (allowed for loopback only).
    const idpRoutes: Record<string, unknown> = {};
    const idpServer = await jsonServer(idpRoutes);
    t.after(() => idpServer.close());
    const issuer = `http://127.0.0.1:${idpServer.port}`;
    idpRoutes["/jwks"] = jwks;
    idpRoutes["/.well-known/openid-configuration"] = {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
    };
    const endpoint = `http://127.0.0.1:${idpServer.port}/.well-known/openid-configuration`;

    const ca = await startInteropCa(t, {
        settings: {
            provisioners: [
                { type: "GCP", name: "gce", projectIDs: ["my-prod-project"], serviceAccounts: ["app@my-prod-project.iam.gserviceaccount.com"], instanceAge: "1h", disableCustomSANs: true },
                { type: "OIDC", name: "idp", clientID: "step-ca-interop", clientSecret: "interop-client-secret", configurationEndpoint: endpoint, admins: ["admin@example.test"], domains: ["example.test"] },
            ],
        },
        secretSettings: ["provisioners"],
        tlsIdentity,
        routes: { "www.googleapis.com:443": { host: "127.0.0.1", port: google.port } },
    });

    const health = await ca.stepCa.health();
    assert.equal(health.status, 200);
    const listed = JSON.parse(expectSuccess("step ca provisioner list", await ca.cli(["ca", "provisioner", "list"])).stdout);
    assert.deepEqual(listed.map((p: { type: string; name: string }) => `${p.type}:${p.name}`), ["GCP:gce", "OIDC:idp"]);
    const gce = listed[0];
    assert.deepEqual(gce.projectIDs, ["my-prod-project"]);
    assert.equal(gce.instanceAge, "1h0m0s");
    // step-ca publishes an OIDC client secret on its unauthenticated /provisioners endpoint (the step CLI needs it
    // for the browser flow): it keeps a public client's secret, not a confidential one (README says so).
    assert.equal(listed[1].clientSecret, "interop-client-secret");
    assert.ok(google.hits.includes("/oauth2/v3/certs"), `the GCP provisioner fetched Google's keys: ${google.hits}`);
    assert.ok(ca.tunnelled.includes("www.googleapis.com:443"), `through the proxy: ${ca.tunnelled}`);
    assert.ok(idpServer.hits.includes("/.well-known/openid-configuration") && idpServer.hits.includes("/jwks"), `IdP hits: ${idpServer.hits}`);
    assert.equal(JSON.parse(ca.rendered.caJson as string).authority.provisioners[1].clientSecret, "interop-client-secret");
    // No JWK provisioner: the password file step-ca is started with is empty, and step-ca does not need it.
    assert.equal(fs.readFileSync(ca.files.password, "utf8"), "");
    console.log(`step-ca started with GCP and OIDC provisioners; stand-ins served ${google.hits.length + idpServer.hits.length} requests`);
});
