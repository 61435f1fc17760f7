import * as crypto from "node:crypto";
import { promisify } from "node:util";
import { p256, p384 } from "@noble/curves/nist";
import forge from "node-forge";
import type { AlgorithmSpec, DigestKind, KeySpec } from "./algorithms";

const generateKeyPair = promisify(crypto.generateKeyPair);

// DER prefix of the PKCS#1 v1.5 DigestInfo for each hash (RFC 8017 §9.2, note 1); the digest follows it.
const DIGEST_INFO_PREFIX: Record<DigestKind, Buffer> = {
    sha256: Buffer.from("3031300d060960864801650304020105000420", "hex"),
    sha384: Buffer.from("3041300d060960864801650304020205000430", "hex"),
    sha512: Buffer.from("3051300d060960864801650304020305000440", "hex"),
};

const FORGE_MD = { sha256: forge.md.sha256, sha384: forge.md.sha384, sha512: forge.md.sha512 } as const;

/**
 * Generates new key material: PKCS#8 PEM for asymmetric keys, base64 for symmetric ones. Asynchronous so an
 * RSA-4096 generation does not stall the event loop (and every other RPC) for seconds.
 */
export async function generateKeyMaterial(spec: AlgorithmSpec): Promise<string> {
    const key = spec.key;
    if (key.type === "symmetric") return crypto.randomBytes(32).toString("base64");
    const publicKeyEncoding = { type: "spki", format: "pem" } as const;
    const privateKeyEncoding = { type: "pkcs8", format: "pem" } as const;
    const pair = key.type === "ec"
        ? await generateKeyPair("ec", { namedCurve: key.curve, publicKeyEncoding, privateKeyEncoding })
        : await generateKeyPair("rsa", { modulusLength: key.bits, publicExponent: 0x10001, publicKeyEncoding, privateKeyEncoding });
    return pair.privateKey;
}

/** The public key as Cloud KMS returns it: SPKI, PEM "PUBLIC KEY", 64-character lines, trailing newline. */
export function publicKeyPem(privateKey: crypto.KeyObject): string {
    return crypto.createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
}

/** The public key as DER SubjectPublicKeyInfo (GetPublicKey with public_key_format DER). */
export function publicKeyDer(privateKey: crypto.KeyObject): Buffer {
    return crypto.createPublicKey(privateKey).export({ type: "spki", format: "der" });
}

/**
 * Signs a digest the caller already computed, without hashing it again, exactly as Cloud KMS does:
 * ECDSA → DER `Ecdsa-Sig-Value`; RSA PKCS#1 v1.5 → DigestInfo padding; RSA-PSS → MGF1 with the same hash
 * and salt length equal to the digest length. The caller has checked the digest kind and length.
 */
export function signDigest(key: KeySpec, privateKey: crypto.KeyObject, digest: Buffer): Buffer {
    switch (key.type) {
        case "ec": {
            // node:crypto cannot sign a prehashed digest for ECDSA; noble can (prehash: false).
            const scalar = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
            const curve = key.curve === "P-256" ? p256 : p384;
            // Hedged nonces (RFC 6979 + fresh entropy): signatures differ per call, like Cloud KMS's.
            return Buffer.from(curve.sign(digest, scalar, { prehash: false, extraEntropy: true }).toBytes("der"));
        }
        case "rsa":
            return key.padding === "pkcs1" ? signPkcs1(key.digest, privateKey, digest) : signPss(key.digest, privateKey, digest);
        case "symmetric":
            throw new Error("symmetric keys do not sign");
    }
}

function signPkcs1(kind: DigestKind, privateKey: crypto.KeyObject, digest: Buffer): Buffer {
    // OpenSSL's private "encrypt" with PKCS#1 padding is EMSA-PKCS1-v1_5 signing of the given DigestInfo.
    const digestInfo = Buffer.concat([DIGEST_INFO_PREFIX[kind], digest]);
    return crypto.privateEncrypt({ key: privateKey, padding: crypto.constants.RSA_PKCS1_PADDING }, digestInfo);
}

function signPss(kind: DigestKind, privateKey: crypto.KeyObject, digest: Buffer): Buffer {
    // node:crypto only does PSS over a message it hashes itself, so node-forge does the EMSA-PSS encoding
    // of our digest (RFC 8017 §9.1.1) and OpenSSL does the raw RSA operation (constant-time, fast).
    const modulusBits = privateKey.asymmetricKeyDetails!.modulusLength!;
    const pss = forge.pss.create({
        md: FORGE_MD[kind].create(),
        mgf: forge.mgf.mgf1.create(FORGE_MD[kind].create()),
        saltLength: digest.length,
        prng: { getBytesSync: (n: number) => crypto.randomBytes(n).toString("binary") },
    });
    // forge's encode reads the message hash only through md.digest(); hand it ours.
    const precomputed = { digest: () => forge.util.createBuffer(digest.toString("binary")) };
    const encoded = Buffer.from(pss.encode(precomputed, modulusBits) as string, "binary");
    const block = Buffer.alloc(Math.ceil(modulusBits / 8));
    encoded.copy(block, block.length - encoded.length);
    return crypto.privateEncrypt({ key: privateKey, padding: crypto.constants.RSA_NO_PADDING }, block);
}
