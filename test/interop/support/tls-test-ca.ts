import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

/**
 * A throwaway TLS CA for the interop test and one server certificate it issues (by default for
 * cloudkms.googleapis.com). step-ca trusts the CA through SSL_CERT_FILE; the KMS emulator serves the leaf.
 * Nothing here is a product CA: the product's root/intermediate come from the program's providers and live in KMS.
 */
export interface TlsTestCa {
    /** PEM of the CA certificate (write it to a file and point SSL_CERT_FILE at it). */
    caCertPem: string;
    /** PEM of the server certificate followed by nothing else (the CA is the direct issuer). */
    certPem: string;
    /** PKCS#8 PEM of the server key. */
    keyPem: string;
}

const crypto = webcrypto;
const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

export async function createTlsTestCa(dnsNames: string[] = ["cloudkms.googleapis.com"]): Promise<TlsTestCa> {
    x509.cryptoProvider.set(crypto);
    const notBefore = new Date(Date.now() - 60_000);
    const notAfter = new Date(Date.now() + 24 * 3600_000);

    const caKeys = (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const ca = await x509.X509CertificateGenerator.createSelfSigned(
        {
            name: "CN=stepca-cloudkms interop throwaway TLS CA",
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

    const leafKeys = (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const leaf = await x509.X509CertificateGenerator.create(
        {
            subject: `CN=${dnsNames[0]}`,
            issuer: ca.subject,
            publicKey: leafKeys.publicKey,
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

    const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", leafKeys.privateKey));
    return {
        caCertPem: ca.toString("pem") + "\n",
        certPem: leaf.toString("pem") + "\n",
        keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") + "\n",
    };
}
