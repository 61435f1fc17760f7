import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
    type StepCaConfigInputs,
    type StepCaConfigState,
    stepCaConfigProvider,
} from "../../dynamic-providers/step-ca-config";
import { certificateFingerprint } from "../../lib/fingerprint";
import { decryptProvisionerKey } from "../../lib/jwk-provisioner";

const provider = stepCaConfigProvider as Required<typeof stepCaConfigProvider>;
const KEY_VERSION = "projects/acme-pki/locations/us-east1/keyRings/ca/cryptoKeys/intermediate/cryptoKeyVersions/1";
const NO_CHANGES = { changes: false, replaces: [], deleteBeforeReplace: false };
const UPDATE = { changes: true, replaces: [], deleteBeforeReplace: false };

function rootCertificate(): string {
    const dir = mkdtempSync(join(tmpdir(), "stepca-config-"));
    try {
        execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
            .concat(["-subj", "/CN=Config Root", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1"]), {
            stdio: "ignore",
        });
        return readFileSync(join(dir, "c.pem"), "utf8");
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

describe("StepCaConfig provider", () => {
    let inputs: StepCaConfigInputs;
    let id: string;
    let state: StepCaConfigState;

    before(async () => {
        inputs = { intermediateKeyVersion: KEY_VERSION, rootCertPem: rootCertificate(), dnsNames: ["ca.example.com"] };
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
});
