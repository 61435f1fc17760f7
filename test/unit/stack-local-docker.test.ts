import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { DYNAMIC, StackRun, one, runStack } from "./support/mocked-stack";
import { occursAnywhere, plainOccurrences } from "./support/secrets";

const P = "stepca-cloudkms";
const CREDENTIALS = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-local-docker-"));
const ACCOUNT_JSON = JSON.stringify({ type: "service_account", private_key: "-----BEGIN PRIVATE KEY-----\nTHROWAWAY\n" });
fs.writeFileSync(path.join(CREDENTIALS, "tls-ca.crt"), "-----BEGIN CERTIFICATE-----\nEMULATOR CA\n");
fs.writeFileSync(path.join(CREDENTIALS, "service-account.json"), ACCOUNT_JSON);
after(() => fs.rmSync(CREDENTIALS, { recursive: true, force: true }));

// Pulumi.local.yaml with localRuntime docker under mocks: emulator keys, and the production container instead of a bundle.
describe("local stack, docker flavour (localRuntime docker)", () => {
    let run: StackRun;
    before(async () => {
        run = await runStack("local", {
            [`${P}:localRuntime`]: "docker",
            [`${P}:localKmsProxyPort`]: "9186",
            [`${P}:localKmsCredentialsDir`]: CREDENTIALS,
        });
    });

    it("runs step-ca in the StepCaContainer, not a bundle, with host networking and no published port", () => {
        const types = run.resources.map((r) => r.type);
        assert.ok(types.includes("stepca:docker:StepCaContainer"));
        assert.ok(!types.includes("stepca:local:StepCaBundle") && !types.includes(DYNAMIC("LocalBundle")));
        assert.ok(!types.some((t) => t.startsWith("gcp:")), "no GCP resource");
        const c = one(run, "docker:index/container:Container").inputs;
        assert.equal(c.networkMode, "host");
        assert.equal(c.ports, undefined);
        assert.equal(c.user, "1000:0");
        assert.ok(types.includes(DYNAMIC("ContainerHealth")));
        assert.equal(run.outputs.localBundleDir, undefined);
        assert.deepEqual(run.checkFailures, []);
    });

    it("reaches the emulator as npm run local's step-ca does: proxy, its CA, its throwaway account", () => {
        const c = one(run, "docker:index/container:Container");
        assert.ok(c.inputs.envs.includes("HTTPS_PROXY=http://127.0.0.1:9186"), c.inputs.envs);
        const upload = (file: string) => c.inputs.uploads.find((u: { file: string }) => u.file === file);
        const ca = upload("/run/secrets/step-ca/kms-emulator-ca.crt");
        assert.equal(ca.content, "-----BEGIN CERTIFICATE-----\nEMULATOR CA\n");
        assert.ok(c.inputs.envs.includes("SSL_CERT_FILE=/run/secrets/step-ca/kms-emulator-ca.crt"));
        const account = upload("/run/secrets/step-ca/kms-emulator-account.json");
        assert.equal(account.permissions, "0440");
        assert.ok(c.inputs.envs.includes("GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/step-ca/kms-emulator-account.json"));
        assert.deepEqual(plainOccurrences(c.request.rawInputs, "THROWAWAY"), [], "the account goes in as a secret");
        assert.ok(occursAnywhere(c.request.rawInputs, "THROWAWAY"));
    });

    it("renders ca.json for the container: loopback listener, container paths, no credentials file", () => {
        const caJson = JSON.parse(one(run, DYNAMIC("StepCaConfig")).state.caJson);
        assert.equal(caJson.address, "127.0.0.1:9000");
        assert.equal(caJson.root, "/home/step/certs/root_ca.crt");
        assert.equal(caJson.db.dataSource, "/home/step/db");
        assert.ok(!String(caJson.kms?.uri ?? "").includes("credentials-file"), caJson.kms?.uri);
    });
});
