import { createHash, webcrypto } from "node:crypto";
import type * as X509 from "@peculiar/x509";
import type { KmsSigningAlgorithm } from "./algorithms";
import { loadX509 } from "../pki/x509";

/** The WebCrypto type `@peculiar/x509` declares (the DOM's); Node's implementation provides it at run time. */
type X509Crypto = NonNullable<Parameters<typeof X509.X509CertificateGenerator.create>[1]>;

/** Signs a digest computed by the caller, the way Cloud KMS AsymmetricSign does; returns KMS's encoding. */
export type DigestSigner = (digest: Uint8Array) => Promise<Uint8Array>;

/** What `@peculiar/x509` generators need to sign with a key they never see. */
export interface RemoteSigningKey {
    /** WebCrypto whose `subtle.sign` hashes locally and signs remotely; everything else is Node's WebCrypto. */
    readonly crypto: X509Crypto;
    /** A key handle that carries only the algorithm (incl. `namedCurve`/`saltLength`) for the generator to read. */
    readonly signingKey: X509.X509CertificateCreateWithKeyParams["signingKey"];
}

/**
 * Adapts a KMS signer to WebCrypto so that `@peculiar/x509` builds the TBS certificate and the signature
 * AlgorithmIdentifier itself while the private key stays in KMS. KMS returns ECDSA signatures DER-encoded and
 * WebCrypto speaks raw r‖s, so those are converted with the library's own formatter.
 */
export function remoteSigningKey(algorithm: KmsSigningAlgorithm, signDigest: DigestSigner): RemoteSigningKey {
    const { AsnEcSignatureFormatter } = loadX509();
    const subtle = webcrypto.subtle;

    const sign = async (params: { name: string }, _key: unknown, data: ArrayBuffer | ArrayBufferView) => {
        if (params.name !== algorithm.webCrypto.name) {
            throw new Error(`asked to sign with ${params.name}, but the KMS key is ${algorithm.name}`);
        }
        const view = ArrayBuffer.isView(data)
            ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
            : new Uint8Array(data);
        const signature = await signDigest(createHash(algorithm.digest).update(view).digest());
        if (algorithm.webCrypto.name !== "ECDSA") {
            return signature;
        }
        const raw = new AsnEcSignatureFormatter().toWebSignature(algorithm.webCrypto, signature);
        if (!raw) {
            throw new Error(`could not convert the ${algorithm.name} signature from DER to r‖s`);
        }
        return raw;
    };

    const remoteSubtle = new Proxy(subtle, {
        get(target, property) {
            if (property === "sign") {
                return sign;
            }
            const value: unknown = Reflect.get(target, property, target);
            return typeof value === "function" ? value.bind(target) : value;
        },
    });
    const crypto = {
        subtle: remoteSubtle,
        getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
        randomUUID: webcrypto.randomUUID.bind(webcrypto),
    } as unknown as X509Crypto;
    const signingKey = {
        type: "private",
        extractable: false,
        algorithm: algorithm.webCrypto,
        usages: ["sign"],
    } as unknown as RemoteSigningKey["signingKey"];
    return { crypto, signingKey };
}
