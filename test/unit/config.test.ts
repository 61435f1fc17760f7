import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, listenAddress, secretConfigKeys, subjectOf, validateConfig } from "../../lib/config/config";
import { ALL_CLOUD_KMS_LOCATIONS, CLOUD_KMS_LOCATIONS } from "../../lib/config/locations";
import { SETTINGS } from "../../lib/config/settings";
import { KMS_ENDPOINT_CONFIG_KEY, OFFLINE_ROOT_KEY_CONFIG_KEY } from "../../dynamic-providers/stack-settings";
import { PROJECT_DIR, projectFile, stackConfig, stackFile } from "./support/stack-files";

const P = "stepca-cloudkms";
const PASSWORD_KEY = `${P}:provisionerPassword`;

/**
 * Validates the dev stack's config with `overrides` (keys without namespace are the project's). `secretKeys` are
 * the keys the stack holds as secrets; by default the provisioner password, as `pulumi config set --secret` makes it.
 */
function devWith(overrides: Record<string, unknown>, secretKeys: string[] = [PASSWORD_KEY]) {
    const namespaced = Object.fromEntries(
        Object.entries(overrides).map(([k, v]) => [k.includes(":") ? k : `${P}:${k}`, v]),
    );
    return validateConfig(P, stackConfig("dev", namespaced), secretKeys);
}

function problemsOf(overrides: Record<string, unknown>, secretKeys?: string[]): readonly string[] {
    try {
        devWith(overrides, secretKeys);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return e.problems;
    }
    assert.fail("expected the configuration to be rejected");
}

describe("Pulumi.yaml", () => {
    const project = projectFile();

    it("is the stepca-cloudkms nodejs project", () => {
        assert.equal(project.name, P);
        assert.equal((project as unknown as { runtime: string }).runtime, "nodejs");
    });

    it("declares exactly the settings the program reads, with the same types and defaults", () => {
        assert.deepEqual(Object.keys(project.config).sort(), Object.keys(SETTINGS).sort());
        for (const [name, spec] of Object.entries(SETTINGS)) {
            const declared = project.config[name];
            assert.equal(declared.type, spec.type, name);
            assert.deepEqual(declared.default, "default" in spec ? spec.default : undefined, name);
            assert.ok((declared.description ?? "").length > 20, `${name} needs a description`);
            if (spec.type === "array") {
                assert.deepEqual(declared.items, { type: "items" in spec ? spec.items : "string" }, name);
            }
        }
    });

    it("is the project the providers read their stack settings from (dynamic-providers/stack-settings.ts)", () => {
        assert.equal(KMS_ENDPOINT_CONFIG_KEY, `${project.name}:kmsEndpoint`);
        assert.equal(OFFLINE_ROOT_KEY_CONFIG_KEY, `${project.name}:offlineRootKey`);
    });

    it("pins the same step-ca version the interop tests build", () => {
        assert.equal(project.config.image.default, "smallstep/step-ca:0.30.2");
    });
});

describe("example stacks", () => {
    it("dev is a valid gcp stack", () => {
        const config = validateConfig(P, stackConfig("dev"));
        assert.equal(config.mode, "gcp");
        assert.equal(config.project, stackFile("dev")["gcp:project"]);
        assert.equal(config.kmsEndpoint, undefined);
        assert.equal(config.kms.protectionLevel, "SOFTWARE");
        assert.equal(config.kms.destroyScheduledDuration, "86400s");
        assert.deepEqual(config.dnsNames, ["localhost", "127.0.0.1"]);
    });

    it("prod uses HSM keys in separate rings, a protected root and longer lifetimes", () => {
        const config = validateConfig(P, stackConfig("prod"));
        assert.equal(config.kms.protectionLevel, "HSM");
        assert.equal(config.kms.separateKeyRings, true);
        assert.equal(config.kms.protectRootKey, true);
        const dev = validateConfig(P, stackConfig("dev"));
        assert.ok(config.root.validityDays > dev.root.validityDays);
        assert.ok(config.intermediate.validityDays > dev.intermediate.validityDays);
    });

    it("local runs against the emulator and writes a bundle", () => {
        const config = validateConfig(P, stackConfig("local"));
        assert.equal(config.mode, "local");
        assert.equal(config.kmsEndpoint, "127.0.0.1:8085");
        assert.equal(config.localBundleDir, ".local/bundle");
        assert.equal(config.project, "stepca-local");
    });
});

describe("validateConfig", () => {
    it("fills in the declared defaults", () => {
        const config = validateConfig(P, { "gcp:project": "my-project", [`${P}:dnsNames`]: '["ca.example.com"]' });
        assert.deepEqual(config, {
            mode: "gcp",
            project: "my-project",
            kmsEndpoint: undefined,
            runtime: "docker",
            kmsCredentials: "serviceAccountKey",
            kms: {
                location: "us-central1",
                keyRingPrefix: "step-ca",
                separateKeyRings: true,
                rootAlgorithm: "EC_SIGN_P384_SHA384",
                intermediateAlgorithm: "EC_SIGN_P256_SHA256",
                protectionLevel: "SOFTWARE",
                destroyScheduledDuration: "2592000s",
                protectRootKey: false,
                offlineRootKey: false,
            },
            root: { commonName: "Step CA Root CA", organization: "Step CA", validityDays: 3650 },
            intermediate: {
                commonName: "Step CA Intermediate CA",
                organization: "Step CA",
                validityDays: 365,
                renewBeforeDays: 30,
            },
            dnsNames: ["ca.example.com"],
            port: 9000,
            provisionerName: "admin",
            provisionerPasswordGiven: false,
            provisioners: undefined,
            provisionerSecretsGiven: { passwords: [], clientSecrets: [] },
            claims: undefined,
            policy: undefined,
            nameConstraints: undefined,
            image: "smallstep/step-ca:0.30.2",
            localBundleDir: ".local/bundle",
        });
    });

    it("chooses KMS credentials: a service-account key by default, applicationDefault on request", () => {
        assert.equal(devWith({}).kmsCredentials, "serviceAccountKey");
        assert.equal(devWith({ kmsCredentials: "applicationDefault" }).kmsCredentials, "applicationDefault");
        assert.equal(devWith({ kmsCredentials: "applicationdefault" }).kmsCredentials, "applicationDefault");
        const [problem] = problemsOf({ kmsCredentials: "workloadIdentity" });
        assert.match(problem, /kmsCredentials "workloadIdentity" must be one of serviceAccountKey, applicationDefault/);
    });

    it("reads the gce runtime's settings, with the region taken from a regional location", () => {
        const config = devWith({ runtime: "gce", location: "europe-west1", clientCidrs: '["10.0.0.0/8"]' });
        assert.equal(config.runtime, "gce");
        assert.equal(config.kmsCredentials, "applicationDefault");
        assert.deepEqual(config.gce, {
            region: "europe-west1",
            zones: [],
            replicas: 2,
            machineType: "e2-small",
            subnetCidr: "10.20.0.0/24",
            clientCidrs: ["10.0.0.0/8"],
            loadBalancer: "internal",
            dnsZone: "",
            databaseTier: "db-custom-1-3840",
        });
        assert.equal(devWith({}).gce, undefined);
    });

    it("refuses everything invalid for the gce runtime, in one error", () => {
        const problems = problemsOf({
            runtime: "gce",
            location: "europe",
            region: "europe-west99",
            zones: '["us-central1-a", "europe-west99-bb"]',
            replicas: 0,
            clientCidrs: '["10.0.0.1/8", "0.0.0.0", "corp"]',
            subnetCidr: "10.20.0.0/30",
            loadBalancer: "global",
            dnsZone: "Example.com.",
            machineType: "small",
            databaseTier: "f1-micro",
            kmsCredentials: "serviceAccountKey",
        }).join("\n");
        for (const expected of [
            /region "europe-west99" is not a Compute Engine region; did you mean "europe-west9"/,
            /zones entry "us-central1-a" is not a zone of region "europe-west99"/,
            /zones entry "europe-west99-bb" is not a zone/,
            /replicas "0" must be a whole number from 1 to 20/,
            /clientCidrs entry "10.0.0.1\/8" has host bits set; the range is 10.0.0.0\/8/,
            /clientCidrs entry "0.0.0.0" is not an IPv4 range in CIDR notation/,
            /clientCidrs entry "corp" is not an IPv4 range/,
            /subnetCidr "10.20.0.0\/30" is smaller than a \/29/,
            /loadBalancer "global" must be one of internal, external/,
            /dnsZone "Example.com." is not a Cloud DNS managed zone name/,
            /machineType "small" is not a Compute Engine machine type/,
            /databaseTier "f1-micro" is not a Cloud SQL tier/,
            /kmsCredentials "serviceAccountKey" does not apply to the gce runtime/,
        ]) {
            assert.match(problems, expected);
        }
    });

    it("requires a region when location is not one, and at least one client range", () => {
        const problems = problemsOf({ runtime: "gce", location: "europe" }).join("\n");
        assert.match(problems, /region is required: location "europe" is not a single region/);
        assert.match(problems, /clientCidrs is empty/);
    });

    it("refuses an A record for an IP-first dnsNames list", () => {
        const problems = problemsOf({
            runtime: "gce",
            location: "us-central1",
            clientCidrs: '["10.0.0.0/8"]',
            dnsZone: "corp-zone",
            dnsNames: '["10.1.2.3", "ca.corp"]',
        });
        assert.equal(problems.length, 1);
        assert.match(problems[0], /dnsNames\[0\] "10.1.2.3" is an IP address/);
    });

    it("refuses gce settings on the docker runtime and in local mode, naming each", () => {
        const [problem] = problemsOf({ replicas: 3, clientCidrs: '["10.0.0.0/8"]' });
        assert.match(problem, /stepca-cloudkms:replicas, stepca-cloudkms:clientCidrs belong to the gce runtime, but runtime is "docker"/);
        assert.match(problem, /`pulumi config rm replicas`, `pulumi config rm clientCidrs`/);
        const local = problemsOf({ mode: "local", kmsEndpoint: "127.0.0.1:8085", zones: '["us-central1-a"]' });
        assert.match(local.join("\n"), /zones belongs to the gce runtime, but mode is local/);
    });

    it("refuses kmsCredentials in local mode", () => {
        const local = { mode: "local", kmsEndpoint: "127.0.0.1:8085", kmsCredentials: "applicationDefault" };
        assert.match(problemsOf(local).join("\n"), /not used in local mode/);
    });

    it("accepts algorithm aliases in any case and returns the Cloud KMS name", () => {
        const config = devWith({ rootAlgorithm: "rsa-pss-3072", intermediateAlgorithm: "ec_p256" });
        assert.equal(config.kms.rootAlgorithm, "RSA_SIGN_PSS_3072_SHA256");
        assert.equal(config.kms.intermediateAlgorithm, "EC_SIGN_P256_SHA256");
        assert.equal(devWith({ rootAlgorithm: "rsa_sign_pkcs1_4096_sha512" }).kms.rootAlgorithm, "RSA_SIGN_PKCS1_4096_SHA512");
    });

    it("accepts images pinned by tag or digest, from any registry", () => {
        for (const image of [
            "smallstep/step-ca:0.30.2",
            "registry.example.com:5000/smallstep/step-ca:0.30.2",
            `smallstep/step-ca@sha256:${"a".repeat(64)}`,
        ]) {
            assert.equal(devWith({ image }).image, image);
        }
    });

    it("says whether a provisioner password is given, without copying it into the plain config", () => {
        const config = devWith({ provisionerPassword: "hunter2-hunter2" }, [PASSWORD_KEY]);
        assert.equal(config.provisionerPasswordGiven, true);
        assert.ok(!JSON.stringify(config).includes("hunter2"));
    });

    it("refuses a provisioner password set without --secret, without echoing it", () => {
        const problems = problemsOf({ provisionerPassword: "hunter2-hunter2" }, []);
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /provisionerPassword is set in plain text \(without --secret\)/);
        assert.match(problems[0], /pulumi config set --secret provisionerPassword …/);
        assert.ok(!problems[0].includes("hunter2"));
        // Another key being secret does not count for it.
        assert.equal(problemsOf({ provisionerPassword: "hunter2-hunter2" }, ["gcp:project"]).length, 1);
        // Unset (empty): nothing to refuse, a password is generated.
        assert.equal(devWith({}, []).provisionerPasswordGiven, false);
    });

    it("accepts every documented kind of Cloud KMS location", () => {
        for (const location of ["us-central1", "europe-west1", "asia-south2", "us", "europe", "asia", "nam4", "eur4", "asia1", "global"]) {
            assert.equal(devWith({ location }).kms.location, location);
        }
        for (const location of ALL_CLOUD_KMS_LOCATIONS) {
            assert.equal(devWith({ location }).kms.location, location);
        }
    });

    it("keeps the location list in one place, lowercase and without duplicates", () => {
        const all = Object.values(CLOUD_KMS_LOCATIONS).flat();
        assert.equal(new Set(all).size, all.length);
        assert.equal(ALL_CLOUD_KMS_LOCATIONS.size, all.length);
        for (const location of all) {
            assert.match(location, /^[a-z][a-z0-9-]*[a-z0-9]$/);
        }
    });

    // Each bad input, the key it names, and words of its fix.
    const cases: [string, Record<string, unknown>, RegExp][] = [
        ["unknown algorithm", { rootAlgorithm: "EC_SIGN_P521_SHA512" }, /rootAlgorithm "EC_SIGN_P521_SHA512" is not a supported signing algorithm.*EC_SIGN_P384_SHA384 \(EC-P384\)/],
        ["secp256k1 (step-ca cannot use it)", { intermediateAlgorithm: "EC_SIGN_SECP256K1_SHA256" }, /intermediateAlgorithm .* not a supported/],
        ["intermediate outliving the root", { rootValidityDays: 365, intermediateValidityDays: 730 }, /intermediateValidityDays \(730\) must be shorter than .*rootValidityDays \(365\).*outlive/],
        ["intermediate as long as the root", { rootValidityDays: 365, intermediateValidityDays: 365 }, /must be shorter than/],
        ["renewal window covering the whole lifetime", { intermediateValidityDays: 30, renewBeforeDays: 30 }, /renewBeforeDays \(30\) must be shorter .*every `pulumi up` would\s+re-mint/],
        ["empty dnsNames", { dnsNames: [] }, /dnsNames is empty.*pulumi config set --path 'dnsNames\[0\]'/],
        ["dnsNames left at its declared default (empty)", { dnsNames: undefined }, /dnsNames is empty.*pulumi config set --path 'dnsNames\[0\]'/],
        ["dnsNames given as a string", { dnsNames: "ca.example.com" }, /dnsNames must be a list/],
        ["a URL in dnsNames", { dnsNames: ["https://ca.example.com"] }, /"https:\/\/ca.example.com" is not a DNS name or IP address \(a bare host name/],
        ["duplicate dnsNames", { dnsNames: ["a.example.com", "a.example.com"] }, /more than once/],
        ["bad location", { location: "US Central" }, /location "US Central" is not a Cloud KMS location/],
        ["a location that does not exist", { location: "mars" }, /location "mars" is not a Cloud KMS location\. Use a region \("us-central1"\), a multi-region .*"global".*kms\/docs\/locations.*pulumi config set location us-central1/],
        ["a location with a typo", { location: "us-cental1" }, /location "us-cental1" is not a Cloud KMS location; did you mean "us-central1"\?.*pulumi config set location us-central1/],
        ["a location in capitals", { location: "EUROPE-WEST1" }, /did you mean "europe-west1"\?/],
        ["a made-up region group", { location: "nam99" }, /location "nam99" is not a Cloud KMS location/],
        ["a zone as location", { location: "us-central1-a" }, /looks like a zone.*"us-central1".*pulumi config set location us-central1/],
        ["duration without unit", { destroyScheduledDuration: "86400" }, /destroyScheduledDuration "86400" is not a duration in seconds.*"86400s"/],
        ["duration in days", { destroyScheduledDuration: "30d" }, /"30d" is not a duration/],
        ["duration under a day", { destroyScheduledDuration: "3600s" }, /"3600s" is outside .* 86400s \(1 day\) to 10368000s \(120 days\)/],
        ["duration over 120 days", { destroyScheduledDuration: "10368001s" }, /outside/],
        ["port 0", { port: 0 }, /port "0" must be a whole number from 1 to 65535/],
        ["port 65536", { port: 65536 }, /port "65536" must be a whole number from 1 to 65535/],
        ["port not a number", { port: "https" }, /port "https" must be a whole number/],
        ["protection level", { protectionLevel: "EXTERNAL" }, /protectionLevel "EXTERNAL" must be one of SOFTWARE, HSM/],
        ["mode", { mode: "aws" }, /mode "aws" must be one of gcp, local/],
        ["boolean", { separateKeyRings: "yes" }, /separateKeyRings "yes" is not a boolean/],
        ["key ring prefix", { keyRingPrefix: "step ca!" }, /keyRingPrefix "step ca!" must be 1-40 letters/],
        ["too long key ring prefix", { keyRingPrefix: "x".repeat(41) }, /keyRingPrefix/],
        ["root and intermediate with one name", { rootCommonName: "Same CA", intermediateCommonName: "Same CA" }, /both "Same CA".*looks self-signed/],
        ["empty common name", { rootCommonName: " " }, /rootCommonName must be 1-64 characters/],
        ["organization too long", { organization: "o".repeat(65) }, /organization is 65 characters/],
        ["validity of zero days", { intermediateValidityDays: 0 }, /intermediateValidityDays "0" must be a whole number from 1/],
        ["negative renewal", { renewBeforeDays: -1 }, /renewBeforeDays "-1" must be a whole number from 0/],
        ["empty provisioner name", { provisionerName: "" }, /provisionerName is empty/],
        ["a short provisioner password, without echoing it", { provisionerPassword: "hunter2" }, /provisionerPassword is shorter than 12 characters(?!.*hunter2).*pulumi config set --secret provisionerPassword/],
        ["a provisioner password with surrounding whitespace, which the step CLI would trim", { provisionerPassword: " long-enough-password\n" }, /provisionerPassword starts or ends with whitespace, which the step CLI strips.*invalid password.*pulumi config set --secret provisionerPassword/],
        ["unpinned image", { image: "smallstep/step-ca" }, /not a pinned image reference.*smallstep\/step-ca:0.30.2/],
        ["latest image", { image: "smallstep/step-ca:latest" }, /moving "latest" tag/],
        ["kmsEndpoint in gcp mode", { kmsEndpoint: "127.0.0.1:8085" }, /kmsEndpoint is set but mode is "gcp".*pulumi config rm kmsEndpoint/],
        ["no gcp:project in gcp mode", { "gcp:project": undefined }, /gcp:project is required in gcp mode.*pulumi config set gcp:project/],
        ["a project name instead of its ID", { "gcp:project": "My Project" }, /gcp:project "My Project" is not a GCP project ID/],
        ["misspelt setting", { rootAlgorthm: "EC-P256" }, /rootAlgorthm is not a setting of this program; did you mean rootAlgorithm\?.*pulumi config rm rootAlgorthm/],
    ];
    for (const [what, overrides, expected] of cases) {
        it(`rejects ${what}, saying how to fix it`, () => {
            const problems = problemsOf(overrides);
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], expected);
        });
    }

    it("in local mode, requires a valid kmsEndpoint and a bundle directory", () => {
        const local = (overrides: Record<string, unknown>) => {
            try {
                validateConfig(P, stackConfig("local", overrides));
            } catch (e) {
                return (e as ConfigError).problems;
            }
            return [];
        };
        assert.match(local({ [`${P}:kmsEndpoint`]: undefined }).join(), /kmsEndpoint is required in local mode/);
        assert.match(local({ [`${P}:kmsEndpoint`]: "localhost" }).join(), /"localhost" is not host:port/);
        assert.match(local({ [`${P}:localBundleDir`]: "" }).join(), /localBundleDir is empty/);
        assert.deepEqual(local({}), []);
    });

    it("local mode's docker flavour: proxy port and credentials directory, refused elsewhere", () => {
        const local = (overrides: Record<string, unknown>) => {
            const namespaced = Object.fromEntries(Object.entries(overrides).map(([k, v]) => [`${P}:${k}`, v]));
            try {
                return { config: validateConfig(P, stackConfig("local", namespaced)), problems: [] as readonly string[] };
            } catch (e) {
                return { config: undefined, problems: (e as ConfigError).problems };
            }
        };
        assert.equal(local({}).config?.localDocker, undefined, "the bundle by default");
        assert.deepEqual(local({ localRuntime: "docker" }).config?.localDocker, {
            kmsProxyPort: 8086,
            kmsCredentialsDir: ".local/kms-credentials",
        });
        assert.deepEqual(local({ localRuntime: "docker", localKmsProxyPort: "9100", localKmsCredentialsDir: "/tmp/c" }).config?.localDocker, {
            kmsProxyPort: 9100,
            kmsCredentialsDir: "/tmp/c",
        });
        assert.match(local({ localRuntime: "podman" }).problems.join(), /localRuntime/);
        assert.match(local({ localRuntime: "docker", localKmsProxyPort: "9000" }).problems.join(), /both 9000/);
        assert.match(local({ localRuntime: "docker", localKmsCredentialsDir: " " }).problems.join(), /localKmsCredentialsDir is empty/);
        assert.match(
            local({ localKmsProxyPort: "9100" }).problems.join(),
            /localKmsProxyPort belongs to the local stack's docker flavour .* but localRuntime is "bundle"/,
        );
        assert.match(problemsOf({ localRuntime: "docker" }).join(), /localRuntime belongs to .* but mode is gcp/);
    });

    it("in local mode, refuses an IPv6 address as the first DNS name (step-ca listens on 127.0.0.1 there)", () => {
        const ipv6First = { [`${P}:dnsNames`]: '["::1","localhost"]' };
        assert.throws(() => validateConfig(P, stackConfig("local", ipv6First)), (e: ConfigError) => {
            assert.equal(e.problems.length, 1, e.problems.join("\n"));
            assert.match(e.problems[0], /dnsNames\[0\] "::1" is an IPv6 address, but in local mode step-ca listens on 127\.0\.0\.1.*'dnsNames\[0\]' localhost/);
            return true;
        });
        assert.ok(validateConfig(P, stackConfig("local", { [`${P}:dnsNames`]: '["localhost","::1"]' })), "later IPv6 names are fine");
        assert.deepEqual(devWith({ dnsNames: ["2001:db8::1"] }).dnsNames, ["2001:db8::1"], "gcp mode listens on every interface");
    });

    it("in local mode, asks the bundle-directory check about localBundleDir and lists its problem", () => {
        const asked: string[] = [];
        const check = (dir: string) => {
            asked.push(dir);
            return "is someone else's.";
        };
        assert.throws(
            () => validateConfig(P, stackConfig("local"), [], { bundleDirProblem: check }),
            (e: ConfigError) => e.problems.length === 1 && e.problems[0] === `${P}:localBundleDir is someone else's.`,
        );
        assert.deepEqual(asked, [".local/bundle"]);
        validateConfig(P, stackConfig("dev"), [PASSWORD_KEY], { bundleDirProblem: check });
        assert.equal(asked.length, 1, "not asked in gcp mode");
    });

    it("reports every problem in one error, each with a fix", () => {
        let error: unknown;
        try {
            devWith({ rootAlgorithm: "nope", port: 70000, dnsNames: [], location: "Mars", destroyScheduledDuration: "1d" });
        } catch (e) {
            error = e;
        }
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 5);
        assert.match(error.message, /^Invalid stack configuration \(5 problems\):\n {2}- /);
        for (const problem of error.problems) {
            assert.ok(error.message.includes(problem));
            assert.match(problem, /pulumi config (set|rm)|Use |Lower |Give /, `no fix in: ${problem}`);
        }
    });
});

describe("secretConfigKeys", () => {
    it("returns the keys the SDK was told are secret, as the language host tells it", () => {
        const saved = pulumi.runtime.allConfig();
        try {
            pulumi.runtime.setAllConfig({ [PASSWORD_KEY]: "x".repeat(16), "gcp:project": "my-project" }, [PASSWORD_KEY]);
            assert.deepEqual(secretConfigKeys(["gcp:project", PASSWORD_KEY]), [PASSWORD_KEY]);
            pulumi.runtime.setAllConfig({ [PASSWORD_KEY]: "x".repeat(16) }, []);
            assert.deepEqual(secretConfigKeys([PASSWORD_KEY]), []);
        } finally {
            pulumi.runtime.setAllConfig(saved, []);
        }
    });
});

describe("values the program derives from config", () => {
    it("subjectOf: CN, and O only when an organization is set", () => {
        assert.deepEqual(subjectOf({ commonName: "Root", organization: "Acme", validityDays: 1 }), {
            commonName: "Root",
            organization: "Acme",
        });
        assert.deepEqual(subjectOf({ commonName: "Root", organization: "", validityDays: 1 }), { commonName: "Root" });
    });

    it("listenAddress: loopback in local mode, every interface in the container", () => {
        assert.equal(listenAddress("local", 9000), "127.0.0.1:9000");
        assert.equal(listenAddress("gcp", 443), ":443");
    });
});

describe("README", () => {
    const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");

    it("documents every setting, with its default, in the configuration reference", () => {
        for (const [name, spec] of Object.entries(SETTINGS)) {
            const row = readme.split("\n").find((line) => line.startsWith(`| \`${name}\` |`));
            assert.ok(row, `no row for ${name}`);
            if ("default" in spec && spec.default !== "") {
                const shown = typeof spec.default === "object" ? JSON.stringify(spec.default) : String(spec.default);
                assert.ok(row.includes(`\`${shown}\``), `${name}'s default is not ${shown} in the README`);
            }
        }
    });

    it("gives npm test as the test command", () => {
        assert.match(readme, /```sh\nnpm test\n```/);
    });
});
