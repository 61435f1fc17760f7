/**
 * The Cloud KMS asymmetric-signing algorithms this project mints CA certificates with, and what each one means to
 * WebCrypto and to `@peculiar/x509`: which digest KMS expects, and which signature algorithm ends up in the
 * certificate.
 */

/** Cloud KMS `CryptoKeyVersionAlgorithm` names for asymmetric signing keys that can sign X.509 certificates. */
export type KmsSigningAlgorithmName =
    | "EC_SIGN_P256_SHA256"
    | "EC_SIGN_P384_SHA384"
    | "RSA_SIGN_PKCS1_2048_SHA256"
    | "RSA_SIGN_PKCS1_3072_SHA256"
    | "RSA_SIGN_PKCS1_4096_SHA256"
    | "RSA_SIGN_PKCS1_4096_SHA512"
    | "RSA_SIGN_PSS_2048_SHA256"
    | "RSA_SIGN_PSS_3072_SHA256"
    | "RSA_SIGN_PSS_4096_SHA256"
    | "RSA_SIGN_PSS_4096_SHA512";

/** Name of the `Digest` oneof field that AsymmetricSign expects for the algorithm (and the node:crypto hash). */
export type KmsDigestName = "sha256" | "sha384" | "sha512";

/** WebCrypto signature parameters, in the shape `@peculiar/x509` reads from a signing key's `algorithm`. */
export type WebCryptoSigningParams =
    | { name: "ECDSA"; hash: { name: "SHA-256" | "SHA-384" }; namedCurve: "P-256" | "P-384" }
    | { name: "RSASSA-PKCS1-v1_5"; hash: { name: "SHA-256" | "SHA-512" } }
    | { name: "RSA-PSS"; hash: { name: "SHA-256" | "SHA-512" }; saltLength: 32 | 64 };

export interface KmsSigningAlgorithm {
    readonly name: KmsSigningAlgorithmName;
    readonly digest: KmsDigestName;
    readonly webCrypto: WebCryptoSigningParams;
    /** RSA modulus length in bits, or the EC field size in bits. */
    readonly keySize: number;
}

const SHA256 = { name: "SHA-256" } as const;
const SHA384 = { name: "SHA-384" } as const;
const SHA512 = { name: "SHA-512" } as const;

function rsa(name: KmsSigningAlgorithmName, keySize: number, pss: boolean, sha512: boolean): KmsSigningAlgorithm {
    const hash = sha512 ? SHA512 : SHA256;
    return {
        name,
        digest: sha512 ? "sha512" : "sha256",
        // Cloud KMS PSS keys use a salt as long as the digest.
        webCrypto: pss
            ? { name: "RSA-PSS", hash, saltLength: sha512 ? 64 : 32 }
            : { name: "RSASSA-PKCS1-v1_5", hash },
        keySize,
    };
}

/** Every supported algorithm, keyed by its Cloud KMS name. */
export const KMS_SIGNING_ALGORITHMS: Readonly<Record<KmsSigningAlgorithmName, KmsSigningAlgorithm>> = {
    EC_SIGN_P256_SHA256: {
        name: "EC_SIGN_P256_SHA256",
        digest: "sha256",
        webCrypto: { name: "ECDSA", hash: SHA256, namedCurve: "P-256" },
        keySize: 256,
    },
    EC_SIGN_P384_SHA384: {
        name: "EC_SIGN_P384_SHA384",
        digest: "sha384",
        webCrypto: { name: "ECDSA", hash: SHA384, namedCurve: "P-384" },
        keySize: 384,
    },
    RSA_SIGN_PKCS1_2048_SHA256: rsa("RSA_SIGN_PKCS1_2048_SHA256", 2048, false, false),
    RSA_SIGN_PKCS1_3072_SHA256: rsa("RSA_SIGN_PKCS1_3072_SHA256", 3072, false, false),
    RSA_SIGN_PKCS1_4096_SHA256: rsa("RSA_SIGN_PKCS1_4096_SHA256", 4096, false, false),
    RSA_SIGN_PKCS1_4096_SHA512: rsa("RSA_SIGN_PKCS1_4096_SHA512", 4096, false, true),
    RSA_SIGN_PSS_2048_SHA256: rsa("RSA_SIGN_PSS_2048_SHA256", 2048, true, false),
    RSA_SIGN_PSS_3072_SHA256: rsa("RSA_SIGN_PSS_3072_SHA256", 3072, true, false),
    RSA_SIGN_PSS_4096_SHA256: rsa("RSA_SIGN_PSS_4096_SHA256", 4096, true, false),
    RSA_SIGN_PSS_4096_SHA512: rsa("RSA_SIGN_PSS_4096_SHA512", 4096, true, true),
};

/**
 * Looks up a Cloud KMS algorithm by name. KMS keys of other purposes or algorithms (decryption, MAC,
 * secp256k1, post-quantum) cannot sign certificates that step-ca and browsers accept, so they fail here with
 * the list of what works.
 */
export function kmsSigningAlgorithm(name: string): KmsSigningAlgorithm {
    const algorithm = (KMS_SIGNING_ALGORITHMS as Record<string, KmsSigningAlgorithm | undefined>)[name];
    if (!algorithm) {
        throw new Error(
            `Cloud KMS algorithm "${name}" cannot sign CA certificates here; ` +
                `use one of ${Object.keys(KMS_SIGNING_ALGORITHMS).join(", ")}`,
        );
    }
    return algorithm;
}

/**
 * Finds the KMS algorithm that produced a signature, from the certificate's signature algorithm and the signer's
 * key. An intermediate is signed with the root's key; the self-signed root certificate already says which
 * algorithm that key has, so minting the intermediate needs no extra GetPublicKey call on the root key.
 */
export function kmsSigningAlgorithmFor(
    signature: { name: string; hash?: { name: string } | string },
    key: { keySize: number },
): KmsSigningAlgorithm {
    const hashName = typeof signature.hash === "string" ? signature.hash : signature.hash?.name;
    const match = Object.values(KMS_SIGNING_ALGORITHMS).find(
        (a) =>
            a.webCrypto.name === signature.name &&
            a.webCrypto.hash.name === hashName?.toUpperCase() &&
            a.keySize === key.keySize,
    );
    if (!match) {
        throw new Error(
            `no Cloud KMS signing algorithm matches ${signature.name} with ${hashName ?? "no hash"} ` +
                `on a ${key.keySize}-bit key`,
        );
    }
    return match;
}
