import * as assert from "node:assert/strict";
import * as net from "node:net";
import { after, before, describe, it } from "node:test";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { emulatorCryptoKeyProvider } from "../../dynamic-providers/emulator/emulator-crypto-key";
import { emulatorKeyRingProvider } from "../../dynamic-providers/emulator/emulator-key-ring";
import { type KmsEmulator, startKmsEmulator } from "../../kms-emulator/index";
import { createKmsClient } from "../../lib/kms/client";
import { reloadSerialized } from "../unit/support/serialized";

// Local mode's key providers against an in-process KMS emulator, through the real Cloud KMS client.
describe("emulator key ring and crypto key providers", () => {
    let emulator: KmsEmulator;
    let admin: KeyManagementServiceClient;
    let ringName: string;
    let n = 0;
    const unique = (prefix: string) => `${prefix}-${process.pid}-${++n}`;
    const keyInputs = (overrides: Record<string, unknown> = {}) => ({
        kmsEndpoint: emulator.address,
        keyRing: ringName,
        cryptoKeyId: unique("key"),
        algorithm: "EC_SIGN_P256_SHA256",
        protectionLevel: "SOFTWARE",
        destroyScheduledDuration: "86400s",
        labels: { app: "step-ca", role: "intermediate" },
        ...overrides,
    });

    before(async () => {
        emulator = await startKmsEmulator({ hsmPendingMs: 0 });
        admin = createKmsClient(emulator.address);
        const { outs } = await emulatorKeyRingProvider.create({
            kmsEndpoint: emulator.address,
            project: "stepca-local",
            location: "us-central1",
            keyRingId: unique("ring"),
        });
        ringName = outs!.name;
    });
    after(async () => {
        await admin.close();
        await emulator.stop();
    });

    it("creates a key ring by its full name, adopts one already there (an interrupted create), and forgets it on delete", async () => {
        const inputs = { kmsEndpoint: emulator.address, project: "stepca-local", location: "us-central1", keyRingId: unique("ring") };
        const { id, outs } = await emulatorKeyRingProvider.create(inputs);
        assert.equal(id, `projects/stepca-local/locations/us-central1/keyRings/${inputs.keyRingId}`);
        assert.deepEqual(outs, { ...inputs, name: id });
        assert.deepEqual(await emulatorKeyRingProvider.create(inputs), { id, outs });
        await emulatorKeyRingProvider.delete!(id, outs!);
        assert.deepEqual(await emulatorKeyRingProvider.read!(id, outs), { id, props: outs });
    });

    it("reports a key ring the emulator does not know as gone", async () => {
        const props = { kmsEndpoint: emulator.address, project: "stepca-local", location: "us-central1", keyRingId: "nope", name: "" };
        const id = "projects/stepca-local/locations/us-central1/keyRings/never-created";
        assert.deepEqual(await emulatorKeyRingProvider.read!(id, { ...props, name: id }), {});
    });

    it("creates an asymmetric-signing key whose first version can be used at once", async () => {
        const inputs = keyInputs({ destroyScheduledDuration: "172800s" });
        const { id, outs } = await emulatorCryptoKeyProvider.create(inputs);
        assert.equal(id, `${ringName}/cryptoKeys/${inputs.cryptoKeyId}`);
        assert.deepEqual(outs, { ...inputs, name: id, keyVersion: `${id}/cryptoKeyVersions/1` });
        const [key] = await admin.getCryptoKey({ name: id });
        assert.equal(key.purpose, "ASYMMETRIC_SIGN");
        assert.equal(key.versionTemplate?.algorithm, "EC_SIGN_P256_SHA256");
        assert.equal(Number(key.destroyScheduledDuration?.seconds), 172800);
        assert.deepEqual(key.labels, inputs.labels);
        const [publicKey] = await admin.getPublicKey({ name: outs!.keyVersion });
        assert.match(publicKey.pem ?? "", /BEGIN PUBLIC KEY/);
    });

    it("destroys every live version on delete, as the GCP provider does, and leaves the key", async () => {
        const { id, outs } = await emulatorCryptoKeyProvider.create(keyInputs());
        await admin.createCryptoKeyVersion({ parent: id, cryptoKeyVersion: {} });
        await emulatorCryptoKeyProvider.delete!(id, outs!);
        const [versions] = await admin.listCryptoKeyVersions({ parent: id });
        assert.deepEqual(versions.map((v) => v.state), ["DESTROY_SCHEDULED", "DESTROY_SCHEDULED"]);
        await emulatorCryptoKeyProvider.delete!(id, outs!);
        assert.deepEqual(await emulatorCryptoKeyProvider.read!(id, outs), { id, props: outs });
    });

    it("handles HSM keys", async () => {
        const { id, outs } = await emulatorCryptoKeyProvider.create(keyInputs({ protectionLevel: "HSM" }));
        const [version] = await admin.getCryptoKeyVersion({ name: outs!.keyVersion });
        assert.equal(version.protectionLevel, "HSM");
        await emulatorCryptoKeyProvider.delete!(id, outs!);
    });

    it("replaces a key for anything fixed at creation, and updates labels and the endpoint in place", async () => {
        const inputs = keyInputs();
        const { id, outs } = await emulatorCryptoKeyProvider.create(inputs);
        const diff = (news: object) => emulatorCryptoKeyProvider.diff!(id, outs!, { ...inputs, ...news });
        assert.deepEqual(await diff({}), { changes: false, replaces: [] });
        assert.deepEqual((await diff({ algorithm: "EC_SIGN_P384_SHA384" })).replaces, ["algorithm"]);
        assert.deepEqual((await diff({ protectionLevel: "HSM" })).replaces, ["protectionLevel"]);
        assert.deepEqual((await diff({ destroyScheduledDuration: "172800s" })).replaces, ["destroyScheduledDuration"]);
        assert.deepEqual((await diff({ keyRing: `${ringName}x` })).replaces, ["keyRing"]);
        assert.deepEqual(await diff({ kmsEndpoint: "127.0.0.1:1" }), { changes: false, replaces: [] }, "where KMS is changes nothing");
        const relabelled = { ...inputs, labels: { app: "step-ca", role: "renamed" } };
        assert.deepEqual(await diff(relabelled), { changes: true, replaces: [] });
        const { outs: updated } = await emulatorCryptoKeyProvider.update!(id, outs!, relabelled);
        assert.deepEqual(updated, { ...outs, labels: relabelled.labels });
        const [key] = await admin.getCryptoKey({ name: id });
        assert.deepEqual(key.labels, relabelled.labels);
    });

    it("a key ring whose create KMS completed after the client's deadline is adopted, not ALREADY_EXISTS", async () => {
        const inputs = { kmsEndpoint: emulator.address, project: "stepca-local", location: "us-central1", keyRingId: unique("ring") };
        // The answer is lost; the client library retries and its retry meets the ring the first attempt made.
        emulator.faults.loseAnswers("CreateKeyRing");
        emulator.calls.reset();
        const { id } = await emulatorKeyRingProvider.create(inputs);
        assert.deepEqual(emulator.calls.byMethod(), { CreateKeyRing: 2, GetKeyRing: 1 });
        assert.equal(id, `projects/stepca-local/locations/us-central1/keyRings/${inputs.keyRingId}`);
    });

    it("a crypto key whose create completed after the deadline is adopted with its one version: no orphan version", async () => {
        const inputs = keyInputs();
        emulator.faults.loseAnswers("CreateCryptoKey");
        const { id, outs } = await emulatorCryptoKeyProvider.create(inputs);
        assert.deepEqual(outs, { ...inputs, name: id, keyVersion: `${id}/cryptoKeyVersions/1` });
        const [versions] = await admin.listCryptoKeyVersions({ parent: id });
        assert.deepEqual(versions.map((v) => [v.name, v.state]), [[`${id}/cryptoKeyVersions/1`, "ENABLED"]]);
        // A rerun after a crash (Pulumi recorded nothing) adopts it again; labels are put back to the program's.
        await admin.updateCryptoKey({ cryptoKey: { name: id, labels: { app: "other" } }, updateMask: { paths: ["labels"] } });
        assert.deepEqual((await emulatorCryptoKeyProvider.create(inputs)).outs, outs);
        assert.deepEqual((await admin.getCryptoKey({ name: id }))[0].labels, inputs.labels);
    });

    it("a crypto key already there that this program would not create fails, naming what differs and what to do", async () => {
        const inputs = keyInputs();
        await emulatorCryptoKeyProvider.create({ ...inputs, algorithm: "EC_SIGN_P384_SHA384", protectionLevel: "HSM" });
        await assert.rejects(emulatorCryptoKeyProvider.create(inputs), (error: Error) => {
            assert.ok(error.message.includes(`${ringName}/cryptoKeys/${inputs.cryptoKeyId} already exists but is not the one`), error.message);
            assert.match(error.message, /algorithm is EC_SIGN_P384_SHA384, not EC_SIGN_P256_SHA256; protection level is HSM, not SOFTWARE/);
            assert.match(error.message, /pulumi config set keyRingPrefix/);
            return true;
        });
        const same = keyInputs();
        const { id } = await emulatorCryptoKeyProvider.create(same);
        await admin.destroyCryptoKeyVersion({ name: `${id}/cryptoKeyVersions/1` });
        await assert.rejects(emulatorCryptoKeyProvider.create(same), /cryptoKeyVersions\/1 is DESTROY_SCHEDULED/);
    });

    it("fails within seconds, saying what to do, when no emulator listens at kmsEndpoint", async () => {
        const closed = await new Promise<number>((resolve) => {
            const server = net.createServer().listen(0, "127.0.0.1", () => {
                const { port } = server.address() as net.AddressInfo;
                server.close(() => resolve(port));
            });
        });
        const started = Date.now();
        await assert.rejects(
            emulatorKeyRingProvider.create({ kmsEndpoint: `127.0.0.1:${closed}`, project: "stepca-local", location: "global", keyRingId: unique("ring") }),
            new RegExp(`Cannot reach the KMS emulator at 127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\)\\. Start it .*npm run local`),
        );
        assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    });

    it("call the endpoint the engine configured them with (the stack's kmsEndpoint), not the one in their properties", async () => {
        const keys = await reloadSerialized(emulatorCryptoKeyProvider);
        const rings = await reloadSerialized(emulatorKeyRingProvider);
        const config = { get: (key: string) => ({ "stepca-cloudkms:kmsEndpoint": emulator.address })[key], require: () => "" };
        await keys.configure!({ config });
        await rings.configure!({ config });
        const stale = "127.0.0.1:1"; // an endpoint state recorded before the setting moved to configure
        const ring = await rings.create({ kmsEndpoint: stale, project: "stepca-local", location: "global", keyRingId: unique("ring") });
        const { id, outs } = await keys.create(keyInputs({ kmsEndpoint: stale, keyRing: ring.id }));
        assert.deepEqual(await keys.read!(id, outs), { id, props: outs });
        await keys.delete!(id, outs!);
        const [version] = await admin.getCryptoKeyVersion({ name: outs!.keyVersion });
        assert.equal(version.state, "DESTROY_SCHEDULED");
    });

    it("rejects a destroy-scheduled duration that is not in seconds at check", async () => {
        const inputs = keyInputs({ destroyScheduledDuration: "1d" });
        const { failures } = await emulatorCryptoKeyProvider.check!(inputs, inputs);
        assert.deepEqual(failures?.map((f) => f.property), ["destroyScheduledDuration"]);
    });

    it("works from its serialized form", async () => {
        const rings = await reloadSerialized(emulatorKeyRingProvider);
        const ring = await rings.create({ kmsEndpoint: emulator.address, project: "stepca-local", location: "global", keyRingId: unique("ring") });
        const keys = await reloadSerialized(emulatorCryptoKeyProvider);
        const inputs = keyInputs({ keyRing: ring.id });
        const { id, outs } = await keys.create(inputs);
        assert.deepEqual((await keys.create(inputs)).id, id, "adopted from the serialized form too");
        assert.deepEqual(await keys.diff!(id, outs!, inputs), { changes: false, replaces: [] });
        assert.deepEqual(await keys.diff!(id, outs!, { ...inputs, algorithm: "EC_SIGN_P384_SHA384" }), {
            changes: true,
            replaces: ["algorithm"],
        });
        assert.deepEqual(await rings.diff!(ring.id, ring.outs!, { ...ring.outs!, location: "us-east1" }), {
            changes: true,
            replaces: ["location"],
        });
        await keys.delete!(id, outs!);
        const [version] = await admin.getCryptoKeyVersion({ name: outs!.keyVersion });
        assert.equal(version.state, "DESTROY_SCHEDULED");
    });
});
