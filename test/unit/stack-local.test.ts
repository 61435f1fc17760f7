import * as assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { certificateFingerprint } from "../../lib/pki/fingerprint";
import { DYNAMIC, StackRun, ofType, one, runStack } from "./support/mocked-stack";
import { occursAnywhere, plainOccurrences } from "./support/secrets";
import { PROJECT_DIR } from "./support/stack-files";

const ENDPOINT = "127.0.0.1:8085";
const BUNDLE = path.join(PROJECT_DIR, ".local/bundle");

// Pulumi.local.yaml under mocks: the same program with keys on the emulator and a bundle instead of a container.
describe("local stack (Pulumi.local.yaml)", () => {
    let run: StackRun;
    before(async () => {
        run = await runStack("local");
    });

    it("loads neither @pulumi/gcp nor @pulumi/docker (runtime edges are required by mode)", () => {
        // This file runs in a process of its own (node --test), so the require cache holds what the local run loaded.
        const loaded = Object.keys(require.cache).filter((file) => /[\\/]node_modules[\\/]@pulumi[\\/](gcp|docker)[\\/]/.test(file));
        assert.deepEqual(loaded, []);
        assert.ok(
            Object.keys(require.cache).some((file) => file.endsWith(path.join("components", "local", "index.ts"))),
            "the local edge was loaded",
        );
    });

    it("creates keys on the emulator and a bundle: no GCP or Docker resource, no service account", () => {
        const counts: Record<string, number> = {};
        for (const r of run.resources) {
            counts[r.type] = (counts[r.type] ?? 0) + 1;
        }
        assert.deepEqual(counts, {
            "stepca:index:StepCa": 1,
            "stepca:local:CaKeys": 1,
            [DYNAMIC("NameSuffix")]: 3,
            [DYNAMIC("EmulatorKeyRing")]: 2,
            [DYNAMIC("EmulatorCryptoKey")]: 2,
            [DYNAMIC("RootCertificate")]: 1,
            [DYNAMIC("IntermediateCertificate")]: 1,
            [DYNAMIC("StepCaConfig")]: 1,
            "stepca:local:StepCaBundle": 1,
            [DYNAMIC("LocalBundle")]: 1,
        });
        for (const r of run.resources) {
            const expectedParent = r.type.startsWith(DYNAMIC("Emulator")) || r.type === DYNAMIC("NameSuffix")
                ? "stepca:local:CaKeys"
                : r.type === DYNAMIC("LocalBundle")
                  ? "stepca:local:StepCaBundle"
                  : r.type === "stepca:index:StepCa"
                    ? undefined
                    : "stepca:index:StepCa";
            assert.equal(r.parentType, expectedParent, `${r.type} ${r.name}`);
        }
        assert.deepEqual(run.checkFailures, []);
    });

    it("creates ring and keys on the configured emulator with the configured algorithms", () => {
        for (const ring of ofType(run, DYNAMIC("EmulatorKeyRing"))) {
            // The providers read kmsEndpoint from the stack's config (configure), so a new endpoint is no diff.
            assert.equal(ring.inputs.kmsEndpoint, undefined);
            assert.equal(ring.inputs.project, "stepca-local");
            assert.match(ring.inputs.keyRingId, /^step-ca-(root|intermediate)-[0-9a-f]{8}$/);
        }
        const root = one(run, DYNAMIC("EmulatorCryptoKey"), "-root");
        const intermediate = one(run, DYNAMIC("EmulatorCryptoKey"), "-intermediate");
        assert.equal(root.inputs.keyRing, one(run, DYNAMIC("EmulatorKeyRing"), "-root").state.name);
        assert.equal(intermediate.inputs.keyRing, one(run, DYNAMIC("EmulatorKeyRing"), "-intermediate").state.name);
        assert.equal(root.inputs.algorithm, "EC_SIGN_P384_SHA384");
        assert.equal(intermediate.inputs.algorithm, "EC_SIGN_P256_SHA256");
        for (const key of [root, intermediate]) {
            assert.equal(key.inputs.kmsEndpoint, undefined);
            assert.equal(key.inputs.protectionLevel, "SOFTWARE");
            assert.equal(key.inputs.destroyScheduledDuration, "86400s");
            assert.equal(key.request.protect, false);
            // As in gcp mode: a teardown-policy change must not replace the keys (the emulator provider would).
            assert.deepEqual(key.request.ignoreChanges, ["destroyScheduledDuration"]);
        }
        for (const role of ["root", "intermediate"]) {
            assert.deepEqual(Object.keys(one(run, DYNAMIC("NameSuffix"), `-${role}-key`).inputs.keepers).sort(), [
                "algorithm",
                "protectionLevel",
            ]);
        }
    });

    it("mints certificates through the production providers, pointed at the emulator", () => {
        const rootKey = one(run, DYNAMIC("EmulatorCryptoKey"), "-root").state.keyVersion;
        const intermediateKey = one(run, DYNAMIC("EmulatorCryptoKey"), "-intermediate").state.keyVersion;
        const root = one(run, DYNAMIC("RootCertificate"));
        assert.equal(root.inputs.keyVersion, rootKey);
        assert.equal(root.inputs.kmsEndpoint, undefined);
        const intermediate = one(run, DYNAMIC("IntermediateCertificate"));
        assert.equal(intermediate.inputs.keyVersion, intermediateKey);
        assert.equal(intermediate.inputs.issuerKeyVersion, rootKey);
        assert.equal(intermediate.inputs.issuerCertPem, root.state.certPem);
        assert.equal(intermediate.inputs.kmsEndpoint, undefined);
    });

    it("renders ca.json listening on loopback, with paths in the bundle directory and no credentials file", () => {
        const config = one(run, DYNAMIC("StepCaConfig"));
        const caJson = JSON.parse(config.state.caJson);
        assert.equal(caJson.key, one(run, DYNAMIC("EmulatorCryptoKey"), "-intermediate").state.keyVersion);
        assert.deepEqual(caJson.kms, { type: "cloudkms" });
        assert.equal(caJson.root, `${BUNDLE}/certs/root_ca.crt`);
        assert.equal(caJson.crt, `${BUNDLE}/certs/intermediate_ca.crt`);
        assert.equal(caJson.db.dataSource, `${BUNDLE}/db`);
        assert.equal(caJson.address, "127.0.0.1:9000");
    });

    it("writes the bundle where ca.json and defaults.json look, with the password as a secret", () => {
        const bundle = one(run, DYNAMIC("LocalBundle"));
        const config = one(run, DYNAMIC("StepCaConfig"));
        const caJson = JSON.parse(config.state.caJson);
        const defaults = JSON.parse(config.state.defaultsJson);
        assert.deepEqual(bundle.inputs.paths, {
            caJson: defaults["ca-config"],
            defaultsJson: `${BUNDLE}/config/defaults.json`,
            rootCert: caJson.root,
            intermediateCert: caJson.crt,
            password: `${BUNDLE}/secrets/password`,
        });
        assert.equal(bundle.inputs.caJson, config.state.caJson);
        assert.equal(bundle.inputs.defaultsJson, config.state.defaultsJson);
        assert.equal(bundle.inputs.rootCertPem, one(run, DYNAMIC("RootCertificate")).state.certPem);
        assert.equal(bundle.inputs.intermediateCertPem, one(run, DYNAMIC("IntermediateCertificate")).state.certPem);
        const password = run.outputs.provisionerPassword as string;
        assert.equal(bundle.inputs.password, password);
        assert.ok(occursAnywhere(bundle.request.rawInputs, password));
        assert.deepEqual(plainOccurrences(bundle.request.rawInputs, password), []);
        assert.deepEqual(bundle.request.additionalSecretOutputs, ["password"]);
    });

    it("exports the same outputs as gcp mode, with the bundle directory instead of a service account", () => {
        const o = run.outputs as Record<string, string>;
        assert.deepEqual(Object.keys(o).sort(), [
            "bootstrapCommand",
            "caUrl",
            "intermediateCertPem",
            "intermediateKeyVersion",
            "localBundleDir",
            "provisionerPassword",
            "provisionerPasswords",
            "rootCertPem",
            "rootFingerprint",
            "rootKeyVersion",
        ]);
        assert.equal(o.localBundleDir, BUNDLE);
        assert.equal(o.caUrl, "https://localhost:9000");
        assert.equal(o.rootFingerprint, certificateFingerprint(o.rootCertPem));
        assert.equal(o.bootstrapCommand, `step ca bootstrap --ca-url https://localhost:9000 --fingerprint ${o.rootFingerprint}`);
        assert.deepEqual([...run.secretOutputs].sort(), ["provisionerPassword", "provisionerPasswords"]);
    });
});
