import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

/** The name every Cloud KMS client dials (step-ca has no endpoint setting): what the emulator must present. */
export const CLOUD_KMS_HOST = "cloudkms.googleapis.com";

/**
 * A TLS server identity for the emulator and the CA certificate that vouches for it. An unmodified client such as
 * step-ca only talks TLS to `cloudkms.googleapis.com`; trusting `caCertPem` (SSL_CERT_FILE) lets it accept the
 * emulator under that name. The CA's private key is discarded once the certificate is signed, so trusting the CA
 * trusts this one certificate and nothing else.
 */
export interface TlsIdentity {
    /** PEM of the CA certificate, for the client's trust store. */
    caCertPem: string;
    /** PEM of the server certificate (issued directly by the CA). */
    certPem: string;
    /** PKCS#8 PEM of the server key. */
    keyPem: string;
}

const crypto = webcrypto;
const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

/** Makes a fresh {@link TlsIdentity} for `dnsNames` (the first is the CN), valid for `validityDays`. */
export async function createTlsIdentity(dnsNames: string[] = [CLOUD_KMS_HOST], validityDays = 1): Promise<TlsIdentity> {
    x509.cryptoProvider.set(crypto);
    const notBefore = new Date(Date.now() - 60_000);
    const notAfter = new Date(Date.now() + validityDays * 24 * 3600_000);

    const caKeys = (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const ca = await x509.X509CertificateGenerator.createSelfSigned(
        {
            name: "CN=stepca-cloudkms throwaway TLS CA for the KMS emulator",
            keys: caKeys,
            signingAlgorithm: SIGN,
            notBefore,
            notAfter,
            extensions: [
                new x509.BasicConstraintsExtension(true, 0, true),
                new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
                await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
            ],
        },
        crypto,
    );

    const serverKeys = (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const server = await x509.X509CertificateGenerator.create(
        {
            subject: `CN=${dnsNames[0]}`,
            issuer: ca.subject,
            publicKey: serverKeys.publicKey,
            signingKey: caKeys.privateKey,
            signingAlgorithm: SIGN,
            notBefore,
            notAfter,
            extensions: [
                new x509.BasicConstraintsExtension(false, undefined, true),
                new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
                new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
                new x509.SubjectAlternativeNameExtension(
                    dnsNames.map((value) => ({ type: "dns" as const, value })),
                    false,
                ),
                await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
            ],
        },
        crypto,
    );

    const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", serverKeys.privateKey));
    return {
        caCertPem: ca.toString("pem") + "\n",
        certPem: server.toString("pem") + "\n",
        keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") + "\n",
    };
}
