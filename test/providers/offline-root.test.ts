import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { intermediateCertificateProvider } from "../../dynamic-providers/certificates/intermediate-certificate";
import { rootCertificateProvider } from "../../dynamic-providers/certificates/root-certificate";
import { offlineKeyVersionProvider } from "../../dynamic-providers/offline-key-version";
import { cryptoKeyNameOf } from "../../lib/kms/names";
import { reloadSerialized } from "../unit/support/serialized";
import { SUBJECT, type TestKms, countCalls, createKeyVersion, startTestKms } from "./support";

const ALGORITHM = "EC_SIGN_P256_SHA256";

// offlineRootKey: the root key version is DISABLED except while a certificate is minted with it.
describe("offline root key", () => {
    let kms: TestKms;
    const stateOf = async (keyVersion: string) => String((await kms.admin.getCryptoKeyVersion({ name: keyVersion }))[0].state);

    before(async () => {
        kms = await startTestKms();
    });
    after(() => kms.close());

    async function offlineRoot() {
        const keyVersion = await createKeyVersion(kms, ALGORITHM);
        const inputs = { keyVersion, subject: SUBJECT, validityDays: 365, kmsEndpoint: kms.emulator.address, offlineRootKey: true };
        const root = await rootCertificateProvider.create(inputs);
        return { keyVersion, inputs, root };
    }

    const intermediateInputs = async (rootKeyVersion: string, rootCertPem: string) => ({
        keyVersion: await createKeyVersion(kms, ALGORITHM),
        issuerKeyVersion: rootKeyVersion,
        issuerCertPem: rootCertPem,
        subject: { commonName: "Offline Test Intermediate" },
        validityDays: 30,
        renewBeforeDays: 7,
        kmsEndpoint: kms.emulator.address,
        offlineRootKey: true,
    });

    it("the root is disabled once it signed itself; refresh finds it so and sees no drift", async () => {
        const { keyVersion, root } = await offlineRoot();
        assert.equal(await stateOf(keyVersion), "DISABLED");
        assert.equal(root.outs.keyVersionState, "DISABLED");
        const read = await rootCertificateProvider.read!(root.id, root.outs);
        assert.deepEqual(read.props, root.outs, "refresh: no drift");
        const diff = await rootCertificateProvider.diff!(root.id, read.props, root.outs);
        assert.equal(diff.changes, false);
    });

    it("an intermediate is minted with the root enabled for the moment, disabled again afterwards", async () => {
        const { keyVersion, root } = await offlineRoot();
        const inputs = await intermediateInputs(keyVersion, root.outs.certPem);
        const { result, calls } = await countCalls(kms.emulator, () => intermediateCertificateProvider.create(inputs));
        assert.match(result.outs.certPem, /BEGIN CERTIFICATE/);
        assert.deepEqual(calls, { GetCryptoKeyVersion: 1, UpdateCryptoKeyVersion: 2, GetPublicKey: 1, AsymmetricSign: 1 }, "enable, sign, disable");
        assert.equal(await stateOf(keyVersion), "DISABLED");
    });

    it("a failed mint disables the root again, and the error is the mint's", async () => {
        const { keyVersion, root } = await offlineRoot();
        const inputs = await intermediateInputs(keyVersion, root.outs.certPem);
        kms.emulator.faults.denyKey(cryptoKeyNameOf(inputs.keyVersion));
        try {
            await assert.rejects(intermediateCertificateProvider.create(inputs), /PERMISSION_DENIED/);
        } finally {
            kms.emulator.faults.clear();
        }
        assert.equal(await stateOf(keyVersion), "DISABLED");
    });

    it("a new HSM root (PENDING_GENERATION) is waited for, signs, and is disabled", async () => {
        const hsm = await startTestKms({ hsmPendingMs: 300 });
        try {
            const keyVersion = await createKeyVersion(hsm, ALGORITHM, { protectionLevel: "HSM" });
            const root = await rootCertificateProvider.create({ keyVersion, subject: SUBJECT, validityDays: 365, kmsEndpoint: hsm.emulator.address, offlineRootKey: true });
            assert.match(root.outs.certPem, /BEGIN CERTIFICATE/);
            assert.equal(String((await hsm.admin.getCryptoKeyVersion({ name: keyVersion }))[0].state), "DISABLED");
        } finally {
            await hsm.close();
        }
    });

    it("without permission to disable the root, fails naming cloudkms.cryptoKeyVersions.update and the role", async () => {
        const keyVersion = await createKeyVersion(kms, ALGORITHM);
        kms.emulator.faults.denyKey(cryptoKeyNameOf(keyVersion));
        try {
            await assert.rejects(
                offlineKeyVersionProvider.create({ keyVersion, kmsEndpoint: kms.emulator.address }),
                /UpdateCryptoKeyVersion on .* PERMISSION_DENIED.*lacks cloudkms\.cryptoKeyVersions\.update.*roles\/cloudkms\.admin/,
            );
        } finally {
            kms.emulator.faults.clear();
        }
    });

    it("OfflineKeyVersion: a version found ENABLED (an interrupted run) is an update that disables it; off again enables it", async () => {
        const { keyVersion } = await offlineRoot();
        const provider = await reloadSerialized(offlineKeyVersionProvider);
        const news = { keyVersion, kmsEndpoint: kms.emulator.address };
        const created = await provider.create((await provider.check!(undefined as never, news)).inputs!);
        assert.deepEqual(created.outs, { ...news, state: "DISABLED" });
        const checked = (await provider.check!(news, news)).inputs!;
        assert.deepEqual(await provider.diff!(created.id, created.outs!, checked), { changes: false }, "disabled: nothing to do");

        await kms.admin.updateCryptoKeyVersion({ cryptoKeyVersion: { name: keyVersion, state: "ENABLED" }, updateMask: { paths: ["state"] } });
        const found = (await provider.check!(news, news)).inputs!;
        assert.equal(found.observedState, "ENABLED");
        assert.deepEqual(await provider.diff!(created.id, created.outs!, found), { changes: true });
        await provider.update!(created.id, created.outs!, found);
        assert.equal(await stateOf(keyVersion), "DISABLED");

        assert.deepEqual((await provider.read!(created.id, created.outs)).props, created.outs);
        await provider.delete!(created.id, created.outs!);
        assert.equal(await stateOf(keyVersion), "ENABLED", "offlineRootKey turned off: the root can sign again");
    });
});
