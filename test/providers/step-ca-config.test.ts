import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
    type StepCaConfigInputs,
    type StepCaConfigState,
    stepCaConfigProvider,
} from "../../dynamic-providers/step-ca-config";
import { certificateFingerprint } from "../../lib/pki/fingerprint";
import { decryptProvisionerKey } from "../../lib/step-ca/jwk-provisioner";
import { loadX509 } from "../../lib/pki/x509";

const provider = stepCaConfigProvider as Required<typeof stepCaConfigProvider>;
const KEY_VERSION = "projects/acme-pki/locations/us-east1/keyRings/ca/cryptoKeys/intermediate/cryptoKeyVersions/1";
const NO_CHANGES = { changes: false, replaces: [], deleteBeforeReplace: false };
const UPDATE = { changes: true, replaces: [], deleteBeforeReplace: false };

/**
 * Any self-signed certificate will do: the provider only fingerprints the root. Made in process (no openssl), so
 * these tests run wherever Node does.
 */
async function rootCertificate(): Promise<string> {
    const x509 = loadX509();
    type Params = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>;
    const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const keys = await webcrypto.subtle.generateKey(algorithm, false, ["sign", "verify"]);
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
        {
            serialNumber: "01",
            name: "CN=Config Root",
            notBefore: new Date(),
            notAfter: new Date(Date.now() + 86_400_000),
            keys: keys as unknown as Params[0]["keys"],
            signingAlgorithm: algorithm,
        },
        webcrypto as unknown as Params[1],
    );
    return cert.toString("pem");
}

describe("StepCaConfig provider", () => {
    let inputs: StepCaConfigInputs;
    let id: string;
    let state: StepCaConfigState;

    before(async () => {
        inputs = { intermediateKeyVersion: KEY_VERSION, rootCertPem: await rootCertificate(), dnsNames: ["ca.example.com"] };
        const created = await provider.create(inputs);
        id = created.id;
        state = created.outs;
    });

    it("create renders ca.json and defaults.json with a generated password and a provisioner that decrypts", async () => {
        assert.match(state.provisionerPassword, /^[A-Za-z0-9_-]{43}$/);
        const caJson = JSON.parse(state.caJson);
        assert.equal(caJson.key, KEY_VERSION);
        assert.deepEqual(caJson.dnsNames, ["ca.example.com"]);
        assert.equal(caJson.address, ":9000");
        const [provisioner] = caJson.authority.provisioners;
        assert.equal(provisioner.name, "admin");
        assert.equal(provisioner.key.kid, state.provisionerKid);
        const privateJwk = await decryptProvisionerKey(provisioner.encryptedKey, state.provisionerPassword);
        assert.equal(privateJwk.kid, state.provisionerKid);

        const defaults = JSON.parse(state.defaultsJson);
        assert.equal(state.fingerprint, certificateFingerprint(inputs.rootCertPem));
        assert.equal(defaults.fingerprint, state.fingerprint);
        assert.equal(defaults["ca-url"], "https://ca.example.com:9000");
        assert.equal(state.caUrl, "https://ca.example.com:9000");
    });

    it("a given password is used as is", async () => {
        const created = await provider.create({ ...inputs, provisionerPassword: "given-secret", provisionerName: "ops" });
        assert.equal(created.outs.provisionerPassword, "given-secret");
        const [provisioner] = JSON.parse(created.outs.caJson).authority.provisioners;
        assert.equal(provisioner.name, "ops");
        await decryptProvisionerKey(provisioner.encryptedKey, "given-secret");
    });

    it("diff with unchanged inputs reports no changes, also with the default caUrl spelled out", async () => {
        assert.deepEqual(await provider.diff(id, state, inputs), NO_CHANGES);
        assert.deepEqual(await provider.diff(id, state, { ...inputs, caUrl: "https://ca.example.com:9000" }), NO_CHANGES);
        assert.deepEqual(await provider.diff(id, state, { ...inputs, address: ":9000" }), NO_CHANGES);
    });

    it("a rendering change updates in place and keeps the provisioner byte for byte", async () => {
        const news = { ...inputs, dnsNames: ["ca.example.com", "localhost"], address: ":8443" };
        assert.deepEqual(await provider.diff(id, state, news), UPDATE);
        const { outs } = await provider.update(id, state, news);
        const caJson = JSON.parse(outs.caJson);
        assert.deepEqual(caJson.dnsNames, ["ca.example.com", "localhost"]);
        assert.equal(caJson.address, ":8443");
        assert.equal(outs.caUrl, "https://ca.example.com:8443");
        assert.deepEqual(caJson.authority.provisioners, JSON.parse(state.caJson).authority.provisioners);
        assert.equal(outs.provisionerPassword, state.provisionerPassword);
    });

    it("a new password or provisioner name regenerates the provisioner", async () => {
        for (const change of [{ provisionerPassword: "rotated" }, { provisionerName: "renamed" }]) {
            const news = { ...inputs, ...change };
            assert.deepEqual(await provider.diff(id, state, news), UPDATE);
            const { outs } = await provider.update(id, state, news);
            assert.notEqual(outs.provisionerKid, state.provisionerKid);
            const [provisioner] = JSON.parse(outs.caJson).authority.provisioners;
            await decryptProvisionerKey(provisioner.encryptedKey, outs.provisionerPassword);
        }
    });

    it("removing a given password keeps it: no silent rotation of the provisioner or its password", async () => {
        const given = { ...inputs, provisionerPassword: "given-secret-password" };
        const created = await provider.create(given);
        const { provisionerPassword: _, ...removed } = given;
        assert.deepEqual(await provider.diff(created.id, created.outs, removed), NO_CHANGES);
        // Updated for another reason, the provisioner and the password it is encrypted under stay as they are.
        const rerendered = { ...removed, address: ":8443" };
        assert.deepEqual(await provider.diff(created.id, created.outs, rerendered), UPDATE);
        const { outs } = await provider.update(created.id, created.outs, rerendered);
        assert.equal(outs.provisionerPassword, "given-secret-password");
        assert.equal(outs.provisionerKid, created.outs.provisionerKid);
        assert.deepEqual(outs.provisioner, created.outs.provisioner);
        // Giving the same password again is no change either; only a different one rotates.
        assert.deepEqual(await provider.diff(created.id, outs, { ...rerendered, provisionerPassword: "given-secret-password" }), NO_CHANGES);
    });

    it("diff reports a change while inputs are still unknown (preview)", async () => {
        const news = { ...inputs, rootCertPem: pulumi.runtime.unknownValue };
        assert.deepEqual(await provider.diff(id, state, news), UPDATE);
    });

    it("check lists invalid settings per property and skips inputs not known yet", async () => {
        const bad = { ...inputs, address: "9000", dnsNames: [], paths: { db: "relative/db" } };
        const { failures } = await provider.check({}, bad);
        assert.deepEqual(
            failures?.map((f) => f.property),
            ["address", "dnsNames", "paths.db"],
        );
        const unknown = await provider.check({}, { ...bad, address: pulumi.runtime.unknownValue });
        assert.deepEqual(unknown.failures, []);
    });

    describe("with a provisioners list", () => {
        const PROVISIONERS: StepCaConfigInputs["provisioners"] = [
            { type: "JWK", name: "operators" },
            { type: "ACME", name: "acme", challenges: ["http-01"] },
            { type: "JWK", name: "ci", claims: { maxTLSCertDuration: "1h" } },
            { type: "OIDC", name: "idp", clientID: "id", configurationEndpoint: "https://idp.example.com" },
        ];
        let listed: StepCaConfigInputs;
        let created: { id: string; outs: StepCaConfigState };
        before(async () => {
            listed = {
                ...inputs,
                provisioners: PROVISIONERS,
                provisionerPasswords: { ci: "ci-password-0123456" },
                clientSecrets: { idp: "idp-client-secret" },
                claims: { defaultTLSCertDuration: "12h" },
                policy: { allow: { dns: ["*.example.com"] } },
            };
            created = (await provider.create(listed)) as typeof created;
        });
        const entries = (caJson: string) => JSON.parse(caJson).authority.provisioners;

        it("renders every provisioner in order, a key per JWK (given or generated password), the client secret", async () => {
            const [operators, acme, ci, idp] = entries(created.outs.caJson);
            assert.deepEqual([operators.name, acme.name, ci.name, idp.name], ["operators", "acme", "ci", "idp"]);
            assert.equal(created.outs.jwkPasswords.ci, "ci-password-0123456");
            assert.match(created.outs.jwkPasswords.operators, /^[A-Za-z0-9_-]{43}$/);
            await decryptProvisionerKey(operators.encryptedKey, created.outs.jwkPasswords.operators);
            await decryptProvisionerKey(ci.encryptedKey, "ci-password-0123456");
            assert.deepEqual(ci.claims, { maxTLSCertDuration: "1h" });
            assert.equal(idp.clientSecret, "idp-client-secret");
            assert.equal(created.outs.provisionerPassword, created.outs.jwkPasswords.operators, "the first JWK's");
            const authority = JSON.parse(created.outs.caJson).authority;
            assert.deepEqual(authority.claims, { defaultTLSCertDuration: "12h" });
            assert.deepEqual(authority.policy, { x509: { allow: { dns: ["*.example.com"] } } });
        });

        it("keeps every JWK key through other changes; a new password regenerates that JWK only", async () => {
            const reordered = { ...listed, provisioners: [...PROVISIONERS].reverse(), policy: undefined };
            assert.deepEqual(await provider.diff(created.id, created.outs, reordered), UPDATE);
            const kept = (await provider.update(created.id, created.outs, reordered)).outs;
            assert.deepEqual(kept.jwkProvisioners, created.outs.jwkProvisioners);
            assert.deepEqual(kept.jwkPasswords, created.outs.jwkPasswords);
            assert.equal("policy" in JSON.parse(kept.caJson).authority, false);

            const rotated = { ...listed, provisionerPasswords: { ci: "another-ci-password" } };
            assert.deepEqual(await provider.diff(created.id, created.outs, rotated), UPDATE);
            const outs = (await provider.update(created.id, created.outs, rotated)).outs;
            assert.deepEqual(outs.jwkProvisioners.operators, created.outs.jwkProvisioners.operators);
            assert.notEqual(outs.jwkProvisioners.ci.key.kid, created.outs.jwkProvisioners.ci.key.kid);
            await decryptProvisionerKey(outs.jwkProvisioners.ci.encryptedKey, "another-ci-password");
        });

        it("state from before the list (one `provisioner`) carries over: the admin JWK keeps its key", async () => {
            const legacy = (await provider.create(inputs)).outs;
            const { jwkProvisioners: _k, jwkPasswords: _p, ...old } = legacy;
            const news = { ...inputs, provisioners: [{ type: "JWK" as const, name: "admin" }, { type: "ACME" as const, name: "acme" }] };
            const outs = (await provider.update("id", old as StepCaConfigState, news)).outs;
            assert.deepEqual(outs.jwkProvisioners.admin, legacy.provisioner);
            assert.equal(outs.jwkPasswords.admin, legacy.provisionerPassword);
        });

        it("without a JWK: no provisioner password, and check refuses duplicate names", async () => {
            const outs = (await provider.create({ ...inputs, provisioners: [{ type: "ACME", name: "acme" }] })).outs;
            assert.equal(outs.provisionerPassword, "");
            assert.deepEqual(outs.jwkPasswords, {});
            const { failures } = await provider.check({}, { ...inputs, provisioners: [{ type: "ACME", name: "a" }, { type: "JWK", name: "a" }] });
            assert.deepEqual(failures?.map((f) => f.property), ["provisioners[1].name"]);
        });
    });
});
