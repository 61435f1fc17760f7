import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import { LOCATION, createKeyRing, createSigningKey, rpcError, startWithClient, uniqueId, type VersionState } from "./support";

const DAY = 24 * 3600;

describe("key rings", () => {
    test("create, get and list; duplicates, unknown and malformed names are refused", async (t) => {
        const { client } = await startWithClient(t);
        const before = Date.now();
        const [ring] = await client.createKeyRing({ parent: LOCATION, keyRingId: "ring-1", keyRing: {} });
        assert.equal(ring.name, `${LOCATION}/keyRings/ring-1`);
        const created = Number(ring.createTime!.seconds) * 1000;
        assert.ok(created >= before - 1000 && created <= Date.now(), "create_time is now");

        const [got] = await client.getKeyRing({ name: ring.name });
        assert.deepEqual(got, ring);
        const [listed] = await client.listKeyRings({ parent: LOCATION });
        assert.deepEqual(listed.map((r) => r.name), [ring.name]);
        const [elsewhere] = await client.listKeyRings({ parent: "projects/test-project/locations/global" });
        assert.deepEqual(elsewhere, []);

        await assert.rejects(client.createKeyRing({ parent: LOCATION, keyRingId: "ring-1", keyRing: {} }), rpcError(status.ALREADY_EXISTS, /already exists/));
        await assert.rejects(client.getKeyRing({ name: `${LOCATION}/keyRings/nope` }), rpcError(status.NOT_FOUND, /KeyRing .*nope not found/));
        await assert.rejects(client.createKeyRing({ parent: "projects/p/locations/global", keyRingId: "r", keyRing: {} }), rpcError(status.INVALID_ARGUMENT, /Invalid parent/));
        await assert.rejects(client.createKeyRing({ parent: LOCATION, keyRingId: "bad id!", keyRing: {} }), rpcError(status.INVALID_ARGUMENT, /key_ring_id/));
        await assert.rejects(client.createKeyRing({ parent: LOCATION, keyRingId: "x".repeat(64), keyRing: {} }), rpcError(status.INVALID_ARGUMENT));
        await assert.rejects(client.getKeyRing({ name: `${LOCATION}/keyRings/a/extra` }), rpcError(status.INVALID_ARGUMENT));
    });
});

describe("crypto keys", () => {
    test("CreateCryptoKey makes ENABLED version 1; asymmetric keys have no primary; default destroy duration is 30 days", async (t) => {
        const { client } = await startWithClient(t);
        const ring = await createKeyRing(client);
        const [key] = await client.createCryptoKey({
            parent: ring,
            cryptoKeyId: "root",
            cryptoKey: { purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm: "EC_SIGN_P256_SHA256" }, labels: { role: "root-ca" } },
        });
        assert.equal(key.name, `${ring}/cryptoKeys/root`);
        assert.equal(key.purpose, "ASYMMETRIC_SIGN");
        assert.equal(key.primary, null);
        assert.deepEqual(key.versionTemplate, { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "SOFTWARE" });
        assert.deepEqual(key.labels, { role: "root-ca" });
        assert.equal(Number(key.destroyScheduledDuration!.seconds), 30 * DAY);

        const [versions] = await client.listCryptoKeyVersions({ parent: key.name });
        assert.equal(versions.length, 1);
        assert.equal(versions[0].name, `${key.name}/cryptoKeyVersions/1`);
        assert.equal(versions[0].state, "ENABLED");
        assert.equal(versions[0].algorithm, "EC_SIGN_P256_SHA256");
        assert.equal(versions[0].protectionLevel, "SOFTWARE");
        assert.ok(versions[0].generateTime, "generate_time is set once generated");
        assert.deepEqual((await client.getCryptoKey({ name: key.name }))[0], key);
        assert.deepEqual((await client.listCryptoKeys({ parent: ring }))[0].map((k) => k.name), [key.name]);

        await assert.rejects(createSigningKey(client, ring, "EC_SIGN_P256_SHA256", { id: "root" }), rpcError(status.ALREADY_EXISTS));
        await assert.rejects(client.getCryptoKey({ name: `${ring}/cryptoKeys/nope` }), rpcError(status.NOT_FOUND, /CryptoKey .* not found/));
        await assert.rejects(createSigningKey(client, `${LOCATION}/keyRings/missing`, "EC_SIGN_P256_SHA256"), rpcError(status.NOT_FOUND, /KeyRing/));
        await assert.rejects(client.listCryptoKeys({ parent: `${LOCATION}/keyRings/missing` }), rpcError(status.NOT_FOUND));
    });

    test("destroy_scheduled_duration is honoured and bounded to 24 hours .. 120 days", async (t) => {
        const { client } = await startWithClient(t);
        const ring = await createKeyRing(client);
        const key = await createSigningKey(client, ring, "EC_SIGN_P256_SHA256", { destroySeconds: 2 * DAY });
        assert.equal(Number((await client.getCryptoKey({ name: key }))[0].destroyScheduledDuration!.seconds), 2 * DAY);
        await assert.rejects(createSigningKey(client, ring, "EC_SIGN_P256_SHA256", { destroySeconds: 3600 }), rpcError(status.INVALID_ARGUMENT, /destroy_scheduled_duration/));
        await assert.rejects(createSigningKey(client, ring, "EC_SIGN_P256_SHA256", { destroySeconds: 121 * DAY }), rpcError(status.INVALID_ARGUMENT, /destroy_scheduled_duration/));
    });

    test("invalid key definitions are INVALID_ARGUMENT; valid ones the emulator does not model are UNIMPLEMENTED", async (t) => {
        const { client } = await startWithClient(t);
        const ring = await createKeyRing(client);
        const create = (cryptoKey: object, cryptoKeyId = uniqueId("k")) => client.createCryptoKey({ parent: ring, cryptoKeyId, cryptoKey });
        await assert.rejects(create({ versionTemplate: { algorithm: "EC_SIGN_P256_SHA256" } }), rpcError(status.INVALID_ARGUMENT, /purpose is required/));
        await assert.rejects(create({ purpose: "ASYMMETRIC_SIGN" }), rpcError(status.INVALID_ARGUMENT, /algorithm is required/));
        await assert.rejects(create({ purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION" } }), rpcError(status.INVALID_ARGUMENT, /not compatible/));
        await assert.rejects(create({ purpose: "ENCRYPT_DECRYPT", versionTemplate: { algorithm: "EC_SIGN_P256_SHA256" } }), rpcError(status.INVALID_ARGUMENT, /not compatible/));
        await assert.rejects(
            create({ purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm: "EC_SIGN_P256_SHA256" }, rotationPeriod: { seconds: 90 * DAY } }),
            rpcError(status.INVALID_ARGUMENT, /rotation/),
        );
        await assert.rejects(create({ purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm: "EC_SIGN_P256_SHA256" }, labels: { Bad: "x" } }), rpcError(status.INVALID_ARGUMENT, /label/));
        await assert.rejects(create({ purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm: "EC_SIGN_P256_SHA256" } }, "bad/id"), rpcError(status.INVALID_ARGUMENT, /crypto_key_id/));
        await assert.rejects(create({ purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm: "EC_SIGN_ED25519" } }), rpcError(status.UNIMPLEMENTED, /EC_SIGN_ED25519/));
        await assert.rejects(create({ purpose: "MAC", versionTemplate: { algorithm: "HMAC_SHA256" } }), rpcError(status.UNIMPLEMENTED, /MAC/));
        await assert.rejects(
            create({ purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "EXTERNAL" } }),
            rpcError(status.UNIMPLEMENTED, /EXTERNAL/),
        );
        assert.deepEqual((await client.listCryptoKeys({ parent: ring }))[0], [], "nothing was created by refused requests");
    });

    test("skip_initial_version_creation leaves the key without versions; symmetric keys get a primary", async (t) => {
        const { client } = await startWithClient(t);
        const ring = await createKeyRing(client);
        const [bare] = await client.createCryptoKey({
            parent: ring,
            cryptoKeyId: "bare",
            cryptoKey: { purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm: "EC_SIGN_P384_SHA384" } },
            skipInitialVersionCreation: true,
        });
        const [none, , raw] = await client.listCryptoKeyVersions({ parent: bare.name }, { autoPaginate: false });
        assert.deepEqual(none, []);
        assert.equal(raw!.totalSize, 0);
        const [v1] = await client.createCryptoKeyVersion({ parent: bare.name, cryptoKeyVersion: {} });
        assert.equal(v1.name, `${bare.name}/cryptoKeyVersions/1`);
        assert.equal(v1.algorithm, "EC_SIGN_P384_SHA384");

        const [symmetric] = await client.createCryptoKey({ parent: ring, cryptoKeyId: "sym", cryptoKey: { purpose: "ENCRYPT_DECRYPT" } });
        assert.equal(symmetric.versionTemplate!.algorithm, "GOOGLE_SYMMETRIC_ENCRYPTION");
        assert.equal(symmetric.primary!.name, `${symmetric.name}/cryptoKeyVersions/1`);
        assert.equal(symmetric.primary!.state, "ENABLED");
    });

    test("UpdateCryptoKey changes labels and the version template, and refuses immutable or unknown fields", async (t) => {
        const { client } = await startWithClient(t);
        const key = await createSigningKey(client, await createKeyRing(client), "EC_SIGN_P256_SHA256");

        const [labelled] = await client.updateCryptoKey({ cryptoKey: { name: key, labels: { env: "test" } }, updateMask: { paths: ["labels"] } });
        assert.deepEqual(labelled.labels, { env: "test" });
        const [retemplated] = await client.updateCryptoKey({
            cryptoKey: { name: key, versionTemplate: { algorithm: "EC_SIGN_P384_SHA384" } },
            updateMask: { paths: ["version_template.algorithm"] },
        });
        assert.equal(retemplated.versionTemplate!.algorithm, "EC_SIGN_P384_SHA384");
        assert.deepEqual(retemplated.labels, { env: "test" }, "fields outside the mask are kept");
        const [v2] = await client.createCryptoKeyVersion({ parent: key, cryptoKeyVersion: {} });
        assert.equal(v2.name, `${key}/cryptoKeyVersions/2`);
        assert.equal(v2.algorithm, "EC_SIGN_P384_SHA384");
        assert.equal((await client.getCryptoKeyVersion({ name: `${key}/cryptoKeyVersions/1` }))[0].algorithm, "EC_SIGN_P256_SHA256");

        const update = (cryptoKey: object, paths: string[]) => client.updateCryptoKey({ cryptoKey: { name: key, ...cryptoKey }, updateMask: { paths } });
        await assert.rejects(update({ purpose: "ENCRYPT_DECRYPT" }, ["purpose"]), rpcError(status.INVALID_ARGUMENT, /cannot be updated/));
        await assert.rejects(update({ destroyScheduledDuration: { seconds: 2 * DAY } }, ["destroy_scheduled_duration"]), rpcError(status.INVALID_ARGUMENT));
        await assert.rejects(update({}, ["no_such_field"]), rpcError(status.INVALID_ARGUMENT, /not a field/));
        await assert.rejects(update({ labels: { a: "b" } }, []), rpcError(status.INVALID_ARGUMENT, /update_mask/));
        await assert.rejects(update({ versionTemplate: { algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION" } }, ["version_template.algorithm"]), rpcError(status.INVALID_ARGUMENT));
        await assert.rejects(
            update({ versionTemplate: { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "HSM" } }, ["version_template"]),
            rpcError(status.INVALID_ARGUMENT, /protection level/),
        );
        await assert.rejects(
            client.updateCryptoKey({ cryptoKey: { name: `${key}-missing`, labels: {} }, updateMask: { paths: ["labels"] } }),
            rpcError(status.NOT_FOUND),
        );
        assert.deepEqual((await client.getCryptoKey({ name: key }))[0].labels, { env: "test" }, "refused updates change nothing");
    });
});

describe("crypto key versions", () => {
    test("state machine: ENABLED ⇄ DISABLED, destroy → DESTROY_SCHEDULED at now + duration, restore → DISABLED", async (t) => {
        const { client } = await startWithClient(t);
        const key = await createSigningKey(client, await createKeyRing(client), "EC_SIGN_P256_SHA256", { destroySeconds: 3 * DAY });
        const name = `${key}/cryptoKeyVersions/1`;
        const setState = (state: VersionState) => client.updateCryptoKeyVersion({ cryptoKeyVersion: { name, state }, updateMask: { paths: ["state"] } });

        assert.equal((await setState("DISABLED"))[0].state, "DISABLED");
        assert.equal((await client.getCryptoKeyVersion({ name }))[0].state, "DISABLED");
        assert.equal((await setState("ENABLED"))[0].state, "ENABLED");
        await assert.rejects(setState("DESTROYED"), rpcError(status.INVALID_ARGUMENT, /ENABLED or DISABLED/));
        await assert.rejects(
            client.updateCryptoKeyVersion({ cryptoKeyVersion: { name, state: "DISABLED" }, updateMask: { paths: ["algorithm"] } }),
            rpcError(status.INVALID_ARGUMENT),
        );

        const before = Date.now();
        const [scheduled] = await client.destroyCryptoKeyVersion({ name });
        assert.equal(scheduled.state, "DESTROY_SCHEDULED");
        const destroyAt = Number(scheduled.destroyTime!.seconds) * 1000;
        assert.ok(Math.abs(destroyAt - (before + 3 * DAY * 1000)) < 5000, "destroy_time = now + destroy_scheduled_duration");
        await assert.rejects(setState("ENABLED"), rpcError(status.FAILED_PRECONDITION, /DESTROY_SCHEDULED/));
        await assert.rejects(client.destroyCryptoKeyVersion({ name }), rpcError(status.FAILED_PRECONDITION));
        await assert.rejects(client.getPublicKey({ name }), rpcError(status.FAILED_PRECONDITION, /not enabled, current state is: DESTROY_SCHEDULED/));

        const [restored] = await client.restoreCryptoKeyVersion({ name });
        assert.equal(restored.state, "DISABLED");
        assert.equal(restored.destroyTime, null);
        await assert.rejects(client.restoreCryptoKeyVersion({ name }), rpcError(status.FAILED_PRECONDITION, /DISABLED/));
        await assert.rejects(client.getPublicKey({ name }), rpcError(status.FAILED_PRECONDITION, /DISABLED/));
        assert.equal((await setState("ENABLED"))[0].state, "ENABLED");
        await client.getPublicKey({ name });
    });

    test("a scheduled destruction completes at destroy_time: DESTROYED, with no way back", async (t) => {
        let now = Date.now();
        const { client } = await startWithClient(t, { now: () => now });
        const key = await createSigningKey(client, await createKeyRing(client), "EC_SIGN_P256_SHA256", { destroySeconds: DAY });
        const name = `${key}/cryptoKeyVersions/1`;
        const [scheduled] = await client.destroyCryptoKeyVersion({ name });
        now += DAY * 1000 - 1;
        assert.equal((await client.getCryptoKeyVersion({ name }))[0].state, "DESTROY_SCHEDULED");
        now += 1;
        const [destroyed] = await client.getCryptoKeyVersion({ name });
        assert.equal(destroyed.state, "DESTROYED");
        assert.deepEqual(destroyed.destroyEventTime, scheduled.destroyTime);
        await assert.rejects(client.restoreCryptoKeyVersion({ name }), rpcError(status.FAILED_PRECONDITION, /DESTROYED/));
        await assert.rejects(client.getPublicKey({ name }), rpcError(status.FAILED_PRECONDITION, /DESTROYED/));
    });

    test("HSM versions stay PENDING_GENERATION for the configured time, then become ENABLED", async (t) => {
        let now = Date.now();
        const { client } = await startWithClient(t, { hsmPendingMs: 600, now: () => now });
        const key = await createSigningKey(client, await createKeyRing(client), "EC_SIGN_P256_SHA256", { protectionLevel: "HSM" });
        const name = `${key}/cryptoKeyVersions/1`;
        const [pending] = await client.getCryptoKeyVersion({ name });
        assert.equal(pending.state, "PENDING_GENERATION");
        assert.equal(pending.protectionLevel, "HSM");
        assert.equal(pending.generateTime, null);
        await assert.rejects(client.getPublicKey({ name }), rpcError(status.FAILED_PRECONDITION, /PENDING_GENERATION/));
        await assert.rejects(client.asymmetricSign({ name, digest: { sha256: Buffer.alloc(32) } }), rpcError(status.FAILED_PRECONDITION, /PENDING_GENERATION/));
        await assert.rejects(
            client.updateCryptoKeyVersion({ cryptoKeyVersion: { name, state: "DISABLED" }, updateMask: { paths: ["state"] } }),
            rpcError(status.FAILED_PRECONDITION),
        );
        await assert.rejects(client.destroyCryptoKeyVersion({ name }), rpcError(status.FAILED_PRECONDITION));

        now += 599;
        assert.equal((await client.getCryptoKeyVersion({ name }))[0].state, "PENDING_GENERATION");
        now += 1;
        const [ready] = await client.getCryptoKeyVersion({ name });
        assert.equal(ready.state, "ENABLED");
        assert.ok(ready.generateTime);
        const [publicKey] = await client.getPublicKey({ name });
        assert.equal(publicKey.protectionLevel, "HSM");
    });

    test("version names are validated and looked up", async (t) => {
        const { client } = await startWithClient(t);
        const key = await createSigningKey(client, await createKeyRing(client), "EC_SIGN_P256_SHA256");
        await assert.rejects(client.getCryptoKeyVersion({ name: `${key}/cryptoKeyVersions/7` }), rpcError(status.NOT_FOUND, /CryptoKeyVersion .* not found/));
        await assert.rejects(client.getCryptoKeyVersion({ name: `${key}/cryptoKeyVersions/0` }), rpcError(status.INVALID_ARGUMENT));
        await assert.rejects(client.getCryptoKeyVersion({ name: `${key}/cryptoKeyVersions/one` }), rpcError(status.INVALID_ARGUMENT));
        await assert.rejects(client.createCryptoKeyVersion({ parent: `${key}-missing`, cryptoKeyVersion: {} }), rpcError(status.NOT_FOUND));
        await assert.rejects(client.listCryptoKeyVersions({ parent: `${key}-missing` }), rpcError(status.NOT_FOUND));
    });
});

test("RPCs outside the emulator's scope answer UNIMPLEMENTED, saying so", async (t) => {
    const { client, emulator } = await startWithClient(t);
    await assert.rejects(client.encrypt({ name: `${LOCATION}/keyRings/r/cryptoKeys/k`, plaintext: Buffer.from("x") }), rpcError(status.UNIMPLEMENTED, /KMS emulator/));
    assert.equal(emulator.calls.byMethod().Encrypt, 1);
});
