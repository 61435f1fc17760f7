import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cryptoKeyDifferences, firstVersionProblem, notAdoptableMessage } from "../../lib/kms/adoption";

describe("adopting a key found on create", () => {
    const wanted = { purpose: "ASYMMETRIC_SIGN", algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "SOFTWARE" };
    const found = { purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "SOFTWARE" } };

    it("adopts the key this program would create, and names every field that differs otherwise", () => {
        assert.deepEqual(cryptoKeyDifferences(found, wanted), []);
        assert.deepEqual(
            cryptoKeyDifferences({ purpose: "ENCRYPT_DECRYPT", versionTemplate: { algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION", protectionLevel: "HSM" } }, wanted),
            ["purpose is ENCRYPT_DECRYPT, not ASYMMETRIC_SIGN", "algorithm is GOOGLE_SYMMETRIC_ENCRYPTION, not EC_SIGN_P256_SHA256", "protection level is HSM, not SOFTWARE"],
        );
        assert.deepEqual(cryptoKeyDifferences({}, wanted)[1], "algorithm is unset, not EC_SIGN_P256_SHA256");
    });

    it("needs its first version usable: enabled, still generating, or disabled (an offline root)", () => {
        for (const state of ["ENABLED", "PENDING_GENERATION", "DISABLED"]) assert.equal(firstVersionProblem("v1", state), undefined, state);
        assert.equal(firstVersionProblem("v1", "DESTROYED"), "v1 is DESTROYED");
        assert.equal(firstVersionProblem("v1", undefined), "v1 does not exist");
    });

    it("says what to do when it cannot adopt", () => {
        const message = notAdoptableMessage("CryptoKey", "projects/p/locations/l/keyRings/r/cryptoKeys/k", ["algorithm is X, not Y"]);
        assert.match(message, /^CryptoKey projects\/p\/.*\/cryptoKeys\/k already exists but is not the one this program would create \(algorithm is X, not Y\)/);
        assert.match(message, /pulumi config set keyRingPrefix <new prefix>.*gcloud kms keys versions destroy/);
    });
});
