/** Digest kinds of the `Digest` oneof, with the length Cloud KMS requires for each. */
export const DIGEST_LENGTHS = { sha256: 32, sha384: 48, sha512: 64 } as const;
export type DigestKind = keyof typeof DIGEST_LENGTHS;

/** How a version's key material is made and used. */
export type KeySpec =
    | { type: "ec"; curve: "P-256" | "P-384"; digest: DigestKind }
    | { type: "rsa"; bits: 2048 | 3072 | 4096; digest: DigestKind; padding: "pkcs1" | "pss" }
    | { type: "symmetric" };

export interface AlgorithmSpec {
    readonly name: string;
    readonly purpose: "ASYMMETRIC_SIGN" | "ENCRYPT_DECRYPT";
    readonly key: KeySpec;
}

const ec = (curve: "P-256" | "P-384", digest: DigestKind): KeySpec => ({ type: "ec", curve, digest });
const rsa = (bits: 2048 | 3072 | 4096, digest: DigestKind, padding: "pkcs1" | "pss"): KeySpec =>
    ({ type: "rsa", bits, digest, padding });

const SIGN_KEYS = {
    EC_SIGN_P256_SHA256: ec("P-256", "sha256"),
    EC_SIGN_P384_SHA384: ec("P-384", "sha384"),
    RSA_SIGN_PKCS1_2048_SHA256: rsa(2048, "sha256", "pkcs1"),
    RSA_SIGN_PKCS1_3072_SHA256: rsa(3072, "sha256", "pkcs1"),
    RSA_SIGN_PKCS1_4096_SHA256: rsa(4096, "sha256", "pkcs1"),
    RSA_SIGN_PKCS1_4096_SHA512: rsa(4096, "sha512", "pkcs1"),
    RSA_SIGN_PSS_2048_SHA256: rsa(2048, "sha256", "pss"),
    RSA_SIGN_PSS_3072_SHA256: rsa(3072, "sha256", "pss"),
    RSA_SIGN_PSS_4096_SHA256: rsa(4096, "sha256", "pss"),
    RSA_SIGN_PSS_4096_SHA512: rsa(4096, "sha512", "pss"),
} satisfies Record<string, KeySpec>;

/** Names of the asymmetric signing algorithms the emulator implements. */
export type SignAlgorithm = keyof typeof SIGN_KEYS;

/**
 * The algorithms the emulator implements. Signing ones are what step-ca can use; GOOGLE_SYMMETRIC_ENCRYPTION
 * exists so that keys of another purpose (with a `primary`) can be created and rejected where Cloud KMS would.
 */
export const ALGORITHMS: ReadonlyMap<string, AlgorithmSpec> = new Map([
    ...Object.entries(SIGN_KEYS).map(([name, key]): [string, AlgorithmSpec] => [name, { name, purpose: "ASYMMETRIC_SIGN", key }]),
    ["GOOGLE_SYMMETRIC_ENCRYPTION", { name: "GOOGLE_SYMMETRIC_ENCRYPTION", purpose: "ENCRYPT_DECRYPT", key: { type: "symmetric" } }],
]);

/** Every asymmetric signing algorithm the emulator supports, for tests and tools that iterate over them. */
export const SIGN_ALGORITHMS = Object.keys(SIGN_KEYS) as readonly SignAlgorithm[];

/** The purpose each Cloud KMS algorithm family belongs to, so a mismatch is INVALID_ARGUMENT, not UNIMPLEMENTED. */
export function purposeOfAlgorithm(algorithm: string): string | undefined {
    if (ALGORITHMS.has(algorithm)) return ALGORITHMS.get(algorithm)!.purpose;
    if (/^(RSA_SIGN_|EC_SIGN_|PQ_SIGN_)/.test(algorithm)) return "ASYMMETRIC_SIGN";
    if (algorithm.startsWith("RSA_DECRYPT_")) return "ASYMMETRIC_DECRYPT";
    if (algorithm.startsWith("HMAC_")) return "MAC";
    if (/^(ML_KEM_|KEM_)/.test(algorithm)) return "KEY_ENCAPSULATION";
    if (/^AES_\d+_(GCM|CBC|CTR)$/.test(algorithm)) return "RAW_ENCRYPT_DECRYPT";
    if (algorithm === "AES_256_KWP") return "AES_WRAPPING";
    if (algorithm === "EXTERNAL_SYMMETRIC_ENCRYPTION") return "ENCRYPT_DECRYPT";
    return undefined;
}
