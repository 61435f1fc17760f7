import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { RsaSaPssParams, id_RSASSA_PSS, id_mgf1 } from "@peculiar/asn1-rsa";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import { after, before, describe, it } from "node:test";
import { intermediateCertificateProvider } from "../../dynamic-providers/certificates/intermediate-certificate";
import { rootCertificateProvider } from "../../dynamic-providers/certificates/root-certificate";
import { KMS_SIGNING_ALGORITHMS, type KmsSigningAlgorithmName } from "../../lib/kms/algorithms";
import {
    SUBJECT,
    type TestKms,
    countCalls,
    createKeyVersion,
    mintChain,
    opensslPresent,
    opensslText,
    opensslVerifiesChain,
    startTestKms,
} from "./support";

/** What `openssl x509 -text` prints as the signature algorithm for each KMS algorithm. */
const OPENSSL_SIGNATURE: Record<string, RegExp> = {
    EC_SIGN_P256_SHA256: /Signature Algorithm: ecdsa-with-SHA256/,
    EC_SIGN_P384_SHA384: /Signature Algorithm: ecdsa-with-SHA384/,
    RSA_SIGN_PKCS1_2048_SHA256: /Signature Algorithm: sha256WithRSAEncryption/,
    RSA_SIGN_PKCS1_3072_SHA256: /Signature Algorithm: sha256WithRSAEncryption/,
    RSA_SIGN_PKCS1_4096_SHA256: /Signature Algorithm: sha256WithRSAEncryption/,
    RSA_SIGN_PKCS1_4096_SHA512: /Signature Algorithm: sha512WithRSAEncryption/,
    RSA_SIGN_PSS_2048_SHA256: /Signature Algorithm: rsassaPss\s+Hash Algorithm: sha256[\s\S]*Salt Length: 0x20/,
    RSA_SIGN_PSS_3072_SHA256: /Signature Algorithm: rsassaPss\s+Hash Algorithm: sha256[\s\S]*Salt Length: 0x20/,
    RSA_SIGN_PSS_4096_SHA256: /Signature Algorithm: rsassaPss\s+Hash Algorithm: sha256[\s\S]*Salt Length: 0x20/,
    RSA_SIGN_PSS_4096_SHA512: /Signature Algorithm: rsassaPss\s+Hash Algorithm: sha512[\s\S]*Salt Length: 0x40/,
};

/** The hex value printed on the line after an extension's name. */
function extensionValue(text: string, extension: string): string {
    const match = new RegExp(`${extension}:.*\\n\\s*(?:keyid:)?([0-9A-F:]+)`).exec(text);
    assert.ok(match, `no ${extension} in:\n${text}`);
    return match[1];
}

describe("root and intermediate minted through KMS, for every algorithm", () => {
    let kms: TestKms;
    before(async () => {
        kms = await startTestKms();
    });
    after(() => kms.close());

    for (const algorithm of Object.keys(KMS_SIGNING_ALGORITHMS) as KmsSigningAlgorithmName[]) {
        it(`${algorithm}: chain verifies with openssl and carries CA extensions`, async (t) => {
            if (!opensslPresent(t, "the chain and the CA extensions are checked with openssl")) return;
            const rootKey = await createKeyVersion(kms, algorithm);
            const intermediateKey = await createKeyVersion(kms, algorithm);
            const { result, calls } = await countCalls(kms.emulator, async () => {
                const root = await rootCertificateProvider.create({
                    keyVersion: rootKey,
                    subject: SUBJECT,
                    validityDays: 3650,
                    kmsEndpoint: kms.emulator.address,
                });
                const intermediate = await intermediateCertificateProvider.create({
                    keyVersion: intermediateKey,
                    issuerKeyVersion: rootKey,
                    issuerCertPem: root.outs.certPem,
                    subject: { commonName: "Test Intermediate CA", organization: "Acme Test" },
                    validityDays: 365,
                    renewBeforeDays: 30,
                    kmsEndpoint: kms.emulator.address,
                });
                return { root: root.outs, intermediate: intermediate.outs };
            });
            assert.deepEqual(calls, { GetPublicKey: 2, AsymmetricSign: 2 });
            assert.equal(result.root.keyAlgorithm, algorithm);
            assert.equal(result.intermediate.keyAlgorithm, algorithm);

            assert.match(opensslVerifiesChain(result.root.certPem, result.intermediate.certPem), /int\.pem: OK/);

            const rootText = opensslText(result.root.certPem);
            assert.match(rootText, /Issuer: O = Acme Test, CN = Test Root CA\n\s+Validity/);
            assert.match(rootText, /Subject: O = Acme Test, CN = Test Root CA\n/);
            assert.match(rootText, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:1\n/);
            assert.match(rootText, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
            assert.doesNotMatch(rootText, /Authority Key Identifier/);
            assert.match(rootText, OPENSSL_SIGNATURE[algorithm]);

            const intermediateText = opensslText(result.intermediate.certPem);
            assert.match(intermediateText, /Issuer: O = Acme Test, CN = Test Root CA\n/);
            assert.match(intermediateText, /Subject: O = Acme Test, CN = Test Intermediate CA\n/);
            assert.match(intermediateText, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/);
            assert.match(intermediateText, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
            assert.match(intermediateText, OPENSSL_SIGNATURE[algorithm]);
            assert.equal(
                extensionValue(intermediateText, "X509v3 Authority Key Identifier"),
                extensionValue(rootText, "X509v3 Subject Key Identifier"),
            );
            assert.notEqual(
                extensionValue(intermediateText, "X509v3 Subject Key Identifier"),
                extensionValue(rootText, "X509v3 Subject Key Identifier"),
            );
        });
    }
});

/**
 * RSASSA-PSS-params exactly as Go's crypto/x509 writes them (pssParametersSHA256/SHA512 in its x509.go): the hash
 * AlgorithmIdentifiers, in hashAlgorithm and inside MGF1, carry NULL parameters, as RFC 4055 §2.1 requires of
 * generators.
 */
const RFC4055_PSS_PARAMS: Record<string, string> = {
    sha256:
        "3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120",
    sha512:
        "3034a00f300d06096086480165030402030500a11c301a06092a864886f70d010108300d06096086480165030402030500a203020140",
};
const PSS_ALGORITHMS = (Object.keys(KMS_SIGNING_ALGORITHMS) as KmsSigningAlgorithmName[]).filter((a) => a.includes("_PSS_"));

describe("RSA-PSS certificates are encoded as RFC 4055 requires", () => {
    let kms: TestKms;
    before(async () => {
        kms = await startTestKms();
    });
    after(() => kms.close());

    const hex = (buffer: ArrayBuffer | null | undefined) => Buffer.from(buffer ?? new ArrayBuffer(0)).toString("hex");
    /** DER of the hash's AlgorithmIdentifier: SEQUENCE { OID, NULL }. */
    const HASH_IDENTIFIER = { sha256: "300d06096086480165030402010500", sha512: "300d06096086480165030402030500" };

    for (const algorithm of PSS_ALGORITHMS) {
        it(`${algorithm}: root and intermediate signature AlgorithmIdentifiers, byte for byte`, async () => {
            const { root, intermediate } = await mintChain(kms, algorithm);
            const digest = KMS_SIGNING_ALGORITHMS[algorithm].digest;
            for (const [which, pem] of [["root", root], ["intermediate", intermediate]] as const) {
                const cert = AsnConvert.parse(new X509Certificate(pem).raw, Certificate);
                for (const identifier of [cert.signatureAlgorithm, cert.tbsCertificate.signature]) {
                    assert.equal(identifier.algorithm, id_RSASSA_PSS, which);
                    assert.equal(hex(identifier.parameters), RFC4055_PSS_PARAMS[digest], `${which}: RSASSA-PSS-params`);
                    const params = AsnConvert.parse(identifier.parameters!, RsaSaPssParams);
                    const hashIdentifier = HASH_IDENTIFIER[digest as keyof typeof HASH_IDENTIFIER];
                    assert.equal(hex(AsnConvert.serialize(params.hashAlgorithm)), hashIdentifier, `${which}: hashAlgorithm`);
                    assert.equal(params.maskGenAlgorithm.algorithm, id_mgf1, which);
                    assert.equal(hex(params.maskGenAlgorithm.parameters), hashIdentifier, `${which}: MGF1's hash`);
                }
            }
        });
    }
});
