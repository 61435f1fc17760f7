import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as yaml from "js-yaml";
import type { CaConfig } from "../../../lib/config/config";
import { HEALTH_CHECK_RANGES, probeSourceRanges } from "../../../lib/gce/load-balancing";
import { CLOUD_SQL_PROXY_IMAGE, renderCloudConfig } from "../../../lib/gce/vm-boot";
import { stepCaCommand } from "../../../lib/step-ca/container";
import { DYNAMIC, MockedResource, StackRun, ofType, one } from "./mocked-stack";
import { occursAnywhere, plainOccurrences } from "./secrets";

const C = {
    stepCa: "stepca:index:StepCa",
    account: "stepca:iam:CaServiceAccount",
    network: "stepca:gce:CaNetwork",
    database: "stepca:gce:CaDatabase",
    replicas: "stepca:gce:StepCaReplicas",
    secret: "stepca:gce:CaSecret",
    group: "stepca:gce:StepCaInstanceGroup",
    lb: "stepca:gce:PassthroughLoadBalancer",
};
const R = {
    vpc: "gcp:compute/network:Network",
    subnet: "gcp:compute/subnetwork:Subnetwork",
    router: "gcp:compute/router:Router",
    nat: "gcp:compute/routerNat:RouterNat",
    psaRange: "gcp:compute/globalAddress:GlobalAddress",
    psa: "gcp:servicenetworking/connection:Connection",
    firewall: "gcp:compute/firewall:Firewall",
    address: "gcp:compute/address:Address",
    sql: "gcp:sql/databaseInstance:DatabaseInstance",
    sqlDatabase: "gcp:sql/database:Database",
    sqlUser: "gcp:sql/user:User",
    password: "random:index/randomPassword:RandomPassword",
    projectIam: "gcp:projects/iAMMember:IAMMember",
    secret: "gcp:secretmanager/secret:Secret",
    secretVersion: "gcp:secretmanager/secretVersion:SecretVersion",
    secretIam: "gcp:secretmanager/secretIamMember:SecretIamMember",
    template: "gcp:compute/instanceTemplate:InstanceTemplate",
    healthCheck: "gcp:compute/regionHealthCheck:RegionHealthCheck",
    mig: "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
    backend: "gcp:compute/regionBackendService:RegionBackendService",
    forwardingRule: "gcp:compute/forwardingRule:ForwardingRule",
    dns: "gcp:dns/recordSet:RecordSet",
    saKey: "gcp:serviceaccount/key:Key",
    kmsIam: "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
};

/** IAM-like resource types the gce runtime adds, besides the KMS grants. */
export const GCE_TYPES = { iam: [R.projectIam, R.secretIam] };

/** The gce runtime's resources: type → [count, parent type], for the exact-resources check. */
export function gceResources(config: CaConfig): Record<string, [number, string | string[]]> {
    return {
        [C.network]: [1, C.stepCa],
        [R.vpc]: [1, C.network],
        [R.subnet]: [1, C.network],
        [R.router]: [1, C.network],
        [R.nat]: [1, C.network],
        [R.psaRange]: [1, C.network],
        [R.psa]: [1, C.network],
        [R.firewall]: [2, C.network],
        [R.address]: [1, C.network],
        [C.database]: [1, C.stepCa],
        [R.sql]: [1, C.database],
        [R.sqlDatabase]: [1, C.database],
        [R.sqlUser]: [1, C.database],
        [R.password]: [1, C.database],
        [R.projectIam]: [2, [C.database, C.group]],
        [C.replicas]: [1, C.stepCa],
        [C.secret]: [3, C.replicas],
        [R.secret]: [3, C.secret],
        [R.secretVersion]: [3, C.secret],
        [R.secretIam]: [3, C.secret],
        [C.group]: [1, C.replicas],
        [R.template]: [1, C.group],
        [R.healthCheck]: [2, [C.group, C.lb]], // autohealing, and the load balancer's
        [R.mig]: [1, C.group],
        [C.lb]: [1, C.replicas],
        [R.backend]: [1, C.lb],
        [R.forwardingRule]: [1, C.lb],
        ...(config.gce?.dnsZone ? { [R.dns]: [1, C.lb] as [number, string] } : {}),
    };
}

/**
 * The gce runtime's assertions under mocks: network edge, database, secrets, IAM, VMs, load balancer, and that
 * nothing secret reaches a plain input, the instance template or the VMs' boot config.
 */
export function describeGceRuntime(getRun: () => StackRun, config: CaConfig) {
    const gce = config.gce!;
    const run = () => getRun();
    const email = () => one(run(), "gcp:serviceaccount/account:Account").state.email as string;
    const member = () => `serviceAccount:${email()}`;
    const template = () => one(run(), R.template);
    const mig = () => one(run(), R.mig);
    const caJson = () => JSON.parse(one(run(), DYNAMIC("StepCaConfig")).state.caJson);
    const address = () => one(run(), R.address);
    const cloudConfig = () => {
        const text = template().inputs.metadata["user-data"] as string;
        assert.ok(text.startsWith("#cloud-config\n"));
        return yaml.load(text) as { write_files: { path: string; content: string; permissions: string }[]; runcmd: string[][] };
    };
    const file = (path: string) => {
        const found = cloudConfig().write_files.find((f) => f.path === path);
        assert.ok(found, `cloud-config writes no ${path}`);
        return found.content;
    };
    /** Every secret of the stack: the passwords, and the OIDC client secrets that ca.json carries. */
    const secrets = (): [string, string][] => {
        const r = run();
        const clientSecrets = (one(r, DYNAMIC("StepCaConfig")).inputs.clientSecrets ?? {}) as Record<string, string>;
        return [
            ["provisioner password", r.outputs.provisionerPassword as string],
            ["database password", one(r, R.password).state.result as string],
            ...Object.entries(clientSecrets).map(([p, s]): [string, string] => [`client secret of ${p}`, s]),
        ];
    };
    const version = (suffix: string) => {
        const found = ofType(run(), R.secretVersion).filter((v) => v.name.endsWith(`-${suffix}`));
        assert.equal(found.length, 1, `one secret version ${suffix}`);
        return found[0];
    };

    describe("parents of resources in the gce runtime", () => {
        it("put the project grants under the database (cloudsql.client) and the group (logging)", () => {
            const grants = ofType(run(), R.projectIam);
            assert.deepEqual(grants.map((g) => `${g.parentType} ${g.inputs.role}`).sort(), [
                `${C.database} roles/cloudsql.client`,
                `${C.group} roles/logging.logWriter`,
            ]);
            const checks = ofType(run(), R.healthCheck).map((h) => h.parentType).sort();
            assert.deepEqual(checks, [C.lb, C.group].sort());
        });
    });

    describe("keyless", () => {
        it("creates no service-account key and renders ca.json's kms without a credentials file", () => {
            assert.deepEqual(ofType(run(), R.saKey), []);
            assert.deepEqual(caJson().kms, { type: "cloudkms" });
        });
    });

    describe("network", () => {
        it("is a custom-mode VPC with one subnet with Private Google Access, and Cloud NAT for image pulls", () => {
            assert.equal(one(run(), R.vpc).inputs.autoCreateSubnetworks, false);
            const subnet = one(run(), R.subnet).inputs;
            assert.equal(subnet.ipCidrRange, gce.subnetCidr);
            assert.equal(subnet.region, gce.region);
            assert.equal(subnet.privateIpGoogleAccess, true);
            const nat = one(run(), R.nat).inputs;
            assert.equal(nat.sourceSubnetworkIpRangesToNat, "ALL_SUBNETWORKS_ALL_IP_RANGES");
            assert.equal(nat.router, one(run(), R.router).state.name);
        });

        it("lets only health-check probes and the client ranges reach the CA port", () => {
            const rules = ofType(run(), R.firewall).map((f) => f.inputs);
            const byRanges = Object.fromEntries(rules.map((r) => [r.sourceRanges.join(","), r]));
            assert.deepEqual(Object.keys(byRanges).sort(), [probeSourceRanges(gce.loadBalancer).join(","), gce.clientCidrs.join(",")].sort());
            for (const range of HEALTH_CHECK_RANGES.internal) {
                assert.ok(probeSourceRanges(gce.loadBalancer).includes(range), range);
            }
            for (const rule of rules) {
                assert.equal(rule.direction, "INGRESS");
                assert.deepEqual(rule.allows, [{ protocol: "tcp", ports: [String(config.port)] }]);
                assert.deepEqual(rule.targetTags, ["step-ca"]);
                assert.ok(!rule.sourceRanges.includes("0.0.0.0/0"));
            }
            assert.deepEqual(template().inputs.tags, ["step-ca"]);
        });

        it(`reserves a static ${gce.loadBalancer} address for the load balancer and names it in the CA's certificate`, () => {
            const a = address().inputs;
            assert.equal(a.addressType, gce.loadBalancer === "internal" ? "INTERNAL" : "EXTERNAL");
            if (gce.loadBalancer === "internal") {
                assert.equal(a.subnetwork, one(run(), R.subnet).state.__id ?? `${one(run(), R.subnet).urn}`.replace(/.*/, a.subnetwork));
            }
            assert.deepEqual(caJson().dnsNames, [...config.dnsNames, address().state.address]);
            assert.equal(run().outputs.address, address().state.address);
        });
    });

    describe("Cloud SQL", () => {
        it("is a regional PostgreSQL instance with a private IP only, after the private services peering", () => {
            const sql = one(run(), R.sql);
            assert.match(sql.inputs.databaseVersion, /^POSTGRES_\d+$/);
            assert.equal(sql.inputs.region, gce.region);
            assert.equal(sql.inputs.settings.tier, gce.databaseTier);
            assert.equal(sql.inputs.settings.availabilityType, "REGIONAL");
            assert.equal(sql.inputs.settings.ipConfiguration.ipv4Enabled, false);
            assert.equal(sql.inputs.settings.ipConfiguration.sslMode, "ENCRYPTED_ONLY");
            assert.equal(sql.inputs.settings.backupConfiguration.pointInTimeRecoveryEnabled, true);
            assert.ok(sql.request.dependencies.includes(one(run(), R.psa).urn));
        });

        it("is step-ca's db: postgresql through the Auth Proxy on loopback, no password in ca.json", () => {
            const user = one(run(), R.sqlUser).inputs;
            assert.equal(user.type, "BUILT_IN");
            assert.equal(user.password, one(run(), R.password).state.result);
            assert.deepEqual(caJson().db, {
                type: "postgresql",
                dataSource: `postgresql://${user.name}@127.0.0.1:5432/?sslmode=disable`,
                database: one(run(), R.sqlDatabase).inputs.name,
            });
        });
    });

    describe("secrets", () => {
        it("live in Secret Manager, one secret each (ca.json too), readable by the CA's service account alone", () => {
            const versions = ofType(run(), R.secretVersion);
            const values = versions.map((v) => v.inputs.secretData).sort();
            const [, password] = secrets()[0];
            const [, dbPassword] = secrets()[1];
            const caJson = one(run(), DYNAMIC("StepCaConfig")).state.caJson as string;
            assert.deepEqual(values, [password, `127.0.0.1:5432:*:step-ca:${dbPassword}\n`, caJson].sort());
            assert.equal(version("ca-json").inputs.secretData, caJson);
            for (const v of versions) {
                assert.deepEqual(plainOccurrences(v.request.rawInputs, v.inputs.secretData), [], "secretData is secret");
            }
            const grants = ofType(run(), R.secretIam);
            assert.deepEqual(grants.map((g) => [g.inputs.role, g.inputs.member]), [
                ["roles/secretmanager.secretAccessor", member()],
                ["roles/secretmanager.secretAccessor", member()],
                ["roles/secretmanager.secretAccessor", member()],
            ]);
            assert.deepEqual(
                grants.map((g) => g.inputs.secretId).sort(),
                ofType(run(), R.secret).map((s) => s.inputs.secretId).sort(),
            );
        });

        it("appear in no plain input, and not at all in the instance template, metadata or boot script", () => {
            const delivered = ofType(run(), R.secretVersion).map((v) => v.request.rawInputs);
            for (const [what, secret] of secrets()) {
                assert.ok(secret.length >= 12, what);
                assert.ok(delivered.some((inputs) => occursAnywhere(inputs, secret)), `Secret Manager delivers the ${what}`);
                assert.ok(!occursAnywhere(template().request.rawInputs, secret), `the template carries the ${what}`);
                for (const r of run().resources) {
                    assert.deepEqual(plainOccurrences(r.request.rawInputs, secret), [], `${r.type} ${r.name}: ${what}`);
                }
            }
        });

        it("are fetched at boot by version name into tmpfs, with the metadata server's token", () => {
            const script = file("/var/lib/step-ca/fetch-secrets.sh");
            for (const version of ofType(run(), R.secretVersion)) {
                assert.ok(script.includes(version.state.name), version.state.name);
            }
            assert.match(script, /\/run\/step-ca\/secrets/);
            assert.ok(script.includes(`fetch '${version("ca-json").state.name}' 'ca.json'`));
            assert.match(script, /computeMetadata\/v1"/);
            assert.match(script, /\$metadata\/instance\/service-accounts\/default\/token/);
        });
    });

    describe("IAM", () => {
        it("grants the CA's service account exactly: sign + public key on the intermediate key, the three secrets, its database, logging", () => {
            const kms = ofType(run(), R.kmsIam).map((g) => g.inputs.role).sort();
            assert.deepEqual(kms, ["roles/cloudkms.publicKeyViewer", "roles/cloudkms.signer"]);
            const project = ofType(run(), R.projectIam);
            for (const grant of [...project, ...ofType(run(), R.secretIam), ...ofType(run(), R.kmsIam)]) {
                assert.equal(grant.inputs.member, member());
            }
            const client = project.find((g) => g.inputs.role === "roles/cloudsql.client")!;
            const instance = one(run(), R.sql).state.name;
            assert.equal(client.inputs.condition.expression, `resource.name == "projects/${config.project}/instances/${instance}"`);
        });

        it("VMs boot only once every grant exists", () => {
            const deps = mig().request.dependencies;
            for (const grant of [...ofType(run(), R.kmsIam), ...ofType(run(), R.projectIam)]) {
                assert.ok(deps.includes(grant.urn), `the group does not wait for ${grant.name}`);
            }
            // Secret grants reach the group through the version names in its template.
            for (const grant of ofType(run(), R.secretIam)) {
                assert.ok(template().request.dependencies.includes(grant.urn), grant.name);
            }
        });
    });

    describe("VMs", () => {
        it("are Container-Optimized OS, run as the CA's service account, with no external IP and Shielded VM", () => {
            const t = template().inputs;
            assert.match(t.disks[0].sourceImage, /^projects\/cos-cloud\/global\/images\/family\/cos-/);
            assert.equal(t.machineType, gce.machineType);
            assert.deepEqual(t.serviceAccount, { email: email(), scopes: ["cloud-platform"] });
            assert.equal(t.networkInterfaces.length, 1);
            assert.equal(t.networkInterfaces[0].accessConfigs, undefined, "no external IP");
            assert.equal(t.metadata["block-project-ssh-keys"], "true");
            assert.equal(t.shieldedInstanceConfig.enableSecureBoot, true);
        });

        it("boot from a cloud-config with the public files, no ca.json, and the same step-ca container the docker runtime runs", () => {
            const stepCaConfig = one(run(), DYNAMIC("StepCaConfig")).state;
            assert.deepEqual(cloudConfig().write_files.filter((f) => f.path.endsWith("ca.json")), []);
            const userData = template().inputs.metadata["user-data"] as string;
            const ca = JSON.parse(stepCaConfig.caJson);
            const jwks = ca.authority.provisioners.filter((p: { type: string }) => p.type === "JWK");
            assert.ok(jwks.length > 0);
            for (const part of [ca.key, ca.db.dataSource, ...jwks.map((p: { encryptedKey: string }) => p.encryptedKey)]) {
                assert.ok(typeof part === "string" && part.length > 20 && !userData.includes(part), `the cloud-config holds ca.json's ${part}`);
            }
            assert.equal(file("/var/lib/step-ca/home/config/defaults.json"), stepCaConfig.defaultsJson);
            assert.equal(file("/var/lib/step-ca/home/certs/root_ca.crt"), one(run(), DYNAMIC("RootCertificate")).state.certPem);
            const intermediate = one(run(), DYNAMIC("IntermediateCertificate")).state.certPem;
            assert.equal(file("/var/lib/step-ca/home/certs/intermediate_ca.crt"), intermediate);
            const unit = file("/etc/systemd/system/step-ca.service");
            const execStart = unit.split("\n").find((l) => l.startsWith("ExecStart="))!;
            assert.ok(execStart.includes(` ${config.image} ${stepCaCommand().join(" ")}`), execStart);
            assert.ok(execStart.includes(" --volume=/run/step-ca/secrets/ca.json:/home/step/config/ca.json:ro "), execStart);
            const proxy = file("/etc/systemd/system/cloud-sql-proxy.service");
            assert.ok(proxy.includes(CLOUD_SQL_PROXY_IMAGE));
            assert.ok(proxy.includes(one(run(), R.sql).state.connectionName));
            assert.ok(proxy.includes("--address=127.0.0.1"));
        });

        it("carry a cloud-config equal to the pure renderer's for these inputs", () => {
            const stepCaConfig = one(run(), DYNAMIC("StepCaConfig")).state;
            const expected = renderCloudConfig({
                image: config.image,
                port: config.port,
                dnsNames: config.dnsNames,
                defaultsJson: stepCaConfig.defaultsJson,
                rootCertPem: one(run(), DYNAMIC("RootCertificate")).state.certPem,
                intermediateCertPem: one(run(), DYNAMIC("IntermediateCertificate")).state.certPem,
                secrets: {
                    password: version("password").state.name,
                    pgpass: version("pgpass").state.name,
                    caJson: version("ca-json").state.name,
                },
                cloudSqlInstance: one(run(), R.sql).state.connectionName,
            });
            assert.equal(template().inputs.metadata["user-data"], expected);
        });

        it(`are ${gce.replicas} replicas of a regional group over ${gce.zones.join(", ") || "Compute Engine's zones"}, autohealed on /health`, () => {
            const m = mig().inputs;
            assert.equal(m.region, gce.region);
            assert.equal(m.targetSize, gce.replicas);
            assert.deepEqual(m.distributionPolicyZones, gce.zones.length ? gce.zones : undefined);
            assert.equal(m.distributionPolicyTargetShape, "EVEN");
            assert.deepEqual(m.versions, [{ name: "step-ca", instanceTemplate: template().state.selfLinkUnique }]);
            assert.deepEqual(m.namedPorts, [{ name: "step-ca", port: config.port }]);
            const autohealing = ofType(run(), R.healthCheck).find((h) => h.parentType === C.group)!;
            assert.equal(m.autoHealingPolicies.healthCheck, autohealing.state.__id ?? m.autoHealingPolicies.healthCheck);
            assert.ok(m.autoHealingPolicies.initialDelaySec >= 120);
            assert.deepEqual(autohealing.inputs.httpsHealthCheck, { port: config.port, requestPath: "/health" });
        });

        it("roll out a new template (new intermediate or config) without dropping below capacity", () => {
            const policy = mig().inputs.updatePolicy;
            assert.equal(policy.type, "PROACTIVE");
            assert.equal(policy.minimalAction, "REPLACE");
            assert.equal(policy.maxUnavailableFixed, 0);
            assert.ok(policy.maxSurgeFixed >= Math.max(1, gce.zones.length), `maxSurge ${policy.maxSurgeFixed}`);
            // The intermediate and config are in the template, so either change yields a new template, created
            // (under a new name from the prefix) before the old one is deleted.
            assert.ok(template().inputs.namePrefix && !template().inputs.name);
            assert.equal(template().request.deleteBeforeReplace, false);
        });
    });

    describe("load balancer", () => {
        const scheme = gce.loadBalancer === "internal" ? "INTERNAL" : "EXTERNAL";
        it(`is a ${scheme} TCP passthrough balancer on the reserved address and the CA port`, () => {
            const backend = one(run(), R.backend).inputs;
            assert.equal(backend.loadBalancingScheme, scheme);
            assert.equal(backend.protocol, "TCP");
            assert.deepEqual(backend.backends, [{ group: mig().state.instanceGroup, balancingMode: "CONNECTION" }]);
            const rule = one(run(), R.forwardingRule).inputs;
            assert.equal(rule.loadBalancingScheme, scheme);
            assert.equal(rule.ipProtocol, "TCP");
            assert.deepEqual(rule.ports, [String(config.port)]);
            assert.equal(rule.ipAddress, address().state.__id ?? rule.ipAddress);
            assert.equal(rule.backendService, one(run(), R.backend).state.__id ?? rule.backendService);
        });

        it("checks replicas over HTTPS on /health", () => {
            const check = ofType(run(), R.healthCheck).find((h) => h.parentType === C.lb)!;
            assert.deepEqual(check.inputs.httpsHealthCheck, { port: config.port, requestPath: "/health" });
            assert.deepEqual(one(run(), R.backend).inputs.healthChecks, check.state.__id ?? one(run(), R.backend).inputs.healthChecks);
        });

        if (gce.dnsZone) {
            it(`points ${config.dnsNames[0]} at the address in Cloud DNS zone ${gce.dnsZone}`, () => {
                assert.deepEqual(one(run(), R.dns).inputs, {
                    project: config.project,
                    managedZone: gce.dnsZone,
                    name: `${config.dnsNames[0]}.`,
                    type: "A",
                    ttl: 300,
                    rrdatas: [address().state.address],
                });
            });
        }
    });

    describe("stack outputs", () => {
        it("are the CA URL, address, fingerprint, PEMs, key versions, account, bootstrap line and password", () => {
            assert.deepEqual(Object.keys(run().outputs).sort(), [
                "address",
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
            assert.deepEqual([...run().secretOutputs].sort(), ["provisionerPassword", "provisionerPasswords"]);
        });
    });
}

export type { MockedResource };
