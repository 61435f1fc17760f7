/**
 * Minting the root and intermediate CA certificates with keys that never leave Cloud KMS: one GetPublicKey for the
 * subject key and one AsymmetricSign with the issuer key per certificate, and a local verification of the result
 * before anything is returned.
 */
import { X509Certificate } from "node:crypto";
import type * as X509 from "@peculiar/x509";
import { type CertificateFacts, certificateFacts } from "./certificate-facts";
import type { IntermediateCertificateRequest, RootCertificateRequest } from "./certificate-request";
import {
    type CertificateTemplate,
    intermediateCertificateTemplate,
    rootCertificateTemplate,
} from "./certificate-templates";
import { clampToIssuer, validityFromNow } from "./certificate-validity";
import { type KmsSigningAlgorithm, type KmsSigningAlgorithmName, kmsSigningAlgorithmFor } from "../kms/algorithms";
import { type KmsCallOptions, type KmsClient, asymmetricSign, getPublicKey } from "../kms/signer";
import { remoteSigningKey } from "../kms/webcrypto";
import { loadX509 } from "./x509";

export interface MintedCertificate extends CertificateFacts {
    readonly certPem: string;
    /** Algorithm of the certified (subject) key. */
    readonly keyAlgorithm: KmsSigningAlgorithmName;
}

/** A self-signed root CA certificate for a KMS key: 1 GetPublicKey + 1 AsymmetricSign. */
export async function mintRootCertificate(
    client: KmsClient,
    request: RootCertificateRequest,
    options: KmsCallOptions = {},
): Promise<MintedCertificate> {
    const x509 = loadX509();
    const validity = validityFromNow(request.validityDays);
    const kmsKey = await getPublicKey(client, request.keyVersion, options);
    const publicKey = new x509.PublicKey(kmsKey.pem);
    const template = await rootCertificateTemplate({ publicKey, subject: request.subject, validity });
    const certPem = await signTemplate(client, template, publicKey, request.keyVersion, kmsKey.algorithm, options);
    const minted = new X509Certificate(certPem);
    if (!minted.verify(minted.publicKey)) {
        throw new Error(`the root certificate signed by ${request.keyVersion} does not verify with its own key`);
    }
    return { certPem, keyAlgorithm: kmsKey.algorithm.name, ...certificateFacts(certPem) };
}

/**
 * An intermediate CA certificate for one KMS key, signed by the root's KMS key: 1 GetPublicKey + 1 AsymmetricSign.
 * The root's algorithm is read from the root certificate, and the result is verified against it, so a root key
 * version that does not match the root certificate fails here instead of in step-ca.
 */
export async function mintIntermediateCertificate(
    client: KmsClient,
    request: IntermediateCertificateRequest,
    options: KmsCallOptions = {},
): Promise<MintedCertificate> {
    const x509 = loadX509();
    const issuer = new x509.X509Certificate(request.issuerCertPem);
    const issuerAlgorithm = signingAlgorithmOf(issuer);
    const validity = clampToIssuer(validityFromNow(request.validityDays), issuer.notAfter, request.renewBeforeDays);
    const kmsKey = await getPublicKey(client, request.keyVersion, options);
    const publicKey = new x509.PublicKey(kmsKey.pem);
    const template = await intermediateCertificateTemplate({
        publicKey,
        subject: request.subject,
        validity,
        issuer,
        nameConstraints: request.nameConstraints,
    });
    const certPem = await signTemplate(client, template, publicKey, request.issuerKeyVersion, issuerAlgorithm, options);
    const minted = new X509Certificate(certPem);
    const issuerCert = new X509Certificate(request.issuerCertPem);
    if (!minted.checkIssued(issuerCert) || !minted.verify(issuerCert.publicKey)) {
        throw new Error(
            `the intermediate signed by ${request.issuerKeyVersion} does not verify with the issuer certificate ` +
                `"${issuer.subject}": that key version is not the issuer certificate's key`,
        );
    }
    return { certPem, keyAlgorithm: kmsKey.algorithm.name, ...certificateFacts(certPem) };
}

/** The KMS algorithm of the key that signed a self-signed certificate (the root), from the certificate alone. */
export function signingAlgorithmOf(cert: X509.X509Certificate): KmsSigningAlgorithm {
    const details = new X509Certificate(cert.toString("pem")).publicKey.asymmetricKeyDetails;
    const curveSizes: Record<string, number> = { prime256v1: 256, secp384r1: 384 };
    const keySize = details?.modulusLength ?? curveSizes[details?.namedCurve ?? ""] ?? 0;
    return kmsSigningAlgorithmFor(cert.signatureAlgorithm as { name: string; hash?: { name: string } }, { keySize });
}

async function signTemplate(
    client: KmsClient,
    template: CertificateTemplate,
    publicKey: X509.PublicKey,
    signingKeyVersion: string,
    algorithm: KmsSigningAlgorithm,
    options: KmsCallOptions,
): Promise<string> {
    const x509 = loadX509();
    const { crypto, signingKey } = remoteSigningKey(algorithm, (digest) =>
        asymmetricSign(client, signingKeyVersion, algorithm.digest, digest, options),
    );
    const cert = await x509.X509CertificateGenerator.create({ ...template, publicKey, signingKey }, crypto);
    return cert.toString("pem");
}
