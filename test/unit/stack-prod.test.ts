import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { one, ofType } from "./support/mocked-stack";
import { describeGcpStack } from "./support/gcp-stack";

const PASSWORD = "correct-horse-battery-staple";

// Pulumi.prod.yaml under mocks (the gce runtime), with a provisioner password set as a secret, as its header suggests.
describe("prod stack (Pulumi.prod.yaml)", () => {
    const stack = describeGcpStack("prod", { "stepca-cloudkms:provisionerPassword": PASSWORD }, [
        "stepca-cloudkms:provisionerPassword",
    ]);

    it("uses HSM keys in separate key rings and protects the root key from destroy", () => {
        const run = stack.run();
        assert.deepEqual(ofType(run, "gcp:kms/keyRing:KeyRing").map((r) => r.name).sort(), [
            "step-ca-keys-intermediate",
            "step-ca-keys-root",
        ]);
        const root = one(run, "gcp:kms/cryptoKey:CryptoKey", "-root");
        assert.equal(root.inputs.versionTemplate.protectionLevel, "HSM");
        assert.equal(root.inputs.deletionPolicy, "PREVENT");
        assert.equal(root.request.protect, true);
        assert.equal(root.inputs.destroyScheduledDuration, "7776000s");
        assert.equal(run.outputs.caUrl, "https://ca.example.com");
    });

    it("hands the configured provisioner password to step-ca's config as a secret and exports it", () => {
        const run = stack.run();
        const stepCaConfig = one(run, "pulumi-nodejs:dynamic/stepca:StepCaConfig");
        assert.equal(stepCaConfig.inputs.provisionerPassword, PASSWORD);
        assert.equal(run.outputs.provisionerPassword, PASSWORD);
    });
});
