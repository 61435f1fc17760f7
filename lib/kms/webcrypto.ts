import { createHash, webcrypto } from "node:crypto";
import type * as Asn1Rsa from "@peculiar/asn1-rsa";
import type * as Asn1Schema from "@peculiar/asn1-schema";
import type * as Asn1X509 from "@peculiar/asn1-x509";
import type * as X509 from "@peculiar/x509";
import type { KmsSigningAlgorithm, WebCryptoSigningParams } from "./algorithms";
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
 * WebCrypto speaks raw r‖s, so those are converted with the library's own formatter. RSA-PSS keys hand the generator
 * a ready-made AlgorithmIdentifier instead ({@link rsaPssSignatureAlgorithm}).
 */
export function remoteSigningKey(algorithm: KmsSigningAlgorithm, signDigest: DigestSigner): RemoteSigningKey {
    const { AsnEcSignatureFormatter } = loadX509();
    const subtle = webcrypto.subtle;

    const keyAlgorithm = algorithm.webCrypto.name === "RSA-PSS" ? rsaPssSignatureAlgorithm(algorithm.webCrypto) : algorithm.webCrypto;
    const sign = async (params: { name: string }, _key: unknown, data: ArrayBuffer | ArrayBufferView) => {
        if (params.name !== keyAlgorithm.name) {
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
        algorithm: keyAlgorithm,
        usages: ["sign"],
    } as unknown as RemoteSigningKey["signingKey"];
    return { crypto, signingKey };
}

/**
 * The RSASSA-PSS signature AlgorithmIdentifier as RFC 4055 §2.1 wants it generated: the hash AlgorithmIdentifiers
 * (hashAlgorithm and MGF1's) with NULL parameters, as Go's crypto/x509 (step-ca) writes them; `@peculiar/x509`
 * leaves them absent, which strict parsers reject. In the shape the library copies verbatim into the certificate: a
 * dotted OID as the name, and DER parameters.
 */
function rsaPssSignatureAlgorithm(params: Extract<WebCryptoSigningParams, { name: "RSA-PSS" }>): { name: string; parameters: ArrayBuffer } {
    const rsa = require("@peculiar/asn1-rsa") as typeof Asn1Rsa;
    const { AsnConvert } = require("@peculiar/asn1-schema") as typeof Asn1Schema;
    const { AlgorithmIdentifier } = require("@peculiar/asn1-x509") as typeof Asn1X509;
    // The library's hash identifiers carry `parameters: null`, which encodes as NULL.
    const hashAlgorithm = params.hash.name === "SHA-512" ? rsa.sha512 : rsa.sha256;
    const pssParams = new rsa.RsaSaPssParams({
        hashAlgorithm,
        maskGenAlgorithm: new AlgorithmIdentifier({ algorithm: rsa.id_mgf1, parameters: AsnConvert.serialize(hashAlgorithm) }),
        saltLength: params.saltLength,
    });
    return { name: rsa.id_RSASSA_PSS, parameters: AsnConvert.serialize(pssParams) };
}
