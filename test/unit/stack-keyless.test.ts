import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { one } from "./support/mocked-stack";
import { describeGcpStack } from "./support/gcp-stack";

// Pulumi.dev.yaml with kmsCredentials: applicationDefault — the docker runtime without a service-account key, for
// organizations that enforce iam.disableServiceAccountKeyCreation.
describe("dev stack, keyless (kmsCredentials: applicationDefault)", () => {
    const stack = describeGcpStack("dev", { "stepca-cloudkms:kmsCredentials": "applicationDefault" });

    it("renders ca.json with a cloudkms entry that names no credentials file", () => {
        const caJson = JSON.parse(one(stack.run(), "pulumi-nodejs:dynamic/stepca:StepCaConfig").state.caJson);
        assert.deepEqual(caJson.kms, { type: "cloudkms" });
        assert.ok(!JSON.stringify(caJson).includes("credentials-file"));
    });
});
