import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
    type IntermediateCertificateInputs,
    type IntermediateCertificateState,
    intermediateCertificateProvider as intermediateProvider,
} from "../../dynamic-providers/certificates/intermediate-certificate";
import {
    type RootCertificateInputs,
    type RootCertificateState,
    rootCertificateProvider as rootProvider,
} from "../../dynamic-providers/certificates/root-certificate";
import { startKmsEmulator } from "../../kms-emulator/index";
import { DAY_MS } from "../../lib/pki/certificate-validity";
import { loadX509 } from "../../lib/pki/x509";
import { createKmsClient } from "../../lib/kms/client";
import { reloadSerialized } from "../unit/support/serialized";
import {
    LOCATION,
    SUBJECT,
    type TestKms,
    countCalls,
    createKeyVersion,
    destroyKeyVersion,
    disableKeyVersion,
    startTestKms,
} from "./support";

const ALGORITHM = "EC_SIGN_P256_SHA256";

// The dynamic provider interface types every method as optional; these tests call the ones our providers define.
const root = rootProvider as Required<typeof rootProvider>;
const intermediate = intermediateProvider as Required<typeof intermediateProvider>;

describe("certificate lifecycle against the KMS emulator", () => {
    let kms: TestKms;
    let rootInputs: RootCertificateInputs;
    let rootState: RootCertificateState;
    let rootId: string;
    let intermediateInputs: IntermediateCertificateInputs;
    let intermediateState: IntermediateCertificateState;
    let intermediateId: string;

    before(async () => {
        kms = await startTestKms();
        const rootKey = await createKeyVersion(kms, ALGORITHM);
        rootInputs = { keyVersion: rootKey, subject: SUBJECT, validityDays: 3650, kmsEndpoint: kms.emulator.address };
    });
    after(() => kms.close());

    it("create mints the root with 1 GetPublicKey + 1 AsymmetricSign", async () => {
        const { result, calls } = await countCalls(kms.emulator, () => root.create(rootInputs));
        assert.deepEqual(calls, { GetPublicKey: 1, AsymmetricSign: 1 });
        rootId = result.id;
        rootState = result.outs;
        const cert = new X509Certificate(rootState.certPem);
        assert.equal(rootId, rootState.fingerprint);
        assert.equal(rootState.fingerprint, cert.fingerprint256.replace(/:/g, "").toLowerCase());
        assert.equal(rootState.serialNumber, cert.serialNumber.toLowerCase());
        assert.equal(rootState.notAfter, new Date(cert.validTo).toISOString());
        assert.equal(rootState.keyVersion, rootInputs.keyVersion);
        assert.equal(rootState.keyVersionState, "ENABLED");
        assert.equal(rootState.publicKeyMatchesKeyVersion, true);
        const days = (Date.parse(rootState.notAfter) - Date.now()) / DAY_MS;
        assert.ok(days > 3649 && days <= 3650, `root valid for ${days} days`);
    });

    it("create mints the intermediate, clamped to the root's lifetime", async () => {
        const intermediateKey = await createKeyVersion(kms, ALGORITHM);
        intermediateInputs = {
            keyVersion: intermediateKey,
            issuerKeyVersion: rootInputs.keyVersion,
            issuerCertPem: rootState.certPem,
            subject: { commonName: "Test Intermediate CA" },
            validityDays: 5000,
            renewBeforeDays: 30,
            kmsEndpoint: kms.emulator.address,
        };
        const { result, calls } = await countCalls(kms.emulator, () => intermediate.create(intermediateInputs));
        assert.deepEqual(calls, { GetPublicKey: 1, AsymmetricSign: 1 });
        assert.equal(result.outs.notAfter, rootState.notAfter, "5000 days clamped to the root's notAfter");
        intermediateInputs = { ...intermediateInputs, validityDays: 365 };
        const minted = await intermediate.create(intermediateInputs);
        intermediateId = minted.id;
        intermediateState = minted.outs;
        assert.ok(Date.parse(intermediateState.notAfter) < Date.parse(rootState.notAfter));
    });

    it("diff with unchanged inputs reports no changes and makes no KMS call", async () => {
        const { result, calls } = await countCalls(kms.emulator, async () => ({
            root: await root.diff(rootId, rootState, rootInputs),
            intermediate: await intermediate.diff(intermediateId, intermediateState, intermediateInputs),
        }));
        assert.deepEqual(calls, {});
        assert.deepEqual(result.root, { changes: false, replaces: [], deleteBeforeReplace: false });
        assert.deepEqual(result.intermediate, { changes: false, replaces: [], deleteBeforeReplace: false });
    });

    it("a new kmsEndpoint is no change; renewBeforeDays updates in place without re-minting", async () => {
        const newRootInputs = { ...rootInputs, kmsEndpoint: `localhost:${kms.emulator.port}` };
        const newIntermediateInputs = { ...intermediateInputs, renewBeforeDays: 60 };
        const { result, calls } = await countCalls(kms.emulator, async () => ({
            rootDiff: await root.diff(rootId, rootState, newRootInputs),
            rootUpdate: await root.update(rootId, rootState, newRootInputs),
            intermediateDiff: await intermediate.diff(intermediateId, intermediateState, newIntermediateInputs),
            intermediateUpdate: await intermediate.update(intermediateId, intermediateState, newIntermediateInputs),
        }));
        assert.deepEqual(calls, {});
        assert.deepEqual(result.rootDiff, { changes: false, replaces: [], deleteBeforeReplace: false });
        assert.deepEqual(result.intermediateDiff, { changes: true, replaces: [], deleteBeforeReplace: false });
        assert.equal(result.rootUpdate.outs.certPem, rootState.certPem);
        assert.equal(result.intermediateUpdate.outs.certPem, intermediateState.certPem);
        assert.equal(result.intermediateUpdate.outs.renewBeforeDays, 60);
    });

    it("changing what a certificate was minted from replaces it", async () => {
        const otherKey = await createKeyVersion(kms, ALGORITHM);
        const cases: [string, Partial<RootCertificateInputs>][] = [
            ["keyVersion", { keyVersion: otherKey }],
            ["subject", { subject: { ...SUBJECT, organization: "Other" } }],
            ["validityDays", { validityDays: 7300 }],
        ];
        for (const [property, change] of cases) {
            const diff = await root.diff(rootId, rootState, { ...rootInputs, ...change });
            assert.deepEqual(diff, { changes: true, replaces: [property], deleteBeforeReplace: false }, property);
        }
        const newRoot = await root.create({ ...rootInputs, subject: { commonName: "Rotated Root" } });
        const diff = await intermediate.diff(intermediateId, intermediateState, {
            ...intermediateInputs,
            issuerCertPem: newRoot.outs.certPem,
        });
        assert.deepEqual(diff, { changes: true, replaces: ["issuerCertPem"], deleteBeforeReplace: false });
    });

    it("name constraints: adding or changing them re-mints the intermediate only, with a critical extension", async () => {
        // Unset, the input is left out of state: the engine cannot serialize an undefined output.
        assert.equal("nameConstraints" in intermediateState, false);
        const nameConstraints = { permittedDNSDomains: ["example.com"], permittedIPRanges: ["10.0.0.0/8"] };
        const constrained = { ...intermediateInputs, nameConstraints };
        assert.deepEqual(await intermediate.diff(intermediateId, intermediateState, constrained), {
            changes: true,
            replaces: ["nameConstraints"],
            deleteBeforeReplace: false,
        });
        assert.deepEqual((await root.diff(rootId, rootState, rootInputs)).changes, false, "the root is not involved");
        const minted = await intermediate.create(constrained);
        const x509 = loadX509();
        const extension = new x509.X509Certificate(minted.outs.certPem).getExtension("2.5.29.30");
        assert.ok(extension?.critical, "NameConstraints present and critical");
        const changed = { ...constrained, nameConstraints: { ...nameConstraints, excludedDNSDomains: ["bad.example.com"] } };
        assert.deepEqual((await intermediate.diff(minted.id, minted.outs, changed)).replaces, ["nameConstraints"]);
        assert.deepEqual((await intermediate.diff(minted.id, minted.outs, constrained)).changes, false);
        const { failures } = await intermediate.check({}, { ...intermediateInputs, nameConstraints: { permittedIPRanges: ["10.1.0.0/8"] } });
        assert.deepEqual(failures?.map((f) => f.property), ["nameConstraints"]);
    });

    it("an intermediate inside its renewal window is replaced, and the replacement is a new certificate", async (t) => {
        const insideWindow = Date.parse(intermediateState.notAfter) - 29 * DAY_MS;
        t.mock.timers.enable({ apis: ["Date"], now: insideWindow - 2 * DAY_MS });
        const before = await intermediate.diff(intermediateId, intermediateState, intermediateInputs);
        t.mock.timers.setTime(insideWindow);
        const inside = await intermediate.diff(intermediateId, intermediateState, intermediateInputs);
        t.mock.timers.reset();
        assert.deepEqual(before, { changes: false, replaces: [], deleteBeforeReplace: false });
        assert.deepEqual(inside, { changes: true, replaces: ["notAfter"], deleteBeforeReplace: false });

        const { result, calls } = await countCalls(kms.emulator, () => intermediate.create(intermediateInputs));
        assert.deepEqual(calls, { GetPublicKey: 1, AsymmetricSign: 1 });
        assert.notEqual(result.outs.serialNumber, intermediateState.serialNumber);
        assert.ok(Date.parse(result.outs.notAfter) >= Date.parse(intermediateState.notAfter));
    });

    it("delete makes no KMS call", async () => {
        const { calls } = await countCalls(kms.emulator, async () => {
            await intermediate.delete(intermediateId, intermediateState);
            await root.delete(rootId, rootState);
        });
        assert.deepEqual(calls, {});
    });

    it("refresh of a healthy certificate changes nothing (GetCryptoKeyVersion + GetPublicKey)", async () => {
        const { result, calls } = await countCalls(kms.emulator, () => root.read(rootId, rootState));
        assert.deepEqual(calls, { GetCryptoKeyVersion: 1, GetPublicKey: 1 });
        assert.equal(result.id, rootId);
        assert.deepEqual(result.props, rootState);
    });

    it("refresh reports a disabled key version; the next diff updates in place, never replaces", async () => {
        await disableKeyVersion(kms, intermediateInputs.keyVersion);
        const refreshed = await intermediate.read(intermediateId, intermediateState);
        assert.equal(refreshed.props?.keyVersionState, "DISABLED");
        assert.equal(refreshed.props?.certPem, intermediateState.certPem);
        const { result: diff, calls } = await countCalls(kms.emulator, () =>
            intermediate.diff(intermediateId, refreshed.props, intermediateInputs),
        );
        assert.deepEqual(calls, {}, "diff makes no KMS call");
        assert.deepEqual(diff, { changes: true, replaces: [], deleteBeforeReplace: false });
    });

    it("update while the key version is still disabled fails with the state and the gcloud fix, and mints nothing", async () => {
        const refreshed = await intermediate.read(intermediateId, intermediateState);
        const { calls } = await countCalls(kms.emulator, () =>
            assert.rejects(intermediate.update(intermediateId, refreshed.props, intermediateInputs), (error: Error) => {
                assert.ok(error.message.includes(intermediateInputs.keyVersion), error.message);
                assert.match(error.message, /is DISABLED;/);
                assert.match(error.message, /gcloud kms keys versions enable 1 --key \S+ --keyring \S+ --location us-east1 --project stepca-test/);
                assert.match(error.message, /left as it is \(nothing re-minted\)/);
                return true;
            }),
        );
        assert.equal(calls.AsymmetricSign, undefined, `nothing is signed: ${JSON.stringify(calls)}`);
    });

    it("re-enabled without a refresh: the update heals the stale flag and keeps the certificate (no re-mint)", async () => {
        const refreshed = await intermediate.read(intermediateId, intermediateState);
        assert.equal(refreshed.props?.keyVersionState, "DISABLED");
        await kms.admin.updateCryptoKeyVersion({
            cryptoKeyVersion: { name: intermediateInputs.keyVersion, state: "ENABLED" },
            updateMask: { paths: ["state"] },
        });
        const { result, calls } = await countCalls(kms.emulator, () =>
            intermediate.update(intermediateId, refreshed.props, intermediateInputs),
        );
        assert.deepEqual(calls, { GetPublicKey: 1 });
        assert.deepEqual(result.outs, intermediateState, "same certificate, flags back to ENABLED and matching");
        assert.deepEqual(await intermediate.diff(intermediateId, result.outs, intermediateInputs), {
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
        const healed = await intermediate.read(intermediateId, refreshed.props);
        assert.deepEqual(healed.props, intermediateState, "a refresh heals it as well");
    });

    it("the stale-flag update works from the provider's serialized form", async () => {
        const serialized = (await reloadSerialized(intermediateProvider)) as typeof intermediate;
        const stale = { ...intermediateState, keyVersionState: "DISABLED" };
        await disableKeyVersion(kms, intermediateInputs.keyVersion);
        await assert.rejects(serialized.update(intermediateId, stale, intermediateInputs), /is DISABLED;.*gcloud kms keys versions enable/);
        await kms.admin.updateCryptoKeyVersion({
            cryptoKeyVersion: { name: intermediateInputs.keyVersion, state: "ENABLED" },
            updateMask: { paths: ["state"] },
        });
        const { outs } = await serialized.update(intermediateId, stale, intermediateInputs);
        assert.deepEqual(outs, intermediateState);
    });

    it("an offline root: a DISABLED root key version is recorded by refresh but changes nothing, with no KMS call", async () => {
        await disableKeyVersion(kms, rootInputs.keyVersion);
        const refreshed = await root.read(rootId, rootState);
        assert.equal(refreshed.props?.keyVersionState, "DISABLED");
        assert.equal(refreshed.props?.certPem, rootState.certPem);
        const moved = { ...rootInputs, kmsEndpoint: `localhost:${kms.emulator.port}` };
        const { result, calls } = await countCalls(kms.emulator, async () => ({
            unchanged: await root.diff(rootId, refreshed.props, rootInputs),
            updated: await root.update(rootId, refreshed.props, moved),
        }));
        assert.deepEqual(calls, {});
        assert.deepEqual(result.unchanged, { changes: false, replaces: [], deleteBeforeReplace: false });
        assert.equal(result.updated.outs.certPem, rootState.certPem);
        assert.equal(result.updated.outs.keyVersionState, "DISABLED");
        const needsRoot = { ...intermediateInputs, subject: { commonName: "Needs the root" } };
        await assert.rejects(intermediate.create(needsRoot), (error: Error) => {
            assert.ok(error.message.includes(rootInputs.keyVersion), error.message);
            assert.match(error.message, /DISABLED/);
            return true;
        }, "minting under a disabled root fails naming the root key version");
        await kms.admin.updateCryptoKeyVersion({
            cryptoKeyVersion: { name: rootInputs.keyVersion, state: "ENABLED" },
            updateMask: { paths: ["state"] },
        });
    });

    it("refresh reports a destroyed key version; the update names the state and how to restore it", async () => {
        await destroyKeyVersion(kms, rootInputs.keyVersion);
        const refreshed = await root.read(rootId, rootState);
        assert.equal(refreshed.props?.keyVersionState, "DESTROY_SCHEDULED");
        const diff = await root.diff(rootId, refreshed.props, rootInputs);
        assert.deepEqual(diff, { changes: true, replaces: [], deleteBeforeReplace: false }, "a root is never re-minted for it");
        await assert.rejects(
            root.update(rootId, refreshed.props, rootInputs),
            /is DESTROY_SCHEDULED;.*gcloud kms keys versions restore 1 .* && gcloud kms keys versions enable 1 /,
        );
    });

    it("a key version refresh found gone: the update fails with NOT_FOUND and re-mints nothing", async () => {
        const gone = `${kms.keyRing}/cryptoKeys/never-created/cryptoKeyVersions/1`;
        const stale = { ...rootState, keyVersion: gone, keyVersionState: "NOT_FOUND" };
        await assert.rejects(root.update(rootId, stale, { ...rootInputs, keyVersion: gone }), /NOT_FOUND.*does not exist/);
    });
});

describe("refresh after the key version's material changed under the same name", () => {
    it("reports that the certificate no longer matches, and the next diff replaces it", async (t) => {
        const dir = mkdtempSync(join(tmpdir(), "stepca-kms-state-"));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        const keyRing = `${LOCATION}/keyRings/reset-ring`;
        const keyVersion = `${keyRing}/cryptoKeys/root/cryptoKeyVersions/1`;
        // Each emulator starts from an empty state file, so the same names get new key material.
        const withFreshKms = async <T>(port: number, use: (endpoint: string) => Promise<T>) => {
            const emulator = await startKmsEmulator({ port, stateFile: join(dir, `state-${Date.now()}.json`) });
            const admin = createKmsClient(emulator.address);
            try {
                await admin.createKeyRing({ parent: LOCATION, keyRingId: "reset-ring", keyRing: {} });
                await admin.createCryptoKey({
                    parent: keyRing,
                    cryptoKeyId: "root",
                    cryptoKey: { purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm: ALGORITHM } },
                });
                return await use(emulator.address);
            } finally {
                await admin.close();
                await emulator.stop();
            }
        };
        let port = 0;
        const inputs = (endpoint: string): RootCertificateInputs => ({
            keyVersion,
            subject: SUBJECT,
            validityDays: 365,
            kmsEndpoint: endpoint,
        });
        const created = await withFreshKms(0, async (endpoint) => {
            port = Number(endpoint.split(":")[1]);
            return root.create(inputs(endpoint));
        });
        const refreshed = await withFreshKms(port, (endpoint) => root.read(created.id, created.outs));
        assert.equal(refreshed.props?.keyVersionState, "ENABLED");
        assert.equal(refreshed.props?.publicKeyMatchesKeyVersion, false);
        const diff = await root.diff(created.id, refreshed.props, created.outs);
        assert.deepEqual(diff, { changes: true, replaces: ["publicKeyMatchesKeyVersion"], deleteBeforeReplace: false });
    });

    it("an update that finds the key material changed (state flag stale) fails and says how to get a new certificate", async (t) => {
        const dir = mkdtempSync(join(tmpdir(), "stepca-kms-state-"));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        const keyRing = `${LOCATION}/keyRings/reset-ring`;
        const keyVersion = `${keyRing}/cryptoKeys/root/cryptoKeyVersions/1`;
        // Each emulator starts from an empty state file, so the same names get new key material.
        const freshKms = async (port: number) => {
            const emulator = await startKmsEmulator({ port, stateFile: join(dir, `state-${Date.now()}.json`) });
            const admin = createKmsClient(emulator.address);
            await admin.createKeyRing({ parent: LOCATION, keyRingId: "reset-ring", keyRing: {} });
            await admin.createCryptoKey({
                parent: keyRing,
                cryptoKeyId: "root",
                cryptoKey: { purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm: ALGORITHM } },
            });
            return {
                emulator,
                async close() {
                    await admin.close();
                    await emulator.stop();
                },
            };
        };
        const first = await freshKms(0);
        const inputs: RootCertificateInputs = {
            keyVersion,
            subject: SUBJECT,
            validityDays: 365,
            kmsEndpoint: first.emulator.address,
        };
        const created = await root.create(inputs);
        await first.close();
        const second = await freshKms(first.emulator.port);
        try {
            // A root may stay DISABLED (offline); DESTROY_SCHEDULED is a state the update must re-check.
            const stale = { ...created.outs, keyVersionState: "DESTROY_SCHEDULED" };
            await assert.rejects(root.update(created.id, stale, inputs), (error: Error) => {
                assert.match(error.message, /is ENABLED, but its public key is not the one the certificate certifies/);
                assert.match(error.message, /Run `pulumi refresh`; the next `pulumi up` then replaces the certificate/);
                return true;
            });
        } finally {
            await second.close();
        }
    });
});
