import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { after, before, describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { SIGN_ALGORITHMS } from "../../kms-emulator/index";
import { crc, createKeyRing, createSigningKey, int64, opensslVerify, rpcError, startWithClient, type VersionState } from "./support";

/** What each algorithm must produce, stated independently of the emulator's own tables. */
const EXPECTED: Record<string, { type: "ec" | "rsa"; size: string | number; hash: string; pss: boolean }> = {
    EC_SIGN_P256_SHA256: { type: "ec", size: "prime256v1", hash: "sha256", pss: false },
    EC_SIGN_P384_SHA384: { type: "ec", size: "secp384r1", hash: "sha384", pss: false },
    RSA_SIGN_PKCS1_2048_SHA256: { type: "rsa", size: 2048, hash: "sha256", pss: false },
    RSA_SIGN_PKCS1_3072_SHA256: { type: "rsa", size: 3072, hash: "sha256", pss: false },
    RSA_SIGN_PKCS1_4096_SHA256: { type: "rsa", size: 4096, hash: "sha256", pss: false },
    RSA_SIGN_PKCS1_4096_SHA512: { type: "rsa", size: 4096, hash: "sha512", pss: false },
    RSA_SIGN_PSS_2048_SHA256: { type: "rsa", size: 2048, hash: "sha256", pss: true },
    RSA_SIGN_PSS_3072_SHA256: { type: "rsa", size: 3072, hash: "sha256", pss: true },
    RSA_SIGN_PSS_4096_SHA256: { type: "rsa", size: 4096, hash: "sha256", pss: true },
    RSA_SIGN_PSS_4096_SHA512: { type: "rsa", size: 4096, hash: "sha512", pss: true },
};

let client: KeyManagementServiceClient;
let ring: string;
const versions = new Map<string, string>(); // algorithm → version 1 name
const cleanups: (() => unknown)[] = [];

before(async () => {
    ({ client } = await startWithClient({ after: (fn) => cleanups.push(fn) }));
    ring = await createKeyRing(client);
    // One key per algorithm, generated concurrently: RSA-4096 generation dominates the suite's run time.
    await Promise.all(SIGN_ALGORITHMS.map(async (algorithm) => {
        versions.set(algorithm, `${await createSigningKey(client, ring, algorithm)}/cryptoKeyVersions/1`);
    }));
});
after(async () => {
    for (const cleanup of cleanups) await cleanup();
});

test("the emulator supports exactly the algorithms the program may choose", () => {
    assert.deepEqual([...SIGN_ALGORITHMS].sort(), Object.keys(EXPECTED).sort());
});

for (const [algorithm, expected] of Object.entries(EXPECTED)) {
    describe(algorithm, () => {
        test("GetPublicKey returns a parseable SPKI PEM with name, algorithm, protection level and pem_crc32c", async () => {
            const name = versions.get(algorithm)!;
            const [publicKey] = await client.getPublicKey({ name });
            assert.match(publicKey.pem!, /^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END PUBLIC KEY-----\n$/);
            const key = crypto.createPublicKey(publicKey.pem!);
            assert.equal(key.asymmetricKeyType, expected.type);
            const details = key.asymmetricKeyDetails!;
            assert.equal(expected.type === "ec" ? details.namedCurve : details.modulusLength, expected.size);
            if (expected.type === "rsa") assert.equal(details.publicExponent, 65537n);
            assert.equal(publicKey.name, name);
            assert.equal(publicKey.algorithm, algorithm);
            assert.equal(publicKey.protectionLevel, "SOFTWARE");
            assert.equal(int64(publicKey.pemCrc32c), crc(publicKey.pem!));
        });

        test("AsymmetricSign signs the digest as given; node:crypto and openssl verify it over the message", async () => {
            const name = versions.get(algorithm)!;
            const [publicKey] = await client.getPublicKey({ name });
            const message = crypto.randomBytes(200);
            const digest = crypto.createHash(expected.hash).update(message).digest();
            const [response] = await client.asymmetricSign({ name, digest: { [expected.hash]: digest }, digestCrc32c: { value: crc(digest) } });
            const signature = Buffer.from(response.signature as Uint8Array);

            assert.equal(response.name, name);
            assert.equal(response.verifiedDigestCrc32c, true);
            assert.equal(int64(response.signatureCrc32c), crc(signature));
            assert.equal(response.protectionLevel, "SOFTWARE");

            const verifyKey = expected.pss
                ? { key: publicKey.pem!, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: digest.length }
                : { key: publicKey.pem!, padding: expected.type === "rsa" ? crypto.constants.RSA_PKCS1_PADDING : undefined };
            assert.equal(crypto.verify(expected.hash, message, verifyKey, signature), true, "node:crypto verifies");
            assert.equal(opensslVerify(publicKey.pem!, message, signature, expected.hash, expected.pss), true, "openssl dgst -verify verifies");
            assert.equal(opensslVerify(publicKey.pem!, Buffer.concat([message, Buffer.from("!")]), signature, expected.hash, expected.pss), false, "and rejects other data");
            if (expected.type === "ec") {
                assert.equal(signature[0], 0x30, "ECDSA signatures are DER SEQUENCEs");
                assert.equal(crypto.verify(expected.hash, message, { key: publicKey.pem!, dsaEncoding: "der" }, signature), true);
            }
            if (expected.pss) {
                // The salt is as long as the digest: a verifier demanding salt length 0 must refuse it.
                assert.equal(crypto.verify(expected.hash, message, { ...verifyKey, saltLength: 0 }, signature), false);
            }
        });

        test("a digest of the wrong kind or length is INVALID_ARGUMENT", async () => {
            const name = versions.get(algorithm)!;
            const other = expected.hash === "sha256" ? "sha384" : "sha256";
            const wrongKind = crypto.createHash(other).update("x").digest();
            await assert.rejects(client.asymmetricSign({ name, digest: { [other]: wrongKind } }), rpcError(status.INVALID_ARGUMENT, /digest/));
            const short = crypto.createHash(expected.hash).update("x").digest().subarray(1);
            await assert.rejects(client.asymmetricSign({ name, digest: { [expected.hash]: short } }), rpcError(status.INVALID_ARGUMENT, /bytes long/));
        });
    });
}

describe("request and response integrity", () => {
    test("a digest_crc32c that does not match the digest is INVALID_ARGUMENT, as Cloud KMS answers", async () => {
        const name = versions.get("EC_SIGN_P256_SHA256")!;
        const digest = crypto.createHash("sha256").update("m").digest();
        await assert.rejects(
            client.asymmetricSign({ name, digest: { sha256: digest }, digestCrc32c: { value: (crc(digest) + 1) % 2 ** 32 } }),
            rpcError(status.INVALID_ARGUMENT, /digest_crc32c did not match/),
        );
    });

    test("without digest_crc32c the response says the digest was not verified", async () => {
        const name = versions.get("EC_SIGN_P256_SHA256")!;
        const [response] = await client.asymmetricSign({ name, digest: { sha256: crypto.createHash("sha256").update("m").digest() } });
        assert.equal(response.verifiedDigestCrc32c, false);
        assert.equal(int64(response.signatureCrc32c), crc(response.signature as Uint8Array));
    });

    test("a missing digest, or data instead of a digest, is INVALID_ARGUMENT", async () => {
        const name = versions.get("EC_SIGN_P256_SHA256")!;
        await assert.rejects(client.asymmetricSign({ name }), rpcError(status.INVALID_ARGUMENT, /digest is required/));
        await assert.rejects(client.asymmetricSign({ name, data: Buffer.from("raw") }), rpcError(status.INVALID_ARGUMENT, /not data/));
    });

    test("public_key_format PEM and DER answer through public_key with its own CRC32C", async () => {
        const name = versions.get("RSA_SIGN_PSS_2048_SHA256")!;
        const [plain] = await client.getPublicKey({ name });
        const [pem] = await client.getPublicKey({ name, publicKeyFormat: "PEM" });
        assert.equal(pem.publicKeyFormat, "PEM");
        assert.equal(Buffer.from(pem.publicKey!.data as Uint8Array).toString(), plain.pem);
        assert.equal(int64(pem.publicKey!.crc32cChecksum), crc(pem.publicKey!.data as Uint8Array));
        const [der] = await client.getPublicKey({ name, publicKeyFormat: "DER" });
        const derBytes = Buffer.from(der.publicKey!.data as Uint8Array);
        assert.deepEqual(derBytes, crypto.createPublicKey(plain.pem!).export({ type: "spki", format: "der" }));
        assert.equal(int64(der.publicKey!.crc32cChecksum), crc(derBytes));
        await assert.rejects(client.getPublicKey({ name, publicKeyFormat: "NIST_PQC" }), rpcError(status.INVALID_ARGUMENT));
    });

    test("every signature is fresh: two signatures over one digest differ (ECDSA nonces, PSS salts)", async () => {
        for (const algorithm of ["EC_SIGN_P256_SHA256", "RSA_SIGN_PSS_2048_SHA256"]) {
            const name = versions.get(algorithm)!;
            const digest = crypto.createHash("sha256").update("same").digest();
            const [a] = await client.asymmetricSign({ name, digest: { sha256: digest } });
            const [b] = await client.asymmetricSign({ name, digest: { sha256: digest } });
            assert.notDeepEqual(Buffer.from(a.signature as Uint8Array), Buffer.from(b.signature as Uint8Array), algorithm);
        }
    });
});

describe("purpose and state", () => {
    test("signing or fetching a public key with a symmetric key is FAILED_PRECONDITION", async () => {
        const [key] = await client.createCryptoKey({ parent: ring, cryptoKeyId: "symmetric", cryptoKey: { purpose: "ENCRYPT_DECRYPT" } });
        const name = `${key.name}/cryptoKeyVersions/1`;
        await assert.rejects(client.asymmetricSign({ name, digest: { sha256: Buffer.alloc(32) } }), rpcError(status.FAILED_PRECONDITION, /purpose is ENCRYPT_DECRYPT/));
        await assert.rejects(client.getPublicKey({ name }), rpcError(status.FAILED_PRECONDITION, /purpose is ENCRYPT_DECRYPT/));
    });

    test("a DISABLED version does not sign; re-enabled, it does", async () => {
        const name = versions.get("EC_SIGN_P384_SHA384")!;
        const digest = { sha384: crypto.createHash("sha384").update("m").digest() };
        const setState = (state: VersionState) => client.updateCryptoKeyVersion({ cryptoKeyVersion: { name, state }, updateMask: { paths: ["state"] } });
        await setState("DISABLED");
        await assert.rejects(client.asymmetricSign({ name, digest }), rpcError(status.FAILED_PRECONDITION, /is not enabled, current state is: DISABLED/));
        await setState("ENABLED");
        await client.asymmetricSign({ name, digest });
    });
});
