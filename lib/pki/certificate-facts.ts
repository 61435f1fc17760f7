import { X509Certificate, createPublicKey } from "node:crypto";
import { certificateFingerprint } from "./fingerprint";

/** What the providers record about a certificate in Pulumi state, read back from the certificate itself. */
export interface CertificateFacts {
    readonly fingerprint: string;
    /** ISO 8601. */
    readonly notBefore: string;
    /** ISO 8601. */
    readonly notAfter: string;
    /** Lowercase hex, as `openssl x509 -serial` prints it (lowercased). */
    readonly serialNumber: string;
}

export function certificateFacts(certPem: string): CertificateFacts {
    const cert = new X509Certificate(certPem);
    return {
        fingerprint: certificateFingerprint(certPem),
        notBefore: new Date(cert.validFrom).toISOString(),
        notAfter: new Date(cert.validTo).toISOString(),
        serialNumber: cert.serialNumber.toLowerCase(),
    };
}

/**
 * Whether a certificate certifies the given public key (SubjectPublicKeyInfo PEM). A certificate whose key no longer
 * matches its KMS key version is useless to step-ca, which signs with the KMS key and serves the certificate.
 */
export function certifiesPublicKey(certPem: string, publicKeyPem: string): boolean {
    const certified = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
    return certified.equals(createPublicKey(publicKeyPem).export({ type: "spki", format: "der" }));
}
