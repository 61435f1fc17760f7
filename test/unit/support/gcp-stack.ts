import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { CaConfig, listenAddress, subjectOf, validateConfig } from "../../../lib/config/config";
import { certificateFingerprint } from "../../../lib/pki/fingerprint";
import { DYNAMIC, MockedResource, StackRun, ofType, one, runStack } from "./mocked-stack";
import { occursAnywhere, plainOccurrences } from "./secrets";
import { stackConfig } from "./stack-files";
import { GCE_TYPES, describeGceRuntime, gceResources } from "./gce-stack";

const P = "stepca-cloudkms";
const T = {
    stepCa: "stepca:index:StepCa",
    services: "stepca:gcp:ProjectServices",
    keys: "stepca:kms:CaKeys",
    account: "stepca:iam:CaServiceAccount",
    container: "stepca:docker:StepCaContainer",
    service: "gcp:projects/service:Service",
    keyRing: "gcp:kms/keyRing:KeyRing",
    cryptoKey: "gcp:kms/cryptoKey:CryptoKey",
    iamMember: "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
    saAccount: "gcp:serviceaccount/account:Account",
    saKey: "gcp:serviceaccount/key:Key",
    image: "docker:index/remoteImage:RemoteImage",
    volume: "docker:index/volume:Volume",
    dockerContainer: "docker:index/container:Container",
    suffix: DYNAMIC("NameSuffix"),
    root: DYNAMIC("RootCertificate"),
    intermediate: DYNAMIC("IntermediateCertificate"),
    config: DYNAMIC("StepCaConfig"),
    offline: DYNAMIC("OfflineKeyVersion"),
    health: DYNAMIC("ContainerHealth"),
};

/**
 * The assertions every gcp-mode stack must pass under mocks, for the stack file `stack` (plus `overrides`,
 * namespaced keys). `secretKeys` are config keys the CLI would mark secret.
 */
export function describeGcpStack(stack: string, overrides: Record<string, unknown> = {}, secretKeys: string[] = []) {
    let run: StackRun;
    const config: CaConfig = validateConfig(P, stackConfig(stack, overrides), secretKeys);
    const rings = config.kms.separateKeyRings ? 2 : 1;
    const gce = config.runtime === "gce";
    const withKey = !gce && config.kmsCredentials === "serviceAccountKey";
    const CREDENTIALS_FILE = "/run/secrets/step-ca/kms-credentials.json";

    before(async () => {
        run = await runStack(stack, overrides, secretKeys);
    });

    const rootKey = () => one(run, T.cryptoKey, "-root");
    const intermediateKey = () => one(run, T.cryptoKey, "-intermediate");
    const keyId = (r: MockedResource) => `${r.inputs.keyRing}/cryptoKeys/${r.inputs.name}`;
    const rootRing = () => one(run, T.keyRing, rings === 2 ? "-root" : "-ring");
    const ringId = (r: MockedResource) =>
        `projects/${r.inputs.project}/locations/${r.inputs.location}/keyRings/${r.inputs.name}`;
    const container = () => one(run, T.dockerContainer);
    const upload = (file: string) => {
        const found = container().inputs.uploads.find((u: { file: string }) => u.file === file);
        assert.ok(found, `no upload to ${file}`);
        return found;
    };

    describe("resources", () => {
        it("are exactly the expected ones, each under the expected component", () => {
            const expected: Record<string, [number, string | string[] | undefined]> = {
                [T.stepCa]: [1, undefined],
                [T.services]: [1, T.stepCa],
                [T.service]: [2 + (gce ? 4 + (config.gce?.dnsZone ? 1 : 0) : 0), T.services],
                [T.keys]: [1, T.stepCa],
                [T.suffix]: [4, undefined],
                [T.keyRing]: [rings, T.keys],
                [T.cryptoKey]: [2, T.keys],
                [T.account]: [1, T.stepCa],
                [T.saAccount]: [1, T.account],
                [T.iamMember]: [2, T.account],
                ...(withKey ? { [T.saKey]: [1, T.account] as [number, string] } : {}),
                [T.root]: [1, T.stepCa],
                [T.intermediate]: [1, T.stepCa],
                [T.config]: [1, T.stepCa],
                ...(config.kms.offlineRootKey ? { [T.offline]: [1, T.stepCa] as [number, string] } : {}),
                ...(gce
                    ? gceResources(config)
                    : {
                          [T.container]: [1, T.stepCa] as [number, string],
                          [T.image]: [1, T.container] as [number, string],
                          [T.volume]: [1, T.container] as [number, string],
                          [T.dockerContainer]: [1, T.container] as [number, string],
                          [T.health]: [1, T.container] as [number, string],
                      }),
            };
            const counts: Record<string, number> = {};
            for (const r of run.resources) {
                counts[r.type] = (counts[r.type] ?? 0) + 1;
                if (r.type !== T.suffix) {
                    const parents = [expected[r.type]?.[1]].flat();
                    assert.ok(parents.includes(r.parentType), `parent of ${r.type} ${r.name}: ${r.parentType}`);
                }
            }
            assert.deepEqual(
                counts,
                Object.fromEntries(Object.entries(expected).map(([type, [count]]) => [type, count])),
            );
            // Name suffixes: three for the key names, one for the service account (and the secret IDs on gce).
            const suffixParents = ofType(run, T.suffix).map((r) => r.parentType).sort();
            assert.deepEqual(suffixParents, [T.account, T.keys, T.keys, T.keys]);
        });

        it("every dynamic resource's inputs pass its real provider's check", () => {
            assert.deepEqual(run.checkFailures, []);
        });

        it(`keeps the root key version offline ${config.kms.offlineRootKey ? "(offlineRootKey), after both certificates" : "only with offlineRootKey"}`, () => {
            const offline = ofType(run, T.offline);
            assert.equal(offline.length, config.kms.offlineRootKey ? 1 : 0);
            for (const r of offline) {
                assert.match(r.inputs.keyVersion, /\/cryptoKeyVersions\/1$/);
                assert.ok(occursAnywhere(r.request.rawInputs, keyId(rootKey())), "the root key's version");
                assert.deepEqual(r.request.dependencies.filter((d) => d.includes("Certificate")).sort(), [one(run, T.intermediate).urn, one(run, T.root).urn].sort());
            }
        });
    });

    describe("APIs", () => {
        it(`enables Cloud KMS and IAM${gce ? ", and what the gce runtime uses," : ""} and leaves them enabled on destroy`, () => {
            const services = ofType(run, T.service);
            const gceServices = gce
                ? [
                      "compute.googleapis.com",
                      "secretmanager.googleapis.com",
                      "servicenetworking.googleapis.com",
                      "sqladmin.googleapis.com",
                      ...(config.gce?.dnsZone ? ["dns.googleapis.com"] : []),
                  ]
                : [];
            assert.deepEqual(
                services.map((s) => s.inputs.service).sort(),
                ["cloudkms.googleapis.com", "iam.googleapis.com", ...gceServices].sort(),
            );
            for (const s of services) {
                assert.equal(s.inputs.project, config.project);
                assert.equal(s.inputs.disableOnDestroy, false);
            }
        });

        it("are enabled before key rings and the service account are created", () => {
            const serviceUrns = ofType(run, T.service).map((s) => s.urn).sort();
            for (const r of [...ofType(run, T.keyRing), one(run, T.saAccount)]) {
                const deps = r.request.dependencies.filter((d) => d.includes(T.service)).sort();
                assert.deepEqual(deps, serviceUrns, r.name);
            }
        });
    });

    describe("keys", () => {
        it(`live in ${rings} key ring(s) named with the prefix and a random suffix, in the configured location`, () => {
            const pattern = rings === 2 ? /^step-ca-(root|intermediate)-[0-9a-f]{8}$/ : /^step-ca-[0-9a-f]{8}$/;
            for (const ring of ofType(run, T.keyRing)) {
                assert.match(ring.inputs.name, pattern);
                assert.ok(ring.inputs.name.startsWith(config.kms.keyRingPrefix));
                assert.equal(ring.inputs.location, config.kms.location);
                assert.equal(ring.inputs.project, config.project);
            }
        });

        it("root and intermediate keys sign asymmetrically with the configured algorithm and protection level", () => {
            const cases: [MockedResource, string][] = [
                [rootKey(), config.kms.rootAlgorithm],
                [intermediateKey(), config.kms.intermediateAlgorithm],
            ];
            for (const [key, algorithm] of cases) {
                assert.equal(key.inputs.purpose, "ASYMMETRIC_SIGN");
                assert.deepEqual(key.inputs.versionTemplate, {
                    algorithm,
                    protectionLevel: config.kms.protectionLevel,
                });
                assert.equal(key.inputs.destroyScheduledDuration, config.kms.destroyScheduledDuration);
            }
            assert.equal(rootKey().inputs.keyRing, ringId(rootRing()));
            const intermediateRing = rings === 2 ? one(run, T.keyRing, "-intermediate") : rootRing();
            assert.equal(intermediateKey().inputs.keyRing, ringId(intermediateRing));
        });

        it("name keys with a suffix kept by algorithm and protection level only, so only those yield a new key", () => {
            for (const role of ["root", "intermediate"]) {
                const suffix = one(run, T.suffix, `-${role}-key`);
                const key = one(run, T.cryptoKey, `-${role}`);
                assert.equal(key.inputs.name, `${role}-${suffix.state.hex}`);
                assert.deepEqual(suffix.inputs.keepers, {
                    algorithm: role === "root" ? config.kms.rootAlgorithm : config.kms.intermediateAlgorithm,
                    protectionLevel: config.kms.protectionLevel,
                });
            }
            const rings = one(run, T.suffix, "-key-rings");
            assert.deepEqual(Object.keys(rings.inputs.keepers).sort(), ["keyRingPrefix", "layout", "location"]);
        });

        it("ignore later changes to destroyScheduledDuration instead of replacing the keys (and the root)", () => {
            for (const key of [rootKey(), intermediateKey()]) {
                assert.deepEqual(key.request.ignoreChanges, ["destroyScheduledDuration"], key.name);
            }
        });

        it("destroy the intermediate key's versions on delete", () => {
            assert.equal(intermediateKey().inputs.deletionPolicy, "DELETE");
            assert.equal(intermediateKey().request.protect, false);
        });

        it(`${config.kms.protectRootKey ? "protect" : "do not protect"} the root key, as protectRootKey says`, () => {
            const protect = config.kms.protectRootKey;
            assert.equal(rootKey().inputs.deletionPolicy, protect ? "PREVENT" : "DELETE");
            assert.equal(rootKey().request.protect, protect);
        });
    });

    describe("service account", () => {
        it("has a stack-unique account ID within GCP's 6-30 characters", () => {
            const account = one(run, T.saAccount);
            assert.match(account.inputs.accountId, /^step-ca-[0-9a-f]{8}$/);
            assert.equal(account.inputs.project, config.project);
        });

        it("may sign with, and read the public key of, the intermediate key: exactly two grants", () => {
            const email = one(run, T.saAccount).state.email;
            const grants = ofType(run, T.iamMember);
            assert.deepEqual(grants.map((g) => g.inputs.role).sort(), ["roles/cloudkms.publicKeyViewer", "roles/cloudkms.signer"]);
            for (const grant of grants) {
                assert.equal(grant.inputs.cryptoKeyId, keyId(intermediateKey()));
                assert.equal(grant.inputs.member, `serviceAccount:${email}`);
            }
        });

        it("gets nothing on the root key, on any key ring, or on the project", () => {
            // Every IAM-like resource (IAM members/bindings/policies at any level, the account and its key), searched
            // through all of its inputs as sent to the engine, nested values and secrets included.
            const iam = run.resources.filter((r) => /iam/i.test(r.type) || r.type.startsWith("gcp:serviceaccount/"));
            const allowedKey = keyId(intermediateKey());
            // Guard against a vacuous pass: the grants exist and name the intermediate key.
            assert.ok(iam.some((r) => occursAnywhere(r.request.rawInputs, allowedKey)));
            // Every other KMS resource, by full ID and by short name. A shared ring's ID is part of the intermediate
            // key's, so references to that key are taken out before searching.
            const forbidden: [string, string][] = [
                ["the root key's ID", keyId(rootKey())],
                ["the root key's name", rootKey().inputs.name],
                ...ofType(run, T.keyRing).flatMap((ring): [string, string][] => [
                    [`key ring ${ring.name}'s ID`, ringId(ring)],
                    [`key ring ${ring.name}'s name`, ring.inputs.name],
                ]),
            ];
            assert.ok(forbidden.some(([, id]) => id === ringId(rootRing())), "the root ring is searched for");
            // The search finds a root reference where there is one (the root certificate is minted with the root key).
            assert.ok(occursAnywhere(one(run, T.root).request.rawInputs, keyId(rootKey())));
            for (const r of iam) {
                const rest = JSON.parse(JSON.stringify(r.request.rawInputs).split(allowedKey).join("<intermediate key>"));
                for (const [what, needle] of forbidden) {
                    assert.ok(!occursAnywhere(rest, needle), `${r.type} ${r.name} references ${what} (${needle})`);
                }
            }
            const allowed = new Set([T.iamMember, T.saAccount, T.saKey, T.account, ...(gce ? GCE_TYPES.iam : [])]);
            assert.deepEqual(iam.filter((r) => !allowed.has(r.type)).map((r) => r.type), []);
            // And the grants that exist are on the intermediate key itself, not on a ring or the project.
            assert.deepEqual(ofType(run, T.iamMember).map((g) => g.inputs.cryptoKeyId), [allowedKey, allowedKey]);
        });

        if (withKey) {
            it("has a JSON key, handed to the container as a secret", () => {
                const key = one(run, T.saKey);
                assert.equal(key.inputs.serviceAccountId, one(run, T.saAccount).state.name);
                const credentials = upload(CREDENTIALS_FILE);
                assert.equal(credentials.contentBase64, key.state.privateKey);
                assert.deepEqual(plainOccurrences(container().request.rawInputs, key.state.privateKey), []);
                assert.ok(occursAnywhere(container().request.rawInputs, key.state.privateKey));
            });
        } else if (!gce) {
            it("has no JSON key (kmsCredentials: applicationDefault), and the container gets no credentials file", () => {
                assert.deepEqual(ofType(run, T.saKey), []);
                const files = container().inputs.uploads.map((u: { file: string }) => u.file);
                assert.ok(!files.includes(CREDENTIALS_FILE), "no credentials upload");
                assert.ok(files.every((f: string) => !/credentials/.test(f)), files.join(", "));
            });
        }
    });

    describe("certificates", () => {
        it("the root is minted with the root key's first version, from config", () => {
            const root = one(run, T.root);
            assert.deepEqual(root.inputs, {
                keyVersion: `${keyId(rootKey())}/cryptoKeyVersions/1`,
                subject: subjectOf(config.root),
                validityDays: config.root.validityDays,
            });
        });

        it("the intermediate is minted with the intermediate key and signed by the root key", () => {
            const intermediate = one(run, T.intermediate);
            assert.deepEqual(intermediate.inputs, {
                keyVersion: `${keyId(intermediateKey())}/cryptoKeyVersions/1`,
                issuerKeyVersion: `${keyId(rootKey())}/cryptoKeyVersions/1`,
                issuerCertPem: one(run, T.root).state.certPem,
                subject: subjectOf(config.intermediate),
                validityDays: config.intermediate.validityDays,
                renewBeforeDays: config.intermediate.renewBeforeDays,
            });
        });
    });

    if (gce) {
        describeGceRuntime(() => run, config);
        return { run: () => run, config };
    }

    describe("step-ca configuration", () => {
        it("names the intermediate key version and the container's paths", () => {
            const stepCaConfig = one(run, T.config);
            assert.equal(stepCaConfig.inputs.intermediateKeyVersion, `${keyId(intermediateKey())}/cryptoKeyVersions/1`);
            assert.equal(stepCaConfig.inputs.address, listenAddress("gcp", config.port));
            assert.equal(JSON.parse(stepCaConfig.state.caJson).address, `:${config.port}`, "all interfaces in the container");
            assert.deepEqual(stepCaConfig.inputs.dnsNames, config.dnsNames);
            assert.equal(stepCaConfig.inputs.provisionerName, config.provisionerName);
            const caJson = JSON.parse(stepCaConfig.state.caJson);
            assert.equal(caJson.key, `${keyId(intermediateKey())}/cryptoKeyVersions/1`);
            // Without a credentials file step-ca's cloudkms uses Application Default Credentials.
            assert.deepEqual(
                caJson.kms,
                withKey ? { type: "cloudkms", uri: `cloudkms:credentials-file=${CREDENTIALS_FILE}` } : { type: "cloudkms" },
            );
        });

        it("refers only to files the container receives (or step-ca creates)", () => {
            const caJson = JSON.parse(one(run, T.config).state.caJson);
            const uploaded = new Set(container().inputs.uploads.map((u: { file: string }) => u.file));
            const credentials = withKey ? [caJson.kms.uri.replace("cloudkms:credentials-file=", "")] : [];
            for (const file of [caJson.root, caJson.crt, ...credentials]) {
                assert.ok(uploaded.has(file), `${file} is not uploaded`);
            }
            const volumePath = container().inputs.volumes[0].containerPath;
            assert.ok(caJson.db.dataSource.startsWith(`${volumePath}/`), "the database is on the volume");
            const defaults = JSON.parse(one(run, T.config).state.defaultsJson);
            assert.ok(uploaded.has(defaults.root) && uploaded.has(defaults["ca-config"]));
        });
    });

    describe("container", () => {
        it("runs the pinned image with a database volume, the published port and a restart policy", () => {
            const c = container().inputs;
            assert.equal(one(run, T.image).inputs.name, config.image);
            assert.equal(c.image, one(run, T.image).state.imageId);
            assert.deepEqual(c.volumes, [{ volumeName: one(run, T.volume).inputs.name, containerPath: "/home/step" }]);
            assert.deepEqual(c.ports, [{ internal: config.port, external: config.port }]);
            assert.equal(c.restart, "unless-stopped");
            assert.equal(c.name, `${P}-${stack}`);
        });

        it("starts step-ca with the password file, a writable HOME, and a health check", () => {
            const c = container().inputs;
            assert.deepEqual(c.command, ["step-ca", "--password-file", "/run/secrets/step-ca/password", "/home/step/config/ca.json"]);
            assert.ok(c.envs.includes("HOME=/home/step"));
            // Both example stacks list a DNS name first; healthCheck's own test covers IP-only lists.
            const url = `https://${config.dnsNames[0]}:${config.port}`;
            assert.deepEqual(c.healthcheck.tests, ["CMD", "step", "ca", "health", "--ca-url", url, "--root", "/home/step/certs/root_ca.crt"]);
            // Not the provider's wait (a step-ca that exits would cost its whole timeout): ContainerHealth's.
            assert.equal(c.wait, undefined);
            const health = one(run, T.health);
            assert.match(health.inputs.containerId, /^[0-9a-f]{64}$/, "the container's id (mocked as a SHA-256)");
            assert.equal(health.inputs.service, "step-ca");
            assert.equal(health.inputs.timeoutSeconds, 180);
        });

        it("receives config, certificates, password and credentials through the Docker API, secrets unreadable to others", () => {
            const stepCaConfig = one(run, T.config);
            assert.equal(upload("/home/step/config/ca.json").content, stepCaConfig.state.caJson);
            assert.equal(upload("/home/step/config/defaults.json").content, stepCaConfig.state.defaultsJson);
            assert.equal(upload("/home/step/certs/root_ca.crt").content, one(run, T.root).state.certPem);
            assert.equal(upload("/home/step/certs/intermediate_ca.crt").content, one(run, T.intermediate).state.certPem);
            assert.equal(upload("/run/secrets/step-ca/password").content, run.outputs.provisionerPassword);
            // Root-owned (an owner breaks uploads on Engine 20.10); secrets for group root, step-ca's group.
            for (const u of container().inputs.uploads) {
                assert.equal(u.owner, undefined, `${u.file} has an owner`);
                assert.equal(u.group, undefined, `${u.file} has a group`);
            }
            const secrets = ["/run/secrets/step-ca/password", ...(withKey ? [CREDENTIALS_FILE] : [])];
            for (const u of container().inputs.uploads) {
                assert.equal(u.permissions, secrets.includes(u.file) ? "0440" : "0444", u.file);
            }
            assert.equal(container().inputs.user, "1000:0", "step, with group root as its primary group");
            assert.equal(container().inputs.groupAdds, undefined, "no group for every process in the container");
            assert.ok(container().inputs.uploads.every((u: { source?: string }) => u.source === undefined), "no host files");
        });

        it("is replaced (old one first) when the intermediate or config changes, and starts after the IAM grants", () => {
            assert.equal(container().request.deleteBeforeReplace, true);
            const grants = ofType(run, T.iamMember).map((g) => g.urn);
            for (const grant of grants) {
                assert.ok(container().request.dependencies.includes(grant), `container does not wait for ${grant}`);
            }
        });
    });

    describe("stack outputs", () => {
        it("are the CA URL, fingerprint, PEMs, key versions, account, bootstrap line and password", () => {
            const o = run.outputs;
            assert.deepEqual(Object.keys(o).sort(), [
                "bootstrapCommand",
                "caUrl",
                "intermediateCertPem",
                "intermediateKeyVersion",
                "provisionerPassword",
                "provisionerPasswords",
                "rootCertPem",
                "rootFingerprint",
                "rootKeyVersion",
                "serviceAccountEmail",
            ]);
            const host = config.dnsNames[0];
            assert.equal(o.caUrl, config.port === 443 ? `https://${host}` : `https://${host}:${config.port}`);
            assert.equal(o.rootFingerprint, certificateFingerprint(o.rootCertPem as string));
            assert.equal(o.bootstrapCommand, `step ca bootstrap --ca-url ${o.caUrl} --fingerprint ${o.rootFingerprint}`);
            assert.equal(o.rootKeyVersion, `${keyId(rootKey())}/cryptoKeyVersions/1`);
            assert.equal(o.intermediateKeyVersion, `${keyId(intermediateKey())}/cryptoKeyVersions/1`);
            assert.equal(o.serviceAccountEmail, one(run, T.saAccount).state.email);
            assert.equal(o.intermediateCertPem, one(run, T.intermediate).state.certPem);
        });

        it("mark the provisioner passwords, and nothing else, secret", () => {
            assert.deepEqual([...run.secretOutputs].sort(), ["provisionerPassword", "provisionerPasswords"]);
            assert.ok((run.outputs.provisionerPassword as string).length >= 12);
        });

        it("keep the password and the service-account key out of every plain input", () => {
            const secrets = [
                run.outputs.provisionerPassword as string,
                ...(withKey ? [one(run, T.saKey).state.privateKey as string] : []),
            ];
            for (const secret of secrets) {
                assert.ok(occursAnywhere(container().request.rawInputs, secret), "the container receives it");
            }
            for (const r of run.resources) {
                for (const secret of secrets) {
                    assert.deepEqual(plainOccurrences(r.request.rawInputs, secret), [], `${r.type} ${r.name}`);
                }
            }
        });
    });

    return { run: () => run, config };
}
