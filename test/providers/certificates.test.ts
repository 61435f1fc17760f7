import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { intermediateCertificateProvider } from "../../dynamic-providers/certificates/intermediate-certificate";
import { rootCertificateProvider } from "../../dynamic-providers/certificates/root-certificate";
import { KMS_SIGNING_ALGORITHMS, type KmsSigningAlgorithmName } from "../../lib/kms/algorithms";
import {
    SUBJECT,
    type TestKms,
    countCalls,
    createKeyVersion,
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
