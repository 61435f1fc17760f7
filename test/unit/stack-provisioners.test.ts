import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { DYNAMIC, StackRun, one, runStack } from "./support/mocked-stack";
import { oidcProvisioner } from "./support/oidc-provisioner";
import { occursAnywhere, plainOccurrences } from "./support/secrets";

const P = "stepca-cloudkms";
const PASSWORD = "operators-password-0123";
const CLIENT_SECRET = "oidc-client-secret-4567";
const PROVISIONERS = [
    { type: "JWK", name: "operators", password: PASSWORD },
    { type: "JWK", name: "ci" },
    { type: "ACME", name: "acme", challenges: ["http-01"], claims: { defaultTLSCertDuration: "1h" } },
    oidcProvisioner(CLIENT_SECRET),
];

// The dev stack with provisioners whose secrets were set with `pulumi config set --secret --path …`: Pulumi marks the
// whole `provisioners` setting secret, and the program must carry the secrets only as secrets.
describe("a stack with provisioners carrying a JWK password and an OIDC client secret", () => {
    let run: StackRun;
    before(async () => {
        run = await runStack(
            "dev",
            {
                [`${P}:provisioners`]: PROVISIONERS,
                [`${P}:claims`]: { maxTLSCertDuration: "72h" },
                [`${P}:policy`]: { x509: { allow: { dns: ["localhost", "*.example.com"], ip: ["127.0.0.1"] } } },
                [`${P}:nameConstraints`]: { permittedDNSDomains: ["localhost", "example.com"] },
            },
            [`${P}:provisioners`],
        );
    });
    const stepCaConfig = () => one(run, DYNAMIC("StepCaConfig"));

    it("renders every provisioner, the claims and the policy into ca.json, with the client secret", () => {
        assert.deepEqual(run.checkFailures, []);
        const authority = JSON.parse(stepCaConfig().state.caJson).authority;
        assert.deepEqual(authority.provisioners.map((p: { name: string }) => p.name), ["operators", "ci", "acme", "google"]);
        assert.equal(authority.provisioners[3].clientSecret, CLIENT_SECRET);
        assert.deepEqual(authority.provisioners[2].claims, { defaultTLSCertDuration: "1h" });
        assert.deepEqual(authority.claims, { maxTLSCertDuration: "72h" });
        assert.deepEqual(authority.policy.x509.allow.dns, ["localhost", "*.example.com"]);
    });

    it("passes the provisioner specs in plain, the secrets as secrets, and makes ca.json secret", () => {
        const request = stepCaConfig().request;
        assert.ok(request.additionalSecretOutputs.includes("caJson"));
        assert.ok(request.additionalSecretOutputs.includes("jwkPasswords"));
        assert.deepEqual(stepCaConfig().inputs.provisionerPasswords, { operators: PASSWORD });
        assert.deepEqual(stepCaConfig().inputs.clientSecrets, { google: CLIENT_SECRET });
        assert.ok(!JSON.stringify(stepCaConfig().inputs.provisioners).includes(CLIENT_SECRET));
        for (const secret of [PASSWORD, CLIENT_SECRET]) {
            assert.ok(occursAnywhere(request.rawInputs, secret), "the config resource receives it");
            for (const r of run.resources) {
                assert.deepEqual(plainOccurrences(r.request.rawInputs, secret), [], `${r.type} ${r.name}`);
            }
        }
    });

    it("uploads the secret ca.json to the container as a secret, and exports every JWK password as one", () => {
        const container = one(run, "docker:index/container:Container");
        assert.ok(occursAnywhere(container.request.rawInputs, CLIENT_SECRET), "ca.json with the client secret is uploaded");
        assert.deepEqual(plainOccurrences(container.request.rawInputs, CLIENT_SECRET), []);
        const passwords = run.outputs.provisionerPasswords as Record<string, string>;
        assert.equal(passwords.operators, PASSWORD);
        assert.match(passwords.ci, /^[A-Za-z0-9_-]{43}$/, "a JWK without a password gets a generated one");
        assert.equal(run.outputs.provisionerPassword, PASSWORD, "the first JWK's");
        assert.ok(run.secretOutputs.has("provisionerPasswords"));
    });

    it("mints the intermediate with the name constraints", () => {
        assert.deepEqual(one(run, DYNAMIC("IntermediateCertificate")).inputs.nameConstraints, {
            permittedDNSDomains: ["localhost", "example.com"],
        });
    });
});
