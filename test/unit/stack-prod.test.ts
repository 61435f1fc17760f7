import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { one, ofType } from "./support/mocked-stack";
import { describeGcpStack } from "./support/gcp-stack";
import { stackFile } from "./support/stack-files";

const PASSWORD = "correct-horse-battery-staple";

// Pulumi.prod.yaml under mocks (the gce runtime), with the operators' JWK password set as a secret, as its header suggests
// (`pulumi config set --secret --path 'provisioners[0].password' …`).
const PROVISIONERS = stackFile("prod")["stepca-cloudkms:provisioners"] as Record<string, unknown>[];
const WITH_PASSWORD = [{ ...PROVISIONERS[0], password: PASSWORD }, ...PROVISIONERS.slice(1)];

describe("prod stack (Pulumi.prod.yaml)", () => {
    const stack = describeGcpStack("prod", { "stepca-cloudkms:provisioners": WITH_PASSWORD }, [
        "stepca-cloudkms:provisioners",
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
        assert.deepEqual(stepCaConfig.inputs.provisionerPasswords, { operators: PASSWORD });
        assert.equal(run.outputs.provisionerPassword, PASSWORD);
        assert.deepEqual(run.outputs.provisionerPasswords, { operators: PASSWORD });
    });

    it("configures ACME for services, GCP for VMs and a JWK for operators, under week-long maximum lifetimes", () => {
        const run = stack.run();
        const caJson = JSON.parse(one(run, "pulumi-nodejs:dynamic/stepca:StepCaConfig").state.caJson);
        assert.deepEqual(
            caJson.authority.provisioners.map((p: { type: string; name: string }) => `${p.type}:${p.name}`),
            ["JWK:operators", "ACME:acme", "GCP:gce"],
        );
        assert.deepEqual(caJson.authority.claims, { defaultTLSCertDuration: "24h", maxTLSCertDuration: "168h" });
        const gce = caJson.authority.provisioners[2];
        assert.deepEqual(gce.projectIDs, ["my-prod-project"]);
        assert.equal(gce.instanceAge, "1h");
        assert.ok(!one(run, "pulumi-nodejs:dynamic/stepca:StepCaConfig").request.additionalSecretOutputs.includes("caJson"),
            "no client secret: ca.json stays reviewable in diffs");
    });
});
