/**
 * step-ca's JWK provisioner, generated the way `step ca init` writes it: a P-256 signing key whose public JWK goes
 * into ca.json as `key` and whose private JWK is stored next to it as a password-encrypted compact JWE.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import type * as Jose from "jose";

/** The public key as step writes it into ca.json, fields in step's order. */
export interface ProvisionerPublicJwk {
    readonly use: "sig";
    readonly kty: "EC";
    readonly kid: string;
    readonly crv: "P-256";
    readonly alg: "ES256";
    readonly x: string;
    readonly y: string;
}

/** The decrypted `encryptedKey`: the public JWK plus the private scalar. */
export interface ProvisionerPrivateJwk extends ProvisionerPublicJwk {
    readonly d: string;
}

/** An entry of ca.json `authority.provisioners`. */
export interface JwkProvisioner {
    readonly type: "JWK";
    readonly name: string;
    readonly key: ProvisionerPublicJwk;
    readonly encryptedKey: string;
}

/** The JWE protection `step ca init` uses for the provisioner key (go.step.sm/crypto/jose). */
export const PROVISIONER_KEY_ENCRYPTION = {
    alg: "PBES2-HS256+A128KW",
    enc: "A256GCM",
    cty: "jwk+json",
    p2c: 600_000,
} as const;

/**
 * A new provisioner: fresh P-256 key, `kid` = RFC 7638 SHA-256 thumbprint, private JWK encrypted under `password`.
 * The JWE has a random salt and IV, so the result must be kept (in Pulumi state), not recomputed.
 */
export async function createJwkProvisioner(name: string, password: string): Promise<JwkProvisioner> {
    const jose = loadJose();
    const { x, y, d } = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
    if (!x || !y || !d) {
        throw new Error("node:crypto exported an incomplete P-256 JWK");
    }
    const kid = await jose.calculateJwkThumbprint({ kty: "EC", crv: "P-256", x, y }, "sha256");
    const key: ProvisionerPublicJwk = { use: "sig", kty: "EC", kid, crv: "P-256", alg: "ES256", x, y };
    const privateJwk: ProvisionerPrivateJwk = { ...key, d };
    const { alg, enc, cty, p2c } = PROVISIONER_KEY_ENCRYPTION;
    const encryptedKey = await new jose.CompactEncrypt(new TextEncoder().encode(JSON.stringify(privateJwk)))
        .setProtectedHeader({ alg, enc, cty })
        .setKeyManagementParameters({ p2c })
        .encrypt(new TextEncoder().encode(password));
    return { type: "JWK", name, key, encryptedKey };
}

/** Decrypts a provisioner's `encryptedKey` as step-ca does when it issues a provisioner token. */
export async function decryptProvisionerKey(encryptedKey: string, password: string): Promise<ProvisionerPrivateJwk> {
    const jose = loadJose();
    const { plaintext } = await jose.compactDecrypt(encryptedKey, new TextEncoder().encode(password), {
        keyManagementAlgorithms: [PROVISIONER_KEY_ENCRYPTION.alg],
        contentEncryptionAlgorithms: [PROVISIONER_KEY_ENCRYPTION.enc],
        maxPBES2Count: PROVISIONER_KEY_ENCRYPTION.p2c,
    });
    return JSON.parse(new TextDecoder().decode(plaintext)) as ProvisionerPrivateJwk;
}

/** A strong provisioner password for when none is configured: 256 random bits, base64url (43 characters). */
export function generateProvisionerPassword(): string {
    return randomBytes(32).toString("base64url");
}

/** jose is ESM-only; required on demand (Node 22 `require(esm)`) so serialized providers load it at run time. */
function loadJose(): typeof Jose {
    return require("jose") as typeof Jose;
}
