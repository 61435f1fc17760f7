import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DYNAMIC, one, ofType } from "./support/mocked-stack";
import { describeGcpStack } from "./support/gcp-stack";
import { oidcProvisioner } from "./support/oidc-provisioner";
import { occursAnywhere, plainOccurrences } from "./support/secrets";
import { stackFile } from "./support/stack-files";

const CLIENT_SECRET = "oidc-client-secret-for-gce-0123";
const PROVISIONERS = stackFile("prod")["stepca-cloudkms:provisioners"] as Record<string, unknown>[];
const OIDC = oidcProvisioner(CLIENT_SECRET);

// Pulumi.prod.yaml (the gce runtime) with an OIDC provisioner whose client secret was set with
// `pulumi config set --secret --path …`: ca.json then holds a secret, which must not reach instance metadata.
describe("prod stack with an OIDC client secret (gce runtime)", () => {
    const stack = describeGcpStack("prod", { "stepca-cloudkms:provisioners": [...PROVISIONERS, OIDC] }, [
        "stepca-cloudkms:provisioners",
    ]);

    it("puts ca.json with the client secret in Secret Manager as a secret, and nowhere in the template", () => {
        const run = stack.run();
        assert.deepEqual(one(run, DYNAMIC("StepCaConfig")).inputs.clientSecrets, { google: CLIENT_SECRET });
        const caJson = ofType(run, "gcp:secretmanager/secretVersion:SecretVersion").find((v) => v.name.endsWith("-ca-json"))!;
        assert.ok(JSON.parse(caJson.inputs.secretData).authority.provisioners.some((p: { clientSecret?: string }) => p.clientSecret === CLIENT_SECRET));
        assert.deepEqual(plainOccurrences(caJson.request.rawInputs, CLIENT_SECRET), []);
        const template = one(run, "gcp:compute/instanceTemplate:InstanceTemplate");
        assert.ok(!occursAnywhere(template.request.rawInputs, CLIENT_SECRET));
        assert.deepEqual(plainOccurrences(template.request.rawInputs, "#cloud-config"), ["$.metadata.user-data"], "user-data is plain: nothing secret in it");
    });
});
