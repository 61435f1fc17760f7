import assert from "node:assert/strict";
import { X509Certificate, generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { p256, p384 } from "@noble/curves/nist";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import {
    type CertificateSubject,
    intermediateCertificateTemplate,
    randomSerialNumber,
    rootCertificateTemplate,
    subjectName,
} from "../../lib/pki/certificate-templates";
import { BACKDATE_MS, DAY_MS, clampToIssuer, isRenewalDue, validityFromNow } from "../../lib/pki/certificate-validity";
import {
    KMS_SIGNING_ALGORITHMS,
    type KmsSigningAlgorithm,
    kmsSigningAlgorithm,
    kmsSigningAlgorithmFor,
} from "../../lib/kms/algorithms";
import { remoteSigningKey } from "../../lib/kms/webcrypto";
import { signingAlgorithmOf } from "../../lib/pki/mint-certificate";

/** A local EC key that signs digests the way KMS does (DER ECDSA, no second hash), standing in for KMS. */
function localEcKey(algorithm: KmsSigningAlgorithm) {
    const curve = algorithm.name === "EC_SIGN_P256_SHA256" ? { node: "P-256", noble: p256 } : { node: "P-384", noble: p384 };
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve.node });
    const scalar = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
    const spkiPem = publicKey.export({ type: "spki", format: "pem" }).toString();
    const signer = remoteSigningKey(algorithm, async (digest) =>
        curve.noble.sign(digest, scalar, { prehash: false }).toBytes("der"),
    );
    return { publicKey: new x509.PublicKey(spkiPem), ...signer };
}

const ROOT_SUBJECT: CertificateSubject = { commonName: "Unit Root", organization: "Acme", country: "DE" };

async function rootAndIntermediate(algorithm: KmsSigningAlgorithm) {
    const rootKey = localEcKey(algorithm);
    const intermediateKey = localEcKey(algorithm);
    const rootTemplate = await rootCertificateTemplate({
        publicKey: rootKey.publicKey,
        subject: ROOT_SUBJECT,
        validity: validityFromNow(3650),
    });
    const root = await x509.X509CertificateGenerator.create(
        { ...rootTemplate, publicKey: rootKey.publicKey, signingKey: rootKey.signingKey },
        rootKey.crypto,
    );
    const intermediateTemplate = await intermediateCertificateTemplate({
        publicKey: intermediateKey.publicKey,
        subject: { commonName: "Unit Intermediate" },
        validity: validityFromNow(365),
        issuer: root,
    });
    const intermediate = await x509.X509CertificateGenerator.create(
        { ...intermediateTemplate, publicKey: intermediateKey.publicKey, signingKey: rootKey.signingKey },
        rootKey.crypto,
    );
    return { root, intermediate };
}

describe("certificate templates", () => {
    for (const name of ["EC_SIGN_P256_SHA256", "EC_SIGN_P384_SHA384"] as const) {
        it(`${name}: a DER signature from the signer becomes a certificate that verifies`, async () => {
            const { root, intermediate } = await rootAndIntermediate(KMS_SIGNING_ALGORITHMS[name]);
            const rootCert = new X509Certificate(root.toString("pem"));
            const intermediateCert = new X509Certificate(intermediate.toString("pem"));
            assert.ok(rootCert.verify(rootCert.publicKey), "root self-signature");
            assert.ok(intermediateCert.verify(rootCert.publicKey), "intermediate signed by the root");
            assert.ok(intermediateCert.checkIssued(rootCert));
            assert.equal(signingAlgorithmOf(root), KMS_SIGNING_ALGORITHMS[name]);
        });
    }

    it("root: CA with pathlen 1, keyCertSign + cRLSign, both critical, SKI, no AKI", async () => {
        const { root } = await rootAndIntermediate(KMS_SIGNING_ALGORITHMS.EC_SIGN_P256_SHA256);
        const constraints = root.getExtension(x509.BasicConstraintsExtension);
        assert.deepEqual([constraints?.ca, constraints?.pathLength, constraints?.critical], [true, 1, true]);
        const usages = root.getExtension(x509.KeyUsagesExtension);
        assert.equal(usages?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
        assert.equal(usages?.critical, true);
        assert.ok(root.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
        assert.equal(root.getExtension(x509.AuthorityKeyIdentifierExtension), null);
        assert.equal(root.subject, "C=DE, O=Acme, CN=Unit Root");
        assert.equal(root.issuer, root.subject);
    });

    it("intermediate: CA with pathlen 0, keyCertSign + cRLSign, SKI of its own key, AKI = root SKI", async () => {
        const { root, intermediate } = await rootAndIntermediate(KMS_SIGNING_ALGORITHMS.EC_SIGN_P256_SHA256);
        const constraints = intermediate.getExtension(x509.BasicConstraintsExtension);
        assert.deepEqual([constraints?.ca, constraints?.pathLength, constraints?.critical], [true, 0, true]);
        const usages = intermediate.getExtension(x509.KeyUsagesExtension);
        assert.equal(usages?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
        assert.equal(usages?.critical, true);
        const rootKeyId = root.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
        assert.equal(intermediate.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, rootKeyId);
        assert.notEqual(intermediate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId, rootKeyId);
        assert.equal(intermediate.issuer, root.subject);
        assert.equal(intermediate.subject, "CN=Unit Intermediate");
    });

    it("orders the subject as Go's pkix.Name does and leaves out empty fields", () => {
        assert.deepEqual(
            subjectName({
                commonName: "CA",
                organization: "Org",
                organizationalUnit: "Unit",
                country: "US",
                province: "CA",
                locality: "SF",
            }),
            [{ C: ["US"] }, { ST: ["CA"] }, { L: ["SF"] }, { O: ["Org"] }, { OU: ["Unit"] }, { CN: ["CA"] }],
        );
        assert.deepEqual(subjectName({ commonName: "Only", organization: "" }), [{ CN: ["Only"] }]);
    });

    it("draws random positive 128-bit serials", () => {
        const serials = new Set(Array.from({ length: 200 }, randomSerialNumber));
        assert.equal(serials.size, 200);
        for (const serial of serials) {
            assert.match(serial, /^[0-7][0-9a-f]{31}$/);
            assert.notEqual(serial.slice(0, 2), "00");
        }
    });
});

describe("validity", () => {
    const now = new Date("2030-01-01T12:00:00.750Z");

    it("runs validityDays from now on whole seconds, backdated for clock skew", () => {
        const { notBefore, notAfter } = validityFromNow(30, now);
        assert.equal(notBefore.getTime(), Date.parse("2030-01-01T12:00:00Z") - BACKDATE_MS);
        assert.equal(notAfter.toISOString(), "2030-01-31T12:00:00.000Z");
    });

    it("is due for renewal once inside the window", () => {
        const notAfter = new Date(now.getTime() + 30 * DAY_MS);
        assert.equal(isRenewalDue(notAfter, 29, now), false);
        assert.equal(isRenewalDue(notAfter, 31, now), true);
        assert.equal(isRenewalDue(notAfter.toISOString(), 0, new Date(notAfter.getTime() + 1)), true);
    });

    it("clamps an intermediate to its issuer, and refuses one that would be due at once", () => {
        const requested = validityFromNow(365, now);
        const issuerNotAfter = new Date(now.getTime() + 100 * DAY_MS);
        assert.equal(clampToIssuer(requested, issuerNotAfter, 30, now).notAfter, issuerNotAfter);
        const later = new Date(now.getTime() + 400 * DAY_MS);
        assert.equal(clampToIssuer(requested, later, 30, now).notAfter, requested.notAfter);
        assert.doesNotThrow(() => clampToIssuer(requested, issuerNotAfter, 100, now));
        assert.throws(() => clampToIssuer(requested, issuerNotAfter, 101, now), /renew the root/);
    });
});

describe("KMS algorithm table", () => {
    it("maps every algorithm to its digest and WebCrypto parameters", () => {
        assert.equal(Object.keys(KMS_SIGNING_ALGORITHMS).length, 10);
        assert.deepEqual(kmsSigningAlgorithm("EC_SIGN_P384_SHA384").webCrypto, {
            name: "ECDSA",
            hash: { name: "SHA-384" },
            namedCurve: "P-384",
        });
        assert.deepEqual(kmsSigningAlgorithm("RSA_SIGN_PSS_4096_SHA512").webCrypto, {
            name: "RSA-PSS",
            hash: { name: "SHA-512" },
            saltLength: 64,
        });
        assert.equal(kmsSigningAlgorithm("RSA_SIGN_PKCS1_4096_SHA512").digest, "sha512");
        assert.equal(kmsSigningAlgorithm("RSA_SIGN_PKCS1_3072_SHA256").keySize, 3072);
    });

    it("refuses algorithms that cannot sign CA certificates, listing the ones that can", () => {
        assert.throws(() => kmsSigningAlgorithm("EC_SIGN_SECP256K1_SHA256"), /use one of EC_SIGN_P256_SHA256, /);
        assert.throws(() => kmsSigningAlgorithm("GOOGLE_SYMMETRIC_ENCRYPTION"));
    });

    it("identifies each algorithm back from a signature algorithm and key size", () => {
        for (const algorithm of Object.values(KMS_SIGNING_ALGORITHMS)) {
            assert.equal(kmsSigningAlgorithmFor(algorithm.webCrypto, algorithm), algorithm);
        }
        assert.throws(() => kmsSigningAlgorithmFor({ name: "ECDSA", hash: { name: "SHA-512" } }, { keySize: 256 }));
    });
});
