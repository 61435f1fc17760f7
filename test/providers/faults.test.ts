import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { after, afterEach, before, describe, it } from "node:test";
import { intermediateCertificateProvider } from "../../dynamic-providers/certificates/intermediate-certificate";
import { type RootCertificateInputs, rootCertificateProvider } from "../../dynamic-providers/certificates/root-certificate";
import { createKmsClient } from "../../lib/kms/client";
import { cryptoKeyNameOf } from "../../lib/kms/names";
import { getPublicKey } from "../../lib/kms/signer";
import { mintRootCertificate } from "../../lib/pki/mint-certificate";
import type { RetryPolicy } from "../../lib/kms/retry";
import { reloadSerialized } from "../unit/support/serialized";
import { SUBJECT, type TestKms, countCalls, createKeyVersion, startTestKms } from "./support";

const ALGORITHM = "EC_SIGN_P256_SHA256";
const FAST_RETRY: RetryPolicy = { attempts: 3, initialDelayMs: 5, maxDelayMs: 10 };

describe("KMS faults", () => {
    let kms: TestKms;
    let rootInputs: RootCertificateInputs;

    before(async () => {
        kms = await startTestKms();
        rootInputs = {
            keyVersion: await createKeyVersion(kms, ALGORITHM),
            subject: SUBJECT,
            validityDays: 365,
            kmsEndpoint: kms.emulator.address,
        };
    });
    afterEach(() => kms.emulator.faults.clear());
    after(() => kms.close());

    it("transient UNAVAILABLE is retried and the certificate is minted", async () => {
        kms.emulator.faults.failNext(2, status.UNAVAILABLE);
        const { result, calls } = await countCalls(kms.emulator, () => rootCertificateProvider.create(rootInputs));
        assert.deepEqual(calls, { GetPublicKey: 3, AsymmetricSign: 1 });
        assert.match(result.outs.certPem, /BEGIN CERTIFICATE/);
    });

    it("retries are bounded: persistent UNAVAILABLE fails after the configured attempts", async () => {
        kms.emulator.faults.failNext(100, status.UNAVAILABLE);
        const client = createKmsClient(kms.emulator.address);
        try {
            const { calls } = await countCalls(kms.emulator, () =>
                assert.rejects(getPublicKey(client, rootInputs.keyVersion, { retry: FAST_RETRY }), (error: Error) => {
                    assert.match(error.message, /GetPublicKey on .*cryptoKeyVersions\/1 failed with UNAVAILABLE/);
                    return true;
                }),
            );
            assert.deepEqual(calls, { GetPublicKey: 3 });
        } finally {
            await client.close();
        }
    });

    it("PERMISSION_DENIED on GetPublicKey names the key, the permission and the fix, without retrying", async () => {
        kms.emulator.faults.denyKey(cryptoKeyNameOf(rootInputs.keyVersion));
        const { calls } = await countCalls(kms.emulator, () =>
            assert.rejects(rootCertificateProvider.create(rootInputs), (error: Error) => {
                assert.ok(error.message.includes(rootInputs.keyVersion), error.message);
                assert.match(error.message, /PERMISSION_DENIED/);
                assert.match(error.message, /lacks cloudkms\.cryptoKeyVersions\.viewPublicKey/);
                assert.match(error.message, /roles\/cloudkms\.publicKeyViewer/);
                assert.match(error.message, /gcloud kms keys add-iam-policy-binding key-\w+ --keyring ring-\w+/);
                return true;
            }),
        );
        assert.deepEqual(calls, { GetPublicKey: 1 });
    });

    it("PERMISSION_DENIED on the root key while signing the intermediate names useToSign", async () => {
        const root = await rootCertificateProvider.create(rootInputs);
        kms.emulator.faults.denyKey(cryptoKeyNameOf(rootInputs.keyVersion));
        await assert.rejects(
            intermediateCertificateProvider.create({
                keyVersion: await createKeyVersion(kms, ALGORITHM),
                issuerKeyVersion: rootInputs.keyVersion,
                issuerCertPem: root.outs.certPem,
                subject: { commonName: "Intermediate" },
                validityDays: 30,
                renewBeforeDays: 7,
                kmsEndpoint: kms.emulator.address,
            }),
            (error: Error) => {
                assert.ok(error.message.includes(`AsymmetricSign on ${rootInputs.keyVersion}`), error.message);
                assert.match(error.message, /lacks cloudkms\.cryptoKeyVersions\.useToSign/);
                assert.match(error.message, /--role roles\/cloudkms\.signer/);
                return true;
            },
        );
    });

    it("from the serialized provider (what `pulumi up` runs): retries work and errors keep their message", async () => {
        const serialized = (await reloadSerialized(rootCertificateProvider)) as Required<typeof rootCertificateProvider>;
        kms.emulator.faults.failNext(2, status.UNAVAILABLE);
        const { result, calls } = await countCalls(kms.emulator, () => serialized.create(rootInputs));
        assert.deepEqual(calls, { GetPublicKey: 3, AsymmetricSign: 1 }, "transient failures retried");
        assert.match(result.outs.certPem, /BEGIN CERTIFICATE/);

        kms.emulator.faults.denyKey(cryptoKeyNameOf(rootInputs.keyVersion));
        await assert.rejects(serialized.create(rootInputs), (error: Error) => {
            assert.equal(error.name, "KmsCallError");
            assert.ok(error instanceof Error, "an Error, also in serialized form");
            assert.match(String(error), /^KmsCallError: Cloud KMS GetPublicKey/);
            assert.match(error.message, /^Cloud KMS GetPublicKey on \S+ failed with PERMISSION_DENIED/);
            assert.match(error.message, /roles\/cloudkms\.publicKeyViewer/);
            assert.match(String(error.stack), /PERMISSION_DENIED/);
            return true;
        });
        kms.emulator.faults.clear();
        kms.emulator.faults.corruptCrc32c = true;
        await assert.rejects(serialized.create(rootInputs), (error: Error) => {
            assert.equal(error.name, "KmsIntegrityError");
            assert.match(error.message, /failed an integrity check: pem_crc32c/);
            return true;
        });
    });

    it("a corrupted pem_crc32c fails the operation and no certificate comes out", async () => {
        kms.emulator.faults.corruptCrc32c = true;
        const { calls } = await countCalls(kms.emulator, () =>
            assert.rejects(rootCertificateProvider.create(rootInputs), /failed an integrity check: pem_crc32c/),
        );
        assert.equal(calls.AsymmetricSign, undefined, "nothing was signed");
        assert.ok(calls.GetPublicKey > 1, "the corrupted response was retried before giving up");
    });

    it("a corrupted signature_crc32c fails the operation and no certificate comes out", async () => {
        const real = createKmsClient(kms.emulator.address);
        try {
            // Corrupt only what comes after the public key: the signature.
            const client = {
                getPublicKey: (async (request: { name: string }, options: object) => {
                    const response = await real.getPublicKey(request, options);
                    kms.emulator.faults.corruptCrc32c = true;
                    return response;
                }) as unknown as typeof real.getPublicKey,
                asymmetricSign: real.asymmetricSign.bind(real),
                getCryptoKeyVersion: real.getCryptoKeyVersion.bind(real),
                updateCryptoKeyVersion: real.updateCryptoKeyVersion.bind(real),
            };
            const { calls } = await countCalls(kms.emulator, () =>
                assert.rejects(
                    mintRootCertificate(client, rootInputs, { retry: FAST_RETRY }),
                    /AsymmetricSign on .* failed an integrity check: signature_crc32c does not match/,
                ),
            );
            assert.deepEqual(calls, { GetPublicKey: 1, AsymmetricSign: 3 });
        } finally {
            await real.close();
        }
    });
});

describe("HSM keys in PENDING_GENERATION", () => {
    let kms: TestKms;
    before(async () => {
        kms = await startTestKms({ hsmPendingMs: 1500 });
    });
    after(() => kms.close());

    it("are waited out within a bound, then the certificate is minted", async () => {
        const keyVersion = await createKeyVersion(kms, ALGORITHM, { protectionLevel: "HSM" });
        const started = Date.now();
        const { result, calls } = await countCalls(kms.emulator, () =>
            rootCertificateProvider.create({ keyVersion, subject: SUBJECT, validityDays: 365, kmsEndpoint: kms.emulator.address }),
        );
        const elapsed = Date.now() - started;
        assert.match(result.outs.certPem, /BEGIN CERTIFICATE/);
        assert.ok(elapsed >= 1000 && elapsed < 10_000, `waited ${elapsed} ms for a 1500 ms generation`);
        assert.ok(calls.GetCryptoKeyVersion >= 1, "the state was checked before waiting");
        assert.equal(calls.AsymmetricSign, 1);
    });

    it("fail with a clear message when generation outlasts the bound", async () => {
        const keyVersion = await createKeyVersion(kms, ALGORITHM, { protectionLevel: "HSM" });
        const client = createKmsClient(kms.emulator.address);
        try {
            await assert.rejects(
                getPublicKey(client, keyVersion, { pendingGenerationTimeoutMs: 300 }),
                /is still PENDING_GENERATION after 300 ms/,
            );
        } finally {
            await client.close();
        }
    });
});
