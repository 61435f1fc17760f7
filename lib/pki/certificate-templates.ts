/**
 * The two CA certificate profiles, matching what `step ca init` / `step certificate create` produce
 * (`x509util.DefaultRootTemplate` and `DefaultIntermediateTemplate`), so that step-ca and its clients see the
 * certificates they expect.
 */
import { randomBytes } from "node:crypto";
import type * as X509 from "@peculiar/x509";
import type { Validity } from "./certificate-validity";
import { type NameConstraints, hasNameConstraints, nameConstraintsExtension } from "./name-constraints";
import { loadX509 } from "./x509";

/** Distinguished-name fields a CA subject can carry. */
export interface CertificateSubject {
    readonly commonName: string;
    readonly organization?: string;
    readonly organizationalUnit?: string;
    readonly country?: string;
    readonly province?: string;
    readonly locality?: string;
}

/** Everything the generator needs except the public key and the signer. */
export interface CertificateTemplate {
    readonly serialNumber: string;
    readonly subject: X509.JsonName;
    /** For intermediates, the issuer's subject exactly as encoded in its certificate. */
    readonly issuer: X509.JsonName | X509.Name;
    readonly notBefore: Date;
    readonly notAfter: Date;
    readonly extensions: X509.Extension[];
}

/** The subject as an RDN sequence in Go's `pkix.Name` order (C, ST, L, O, OU, CN), as step writes it. */
export function subjectName(subject: CertificateSubject): X509.JsonName {
    const fields: [string, string | undefined][] = [
        ["C", subject.country],
        ["ST", subject.province],
        ["L", subject.locality],
        ["O", subject.organization],
        ["OU", subject.organizationalUnit],
        ["CN", subject.commonName],
    ];
    return fields.filter((field): field is [string, string] => !!field[1]).map(([type, value]) => ({ [type]: [value] }));
}

/**
 * A random 128-bit serial with the top bit clear: positive as RFC 5280 requires, and exactly 16 octets so the
 * value reported from the certificate is the one generated.
 */
export function randomSerialNumber(): string {
    const serial = randomBytes(16);
    serial[0] = (serial[0] & 0x7f) | 0x01;
    return serial.toString("hex");
}

/** Self-signed root: CA with path length 1, may sign certificates and CRLs, with a subject key identifier. */
export async function rootCertificateTemplate(args: {
    publicKey: X509.PublicKey;
    subject: CertificateSubject;
    validity: Validity;
    serialNumber?: string;
}): Promise<CertificateTemplate> {
    const x509 = loadX509();
    const name = subjectName(args.subject);
    return {
        serialNumber: args.serialNumber ?? randomSerialNumber(),
        subject: name,
        issuer: name,
        notBefore: args.validity.notBefore,
        notAfter: args.validity.notAfter,
        extensions: [
            new x509.BasicConstraintsExtension(true, 1, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
            await x509.SubjectKeyIdentifierExtension.create(args.publicKey),
        ],
    };
}

/**
 * Intermediate: CA with path length 0 (it signs leaves only), may sign certificates and CRLs; its authority key
 * identifier is the issuer's subject key identifier so chain builders find the root. With `nameConstraints`, a
 * critical NameConstraints extension bounds the names its leaves may carry.
 */
export async function intermediateCertificateTemplate(args: {
    publicKey: X509.PublicKey;
    subject: CertificateSubject;
    validity: Validity;
    issuer: X509.X509Certificate;
    serialNumber?: string;
    nameConstraints?: NameConstraints;
}): Promise<CertificateTemplate> {
    const x509 = loadX509();
    const issuerKeyId = args.issuer.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    if (!issuerKeyId) {
        throw new Error(`the issuer certificate "${args.issuer.subject}" has no subject key identifier`);
    }
    return {
        serialNumber: args.serialNumber ?? randomSerialNumber(),
        subject: subjectName(args.subject),
        issuer: args.issuer.subjectName,
        notBefore: args.validity.notBefore,
        notAfter: args.validity.notAfter,
        extensions: [
            new x509.BasicConstraintsExtension(true, 0, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
            await x509.SubjectKeyIdentifierExtension.create(args.publicKey),
            new x509.AuthorityKeyIdentifierExtension(issuerKeyId),
            ...(hasNameConstraints(args.nameConstraints) ? [nameConstraintsExtension(args.nameConstraints)] : []),
        ],
    };
}
