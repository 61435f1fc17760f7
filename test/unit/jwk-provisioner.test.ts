import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { describe, it } from "node:test";
import * as jose from "jose";
import {
    createJwkProvisioner,
    decryptProvisionerKey,
    generateProvisionerPassword,
} from "../../lib/step-ca/jwk-provisioner";

const PASSWORD = "correct horse battery staple";

describe("JWK provisioner", () => {
    it("writes the public key as step does: fields, order, kid = RFC 7638 thumbprint", async () => {
        const provisioner = await createJwkProvisioner("admin", PASSWORD);
        assert.equal(provisioner.type, "JWK");
        assert.equal(provisioner.name, "admin");
        assert.deepEqual(Object.keys(provisioner.key), ["use", "kty", "kid", "crv", "alg", "x", "y"]);
        assert.deepEqual(
            { use: provisioner.key.use, kty: provisioner.key.kty, crv: provisioner.key.crv, alg: provisioner.key.alg },
            { use: "sig", kty: "EC", crv: "P-256", alg: "ES256" },
        );
        const { x, y } = provisioner.key;
        assert.equal(provisioner.key.kid, await jose.calculateJwkThumbprint({ kty: "EC", crv: "P-256", x, y }, "sha256"));
        assert.match(provisioner.key.kid, /^[A-Za-z0-9_-]{43}$/);
    });

    it("encrypts the private key as a compact JWE with exactly step's protected header", async () => {
        const provisioner = await createJwkProvisioner("admin", PASSWORD);
        const parts = provisioner.encryptedKey.split(".");
        assert.equal(parts.length, 5, "compact serialization has five parts");
        const header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
        assert.deepEqual(Object.keys(header).sort(), ["alg", "cty", "enc", "p2c", "p2s"]);
        assert.equal(header.alg, "PBES2-HS256+A128KW");
        assert.equal(header.enc, "A256GCM");
        assert.equal(header.cty, "jwk+json");
        assert.equal(header.p2c, 600000);
        assert.equal(Buffer.from(header.p2s, "base64url").length, 16);
    });

    it("round-trips: decrypting with the password yields the private JWK whose public part is `key`", async () => {
        const provisioner = await createJwkProvisioner("admin", PASSWORD);
        // Decrypt with jose directly, independently of the library's own helper.
        const { plaintext } = await jose.compactDecrypt(provisioner.encryptedKey, new TextEncoder().encode(PASSWORD), {
            keyManagementAlgorithms: ["PBES2-HS256+A128KW"],
            maxPBES2Count: 600000,
        });
        const privateJwk = JSON.parse(new TextDecoder().decode(plaintext));
        const { d, ...publicPart } = privateJwk;
        assert.deepEqual(publicPart, provisioner.key);
        assert.match(d, /^[A-Za-z0-9_-]{43}$/);

        // The private scalar belongs to the public key: a signature made with it verifies with `key`.
        const message = Buffer.from("provisioner token");
        const signature = sign("sha256", message, createPrivateKey({ key: privateJwk, format: "jwk" }));
        assert.ok(verify("sha256", message, createPublicKey({ key: { ...provisioner.key }, format: "jwk" }), signature));

        assert.deepEqual(await decryptProvisionerKey(provisioner.encryptedKey, PASSWORD), privateJwk);
    });

    it("does not decrypt with another password", async () => {
        const provisioner = await createJwkProvisioner("admin", PASSWORD);
        await assert.rejects(decryptProvisionerKey(provisioner.encryptedKey, "wrong password"));
    });

    it("uses a fresh key, salt and IV every time", async () => {
        const [a, b] = await Promise.all([createJwkProvisioner("admin", PASSWORD), createJwkProvisioner("admin", PASSWORD)]);
        assert.notEqual(a.key.kid, b.key.kid);
        assert.notEqual(a.encryptedKey.split(".")[0], b.encryptedKey.split(".")[0], "different p2s");
    });

    it("generates strong passwords: 256 random bits, base64url", () => {
        const passwords = new Set(Array.from({ length: 100 }, generateProvisionerPassword));
        assert.equal(passwords.size, 100);
        for (const password of passwords) {
            assert.match(password, /^[A-Za-z0-9_-]{43}$/);
        }
    });
});
