import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { test } from "node:test";
import { status } from "@grpc/grpc-js";
import { PERMISSIONS } from "../../kms-emulator/index";
import { LOCATION, crc, createKeyRing, createSigningKey, int64, rpcError, startWithClient } from "./support";

const digest = () => ({ sha256: crypto.createHash("sha256").update(crypto.randomBytes(8)).digest() });

test("latency delays every call until cleared", async (t) => {
    const { client, emulator } = await startWithClient(t);
    const ring = await createKeyRing(client);
    emulator.faults.latencyMs = 800;
    let started = Date.now();
    await client.getKeyRing({ name: ring });
    assert.ok(Date.now() - started >= 800, "delayed by latencyMs");
    emulator.faults.clear();
    started = Date.now();
    await client.getKeyRing({ name: ring });
    assert.ok(Date.now() - started < 800, "no delay once cleared");
});

test("failNext: UNAVAILABLE is retried by the client for idempotent RPCs and reaches the caller for the others", async (t) => {
    const { client, emulator } = await startWithClient(t);
    const key = await createSigningKey(client, await createKeyRing(client), "EC_SIGN_P256_SHA256");
    const name = `${key}/cryptoKeyVersions/1`;

    emulator.calls.reset();
    emulator.faults.failNext(2);
    await client.asymmetricSign({ name, digest: digest() });
    assert.deepEqual(emulator.calls.byMethod(), { AsymmetricSign: 3 }, "two failures, then success on the third try");

    emulator.faults.failNext(1);
    await assert.rejects(client.createCryptoKeyVersion({ parent: key, cryptoKeyVersion: {} }), rpcError(status.UNAVAILABLE, /fault injected/));
    const [v2] = await client.createCryptoKeyVersion({ parent: key, cryptoKeyVersion: {} });
    assert.equal(v2.name, `${key}/cryptoKeyVersions/2`, "the failed call created nothing");

    emulator.calls.reset();
    emulator.faults.failNext(1, status.INTERNAL);
    await assert.rejects(client.getPublicKey({ name }), rpcError(status.INTERNAL));
    assert.equal(emulator.calls.total(), 1, "INTERNAL is not retried");
    await client.getPublicKey({ name });

    assert.throws(() => emulator.faults.failNext(1, status.OK), RangeError);
});

test("denyKey: PERMISSION_DENIED in Cloud KMS's words, naming the RPC's permission and the resource", async (t) => {
    const { client, emulator } = await startWithClient(t);
    const ring = await createKeyRing(client);
    const denied = await createSigningKey(client, ring, "EC_SIGN_P256_SHA256");
    const allowed = await createSigningKey(client, ring, "EC_SIGN_P256_SHA256");
    const version = `${denied}/cryptoKeyVersions/1`;
    emulator.faults.denyKey(denied);

    const expectDenied = (permission: string, resource: string) =>
        rpcError(status.PERMISSION_DENIED, new RegExp(`^${escape(`Permission '${permission}' denied on resource '${resource}' (or it may not exist).`)}$`));
    await assert.rejects(client.asymmetricSign({ name: version, digest: digest() }), expectDenied("cloudkms.cryptoKeyVersions.useToSign", version));
    await assert.rejects(client.getPublicKey({ name: version }), expectDenied("cloudkms.cryptoKeyVersions.viewPublicKey", version));
    await assert.rejects(client.getCryptoKey({ name: denied }), expectDenied("cloudkms.cryptoKeys.get", denied));
    await assert.rejects(client.listCryptoKeyVersions({ parent: denied }), expectDenied("cloudkms.cryptoKeyVersions.list", denied));
    await assert.rejects(client.destroyCryptoKeyVersion({ name: version }), expectDenied("cloudkms.cryptoKeyVersions.destroy", version));
    // Denial comes before existence, as in Cloud KMS ("or it may not exist").
    await assert.rejects(client.getCryptoKeyVersion({ name: `${denied}/cryptoKeyVersions/9` }), expectDenied("cloudkms.cryptoKeyVersions.get", `${denied}/cryptoKeyVersions/9`));

    await client.asymmetricSign({ name: `${allowed}/cryptoKeyVersions/1`, digest: digest() });
    await client.getKeyRing({ name: ring });
    emulator.faults.clear();
    await client.asymmetricSign({ name: version, digest: digest() });
    assert.throws(() => emulator.faults.denyKey(ring), /denyKey/, "denyKey takes a crypto key name");
    assert.equal(PERMISSIONS.AsymmetricSign, "cloudkms.cryptoKeyVersions.useToSign");
});

test("corruptCrc32c makes signature_crc32c, pem_crc32c and public_key.crc32c_checksum wrong", async (t) => {
    const { client, emulator } = await startWithClient(t);
    const name = `${await createSigningKey(client, await createKeyRing(client), "EC_SIGN_P256_SHA256")}/cryptoKeyVersions/1`;
    emulator.faults.corruptCrc32c = true;
    const [signed] = await client.asymmetricSign({ name, digest: digest() });
    assert.notEqual(int64(signed.signatureCrc32c), crc(signed.signature as Uint8Array));
    const [publicKey] = await client.getPublicKey({ name });
    assert.notEqual(int64(publicKey.pemCrc32c), crc(publicKey.pem!));
    const [der] = await client.getPublicKey({ name, publicKeyFormat: "DER" });
    assert.notEqual(int64(der.publicKey!.crc32cChecksum), crc(der.publicKey!.data as Uint8Array));

    emulator.faults.clear();
    const [clean] = await client.asymmetricSign({ name, digest: digest() });
    assert.equal(int64(clean.signatureCrc32c), crc(clean.signature as Uint8Array));
});

test("calls are counted per RPC method, failures included, and can be reset", async (t) => {
    const { client, emulator } = await startWithClient(t);
    assert.equal(emulator.calls.total(), 0);
    const ring = await createKeyRing(client);
    await client.getKeyRing({ name: ring });
    await client.getKeyRing({ name: ring });
    await assert.rejects(client.getKeyRing({ name: `${LOCATION}/keyRings/missing` }), rpcError(status.NOT_FOUND));
    assert.deepEqual(emulator.calls.byMethod(), { CreateKeyRing: 1, GetKeyRing: 3 });
    assert.equal(emulator.calls.total(), 4);
    emulator.calls.reset();
    assert.deepEqual(emulator.calls.byMethod(), {});
    assert.equal(emulator.calls.total(), 0);
});

function escape(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

test("loseAnswers: the create takes effect, the client sees an error, its retry meets ALREADY_EXISTS", async (t) => {
    const { client, emulator } = await startWithClient(t);
    const id = `ring-${crypto.randomBytes(4).toString("hex")}`;
    emulator.faults.loseAnswers("CreateKeyRing", 1, status.ABORTED); // not retried: the caller sees it
    await assert.rejects(client.createKeyRing({ parent: LOCATION, keyRingId: id, keyRing: {} }), rpcError(status.ABORTED, /took effect/));
    const [ring] = await client.getKeyRing({ name: `${LOCATION}/keyRings/${id}` });
    assert.equal(ring.name, `${LOCATION}/keyRings/${id}`, "the ring exists although the client saw a failure");

    // DEADLINE_EXCEEDED (the default): the client library retries CreateKeyRing, and the retry finds the ring it made.
    const other = `ring-${crypto.randomBytes(4).toString("hex")}`;
    emulator.calls.reset();
    emulator.faults.loseAnswers("CreateKeyRing");
    await assert.rejects(client.createKeyRing({ parent: LOCATION, keyRingId: other, keyRing: {} }), rpcError(status.ALREADY_EXISTS));
    assert.deepEqual(emulator.calls.byMethod(), { CreateKeyRing: 2 });
});

test("holdAnswers: the create takes effect and its answer waits until the faults are cleared", async (t) => {
    const { client, emulator } = await startWithClient(t);
    const ring = await createKeyRing(client);
    emulator.faults.holdAnswers("CreateCryptoKey");
    const pending = createSigningKey(client, ring, "EC_SIGN_P256_SHA256");
    while ((emulator.faults.held.get("CreateCryptoKey") ?? 0) === 0) await new Promise((r) => setTimeout(r, 10));
    const [keys] = await client.listCryptoKeys({ parent: ring });
    assert.equal(keys.length, 1, "the key exists while its answer is held");
    emulator.faults.clear();
    assert.equal(await pending, keys[0].name);
    assert.equal(emulator.faults.held.get("CreateCryptoKey"), 0);
});
