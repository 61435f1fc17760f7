import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { one } from "./support/mocked-stack";
import { describeGcpStack } from "./support/gcp-stack";

// Pulumi.dev.yaml under mocks: software keys in one shared key ring, a generated provisioner password.
describe("dev stack (Pulumi.dev.yaml)", () => {
    const stack = describeGcpStack("dev");

    it("puts both keys in one key ring and generates the provisioner password", () => {
        const run = stack.run();
        const ring = one(run, "gcp:kms/keyRing:KeyRing");
        for (const role of ["-root", "-intermediate"]) {
            assert.match(one(run, "gcp:kms/cryptoKey:CryptoKey", role).inputs.keyRing, new RegExp(`/keyRings/${ring.inputs.name}$`));
        }
        assert.equal(one(run, "pulumi-nodejs:dynamic/stepca:StepCaConfig").inputs.provisionerPassword, undefined);
        assert.equal(one(run, "gcp:kms/cryptoKey:CryptoKey", "-root").inputs.versionTemplate.protectionLevel, "SOFTWARE");
        assert.equal(run.outputs.caUrl, "https://localhost:9000");
    });
});
