import * as crypto from "node:crypto";
import { promisify } from "node:util";
import { p256, p384 } from "@noble/curves/nist";
import { DigestInfo, sha256, sha384, sha512 } from "@peculiar/asn1-rsa";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { KEYUTIL, type RSAKey } from "jsrsasign";
import type { AlgorithmSpec, DigestKind, KeySpec } from "./algorithms";

const generateKeyPair = promisify(crypto.generateKeyPair);

/** The DigestInfo `digestAlgorithm` of each hash (RFC 8017 §9.2: OID with NULL parameters). */
const DIGEST_ALGORITHM = { sha256, sha384, sha512 } as const;

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
    // EMSA-PKCS1-v1_5 over the given digest: the DigestInfo (RFC 8017 §9.2) DER-encoded by @peculiar/asn1-rsa,
    // then OpenSSL's private "encrypt" with PKCS#1 type 1 padding, which is the signature primitive on those bytes.
    const digestInfo = new DigestInfo({ digestAlgorithm: DIGEST_ALGORITHM[kind], digest: new OctetString(digest) });
    const der = Buffer.from(AsnConvert.serialize(digestInfo));
    return crypto.privateEncrypt({ key: privateKey, padding: crypto.constants.RSA_PKCS1_PADDING }, der);
}

/** jsrsasign's form of each key, parsed once per key object (the emulator keeps one KeyObject per version). */
const jsrsasignKeys = new WeakMap<crypto.KeyObject, RSAKey>();

function signPss(kind: DigestKind, privateKey: crypto.KeyObject, digest: Buffer): Buffer {
    // node:crypto only does PSS over a message it hashes itself (OpenSSL's EVP_PKEY_sign on a digest is not
    // exposed), so jsrsasign signs: RSAKey.signWithMessageHashPSS is its documented API for RSASSA-PSS over a
    // precomputed hash (EMSA-PSS, MGF1 with the same hash). Salt length = digest length, as Cloud KMS does.
    // jsrsasign's RSA is pure JavaScript (not constant-time): acceptable for an emulator's throwaway keys.
    let key = jsrsasignKeys.get(privateKey);
    if (!key) {
        key = KEYUTIL.getKey(privateKey.export({ type: "pkcs8", format: "pem" }).toString()) as RSAKey;
        jsrsasignKeys.set(privateKey, key);
    }
    const modulusBytes = Math.ceil(privateKey.asymmetricKeyDetails!.modulusLength! / 8);
    const signature = Buffer.from(key.signWithMessageHashPSS(digest.toString("hex"), kind, digest.length), "hex");
    if (signature.length !== modulusBytes) throw new Error(`RSA-PSS signature is ${signature.length} bytes, expected ${modulusBytes}`);
    return signature;
}
