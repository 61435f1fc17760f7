import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { status } from "@grpc/grpc-js";
import { startKmsEmulator } from "../../kms-emulator/index";
import { createKeyRing, createSigningKey, rpcError, startWithClient } from "./support";

// One scratch root for the file, removed after every emulator in it has stopped (and saved).
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "kms-state-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
const tempDir = () => fs.mkdtempSync(path.join(scratch, "t-"));

const mode = (file: string) => fs.statSync(file).mode & 0o777;

test("a restart on the same state file keeps key rings, keys, versions, their states and their key material", async (t) => {
    const stateFile = path.join(tempDir(), "kms.json");
    const first = await startWithClient({ after: () => undefined }, { stateFile, hsmPendingMs: 0 });
    const ring = await createKeyRing(first.client);
    const key = await createSigningKey(first.client, ring, "EC_SIGN_P256_SHA256", { destroySeconds: 5 * 86400 });
    const rsa = await createSigningKey(first.client, ring, "RSA_SIGN_PSS_2048_SHA256", { protectionLevel: "HSM" });
    await first.client.createCryptoKeyVersion({ parent: key, cryptoKeyVersion: {} });
    await first.client.updateCryptoKeyVersion({ cryptoKeyVersion: { name: `${key}/cryptoKeyVersions/2`, state: "DISABLED" }, updateMask: { paths: ["state"] } });
    const [scheduled] = await first.client.destroyCryptoKeyVersion({ name: `${rsa}/cryptoKeyVersions/1` });
    const [pem1] = await first.client.getPublicKey({ name: `${key}/cryptoKeyVersions/1` });
    const [keyBefore] = await first.client.getCryptoKey({ name: key });
    const [versionsBefore] = await first.client.listCryptoKeyVersions({ parent: key });
    await first.client.close();
    await first.emulator.stop();
    assert.equal(mode(stateFile), 0o600, "the state file holds private keys: owner-only");
    assert.match(fs.readFileSync(stateFile, "utf8"), /BEGIN PRIVATE KEY/, "the state file is the emulator's HSM");

    const second = await startWithClient(t, { stateFile, hsmPendingMs: 0 });
    assert.deepEqual((await second.client.getKeyRing({ name: ring }))[0].name, ring);
    assert.deepEqual((await second.client.getCryptoKey({ name: key }))[0], keyBefore);
    assert.deepEqual((await second.client.listCryptoKeyVersions({ parent: key }))[0], versionsBefore);
    const [rsaVersion] = await second.client.getCryptoKeyVersion({ name: `${rsa}/cryptoKeyVersions/1` });
    assert.equal(rsaVersion.state, "DESTROY_SCHEDULED");
    assert.deepEqual(rsaVersion.destroyTime, scheduled.destroyTime);
    assert.equal(rsaVersion.protectionLevel, "HSM");

    const [pem2] = await second.client.getPublicKey({ name: `${key}/cryptoKeyVersions/1` });
    assert.equal(pem2.pem, pem1.pem, "same key material");
    const message = Buffer.from("signed after restart");
    const [signed] = await second.client.asymmetricSign({ name: `${key}/cryptoKeyVersions/1`, digest: { sha256: crypto.createHash("sha256").update(message).digest() } });
    assert.ok(crypto.verify("sha256", message, pem1.pem!, Buffer.from(signed.signature as Uint8Array)));
    // Version ids continue where they stopped.
    assert.equal((await second.client.createCryptoKeyVersion({ parent: key, cryptoKeyVersion: {} }))[0].name, `${key}/cryptoKeyVersions/3`);
    await assert.rejects(createSigningKey(second.client, ring, "EC_SIGN_P256_SHA256", { id: key.split("/").pop() }), rpcError(status.ALREADY_EXISTS));
});

test("every change is written at once, atomically: a new file renamed into place, no temp files left", async (t) => {
    const dir = tempDir();
    const stateFile = path.join(dir, "kms.json");
    const { client } = await startWithClient(t, { stateFile });
    assert.ok(fs.existsSync(stateFile), "created at startup");
    const inode = fs.statSync(stateFile).ino;
    const ring = await createKeyRing(client);
    assert.notEqual(fs.statSync(stateFile).ino, inode, "replaced by rename, never rewritten in place");
    assert.equal(mode(stateFile), 0o600);
    assert.ok(fs.readFileSync(stateFile, "utf8").includes(ring), "written before the RPC returned, not only at stop");
    assert.deepEqual(fs.readdirSync(dir), ["kms.json"]);
});

test("destroyed key material is erased from the state file", async (t) => {
    const stateFile = path.join(tempDir(), "kms.json");
    let now = Date.now();
    const { client } = await startWithClient(t, { stateFile, now: () => now });
    const key = await createSigningKey(client, await createKeyRing(client), "EC_SIGN_P256_SHA256", { destroySeconds: 86400 });
    await client.destroyCryptoKeyVersion({ name: `${key}/cryptoKeyVersions/1` });
    assert.match(fs.readFileSync(stateFile, "utf8"), /PRIVATE KEY/, "kept while destruction can still be cancelled");
    now += 86400 * 1000;
    assert.equal((await client.getCryptoKeyVersion({ name: `${key}/cryptoKeyVersions/1` }))[0].state, "DESTROYED");
    assert.doesNotMatch(fs.readFileSync(stateFile, "utf8"), /PRIVATE KEY/);
});

test("an existing state file with loose permissions is tightened to 0600; a foreign or corrupt one is refused untouched", async (t) => {
    const dir = tempDir();
    const loose = path.join(dir, "loose.json");
    fs.writeFileSync(loose, JSON.stringify({ format: "stepca-cloudkms/kms-emulator-state", version: 1, keyRings: [], cryptoKeys: [], cryptoKeyVersions: [] }), { mode: 0o644 });
    fs.chmodSync(loose, 0o644);
    await (await startKmsEmulator({ stateFile: loose })).stop();
    assert.equal(mode(loose), 0o600);

    const corrupt = path.join(dir, "corrupt.json");
    fs.writeFileSync(corrupt, "{not json");
    await assert.rejects(startKmsEmulator({ stateFile: corrupt }), /not readable JSON/);
    assert.equal(fs.readFileSync(corrupt, "utf8"), "{not json");

    const foreign = path.join(dir, "foreign.json");
    fs.writeFileSync(foreign, JSON.stringify({ hello: "world" }));
    await assert.rejects(startKmsEmulator({ stateFile: foreign }), /not a KMS emulator state file/);
});

test("without a state file nothing survives a restart", async (t) => {
    const first = await startWithClient({ after: () => undefined });
    const ring = await createKeyRing(first.client);
    await first.client.close();
    await first.emulator.stop();
    const second = await startWithClient(t);
    await assert.rejects(second.client.getKeyRing({ name: ring }), rpcError(status.NOT_FOUND));
});
