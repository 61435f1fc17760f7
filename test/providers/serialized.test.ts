import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { intermediateCertificateProvider } from "../../dynamic-providers/certificates/intermediate-certificate";
import { rootCertificateProvider } from "../../dynamic-providers/certificates/root-certificate";
import { emulatorCryptoKeyProvider } from "../../dynamic-providers/emulator/emulator-crypto-key";
import { emulatorKeyRingProvider } from "../../dynamic-providers/emulator/emulator-key-ring";
import { localBundleProvider } from "../../dynamic-providers/local-bundle";
import { nameSuffixProvider } from "../../dynamic-providers/name-suffix";
import { stepCaConfigProvider } from "../../dynamic-providers/step-ca-config";
import { decryptProvisionerKey } from "../../lib/step-ca/jwk-provisioner";
import { SUBJECT, type TestKms, createKeyVersion, opensslPresent, opensslVerifiesChain, startTestKms } from "./support";

const REPO = resolve(__dirname, "../..");
const HOST = join(__dirname, "serialized-provider-host.cjs");

interface HostResult {
    failures: unknown[];
    id: string;
    outs: Record<string, any>;
    diff: pulumi.dynamic.DiffResult;
    changedDiff: pulumi.dynamic.DiffResult;
    updated: pulumi.dynamic.UpdateResult;
    read?: pulumi.dynamic.ReadResult;
}

/**
 * Serializes a provider exactly as pulumi.dynamic.Resource does (closure serializer, `() => provider`, secrets
 * allowed) and runs it from that text in a fresh plain-Node process whose working directory is the project, as the
 * engine's dynamic-provider host does.
 */
async function runSerialized(
    provider: pulumi.dynamic.ResourceProvider,
    inputs: object,
    changedInputs: object,
): Promise<HostResult> {
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    const dir = mkdtempSync(join(tmpdir(), "stepca-provider-"));
    try {
        const file = join(dir, "provider.js");
        writeFileSync(file, serialized.text);
        const { stdout } = await promisify(execFile)(process.execPath, [HOST], {
            cwd: REPO,
            env: {
                ...process.env,
                NODE_OPTIONS: "",
                PROVIDER_FILE: file,
                PROVIDER_INPUTS: JSON.stringify(inputs),
                PROVIDER_CHANGED_INPUTS: JSON.stringify(changedInputs),
            },
            maxBuffer: 16 * 1024 * 1024,
        });
        return JSON.parse(stdout) as HostResult;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

const NO_CHANGES = { changes: false, replaces: [], deleteBeforeReplace: false };

describe("what the closure serializer cannot carry", () => {
    const providers: Record<string, pulumi.dynamic.ResourceProvider> = {
        RootCertificate: rootCertificateProvider,
        IntermediateCertificate: intermediateCertificateProvider,
        StepCaConfig: stepCaConfigProvider,
        LocalBundle: localBundleProvider,
        EmulatorKeyRing: emulatorKeyRingProvider,
        EmulatorCryptoKey: emulatorCryptoKeyProvider,
        NameSuffix: nameSuffixProvider,
    };
    for (const [name, provider] of Object.entries(providers)) {
        it(`${name}: captures no Set, Map or other built-in collection (they arrive as plain objects)`, async () => {
            const { text } = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
            const builtIns = [...text.matchAll(/global\.(Set|Map|WeakMap|WeakSet)\.prototype\.\w+/g)].map((m) => m[0]);
            assert.deepEqual([...new Set(builtIns)], [], "make the captured value an array or a plain object");
        });
    }
});

describe("providers as Pulumi stores them: serialized, run in a fresh Node process", () => {
    let kms: TestKms;
    let rootKey: string;
    let root: HostResult;
    let intermediate: HostResult;
    before(async () => {
        kms = await startTestKms();
        rootKey = await createKeyVersion(kms, "EC_SIGN_P384_SHA384");
    });
    after(() => kms.close());

    it("RootCertificate: check, create, no-op diff, changed diff, update, read, delete", async () => {
        kms.emulator.calls.reset();
        const inputs = { keyVersion: rootKey, subject: SUBJECT, validityDays: 3650, kmsEndpoint: kms.emulator.address };
        root = await runSerialized(rootCertificateProvider, inputs, { ...inputs, validityDays: 7300 });
        assert.deepEqual(root.failures, []);
        assert.match(root.outs.certPem, /BEGIN CERTIFICATE/);
        assert.deepEqual(root.diff, NO_CHANGES);
        assert.equal(root.changedDiff.changes, true);
        assert.deepEqual(root.changedDiff.replaces, ["validityDays"]);
        assert.deepEqual(root.updated.outs, root.outs);
        assert.deepEqual(root.read, { id: root.id, props: root.outs });
        assert.deepEqual(
            kms.emulator.calls.byMethod(),
            { GetPublicKey: 2, AsymmetricSign: 1, GetCryptoKeyVersion: 1 },
            "create and read called KMS; diff, update and delete made no call",
        );
    });

    it("IntermediateCertificate: check, create, no-op diff, changed diff, update, read, delete", async () => {
        const keyVersion = await createKeyVersion(kms, "RSA_SIGN_PSS_2048_SHA256");
        kms.emulator.calls.reset();
        const inputs = {
            keyVersion,
            issuerKeyVersion: rootKey,
            issuerCertPem: root.outs.certPem,
            subject: { commonName: "Serialized Intermediate" },
            validityDays: 365,
            renewBeforeDays: 30,
            kmsEndpoint: kms.emulator.address,
        };
        intermediate = await runSerialized(intermediateCertificateProvider, inputs, {
            ...inputs,
            subject: { commonName: "Renamed Intermediate" },
        });
        assert.deepEqual(intermediate.failures, []);
        assert.ok(new X509Certificate(intermediate.outs.certPem).verify(new X509Certificate(root.outs.certPem).publicKey));
        assert.deepEqual(intermediate.diff, NO_CHANGES);
        assert.equal(intermediate.changedDiff.changes, true);
        assert.deepEqual(intermediate.changedDiff.replaces, ["subject"]);
        assert.deepEqual(intermediate.updated.outs, intermediate.outs);
        assert.deepEqual(intermediate.read, { id: intermediate.id, props: intermediate.outs });
        assert.deepEqual(kms.emulator.calls.byMethod(), { GetPublicKey: 2, AsymmetricSign: 1, GetCryptoKeyVersion: 1 });
    });

    it("the chain the serialized providers minted verifies with openssl", (t) => {
        if (!opensslPresent(t, "the chain is verified with openssl")) return;
        assert.match(opensslVerifiesChain(root.outs.certPem, intermediate.outs.certPem), /int\.pem: OK/);
    });

    it("StepCaConfig: check, create, no-op diff, changed diff, update, delete", async () => {
        const inputs = { intermediateKeyVersion: rootKey, rootCertPem: root.outs.certPem, dnsNames: ["ca.example.com"] };
        const config = await runSerialized(stepCaConfigProvider, inputs, { ...inputs, dnsNames: ["ca.example.org"] });
        assert.deepEqual(config.failures, []);
        assert.deepEqual(config.diff, NO_CHANGES);
        assert.equal(config.changedDiff.changes, true);
        assert.equal(JSON.parse(config.outs.defaultsJson).fingerprint, root.outs.fingerprint);
        const [provisioner] = JSON.parse(config.outs.caJson).authority.provisioners;
        const privateJwk = await decryptProvisionerKey(provisioner.encryptedKey, config.outs.provisionerPassword);
        assert.equal(privateJwk.kid, config.outs.provisionerKid);
    });
});
