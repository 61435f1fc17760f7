import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as yaml from "js-yaml";
import { cidrProblem, isZoneOf, networkAddress, parseIpv4Cidr } from "../../lib/config/network-values";
import { caFirewallRules, probeSourceRanges, rollingUpdatePolicy } from "../../lib/gce/load-balancing";
import { type VmBootSpec, fetchSecretsScript, renderCloudConfig, stepCaDockerRun } from "../../lib/gce/vm-boot";

const VERSION = "projects/123456789012/secrets/step-ca-1a2b3c4d-password/versions/3";

describe("network values", () => {
    it("parse IPv4 CIDR ranges and find their network address", () => {
        assert.deepEqual(parseIpv4Cidr("10.0.0.0/8"), { address: "10.0.0.0", prefixLength: 8 });
        assert.equal(parseIpv4Cidr("10.0.0.0/33"), undefined);
        assert.equal(parseIpv4Cidr("10.0.0/8"), undefined);
        assert.equal(parseIpv4Cidr("::/0"), undefined);
        assert.equal(networkAddress({ address: "192.168.77.200", prefixLength: 20 }), "192.168.64.0");
        assert.equal(networkAddress({ address: "203.0.113.7", prefixLength: 32 }), "203.0.113.7");
        assert.equal(cidrProblem("0.0.0.0/0"), undefined);
        assert.match(cidrProblem("172.16.5.1/12")!, /host bits set; the range is 172.16.0.0\/12/);
    });

    it("tell a region's zones", () => {
        assert.ok(isZoneOf("europe-west1-b", "europe-west1"));
        assert.ok(!isZoneOf("europe-west10-a", "europe-west1"));
        assert.ok(!isZoneOf("europe-west1", "europe-west1"));
    });
});

describe("gce load balancing", () => {
    it("lets probes in from the ranges of the balancer in use and of autohealing, and clients to the CA port only", () => {
        assert.deepEqual(probeSourceRanges("internal"), ["130.211.0.0/22", "35.191.0.0/16"]);
        assert.deepEqual(probeSourceRanges("external"), ["130.211.0.0/22", "209.85.152.0/22", "209.85.204.0/22", "35.191.0.0/16"]);
        const rules = caFirewallRules({ port: 443, clientCidrs: ["10.0.0.0/8", "10.0.0.0/8"], loadBalancer: "internal" });
        assert.deepEqual(rules.map((r) => [r.purpose, r.sourceRanges, r.port]), [
            ["health-checks", ["130.211.0.0/22", "35.191.0.0/16"], 443],
            ["clients", ["10.0.0.0/8"], 443],
        ]);
    });

    it("rolls out with no unavailable instance and a surge of one VM per zone", () => {
        assert.deepEqual(rollingUpdatePolicy(2), {
            type: "PROACTIVE",
            minimalAction: "REPLACE",
            replacementMethod: "SUBSTITUTE",
            maxSurgeFixed: 2,
            maxUnavailableFixed: 0,
        });
        assert.equal(rollingUpdatePolicy(0).maxSurgeFixed, 3, "Compute Engine's three zones when none are given");
    });
});

describe("gce VM boot", () => {
    const spec: VmBootSpec = {
        image: "smallstep/step-ca:0.30.2",
        port: 443,
        dnsNames: ["ca.example.com", "10.20.0.10"],
        defaultsJson: "{}\n",
        rootCertPem: "-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n",
        intermediateCertPem: "-----BEGIN CERTIFICATE-----\nint\n-----END CERTIFICATE-----\n",
        secrets: { password: VERSION, pgpass: VERSION.replace("password", "pgpass"), caJson: VERSION.replace("password", "ca-json") },
        cloudSqlInstance: "my-project:europe-west1:step-ca-db",
    };

    it("fetch only well-formed secret version names into named files", () => {
        const script = fetchSecretsScript({ password: VERSION, "ca.json": VERSION.replace("password", "ca-json") });
        assert.match(script, new RegExp(`fetch '${VERSION}' 'password'`));
        assert.ok(script.includes(`fetch '${VERSION.replace("password", "ca-json")}' 'ca.json'`));
        assert.ok(!script.includes("Bearer $token\" "), "the token is not on a command line");
        assert.throws(() => fetchSecretsScript({ password: "projects/p/secrets/s'; rm -rf /;'/versions/1" }), /not a file name/);
        assert.throws(() => fetchSecretsScript({ "../x": VERSION }), /not a file name/);
        assert.throws(() => fetchSecretsScript({ ".x": VERSION }), /not a file name/, "the fetch's own temp files start with a dot");
    });

    it("run the step-ca container with the docker runtime's command, its files mounted, secrets read-only", () => {
        const args = stepCaDockerRun(spec);
        assert.deepEqual(args.slice(-5), ["smallstep/step-ca:0.30.2", "step-ca", "--password-file", "/run/secrets/step-ca/password", "/home/step/config/ca.json"]);
        assert.ok(args.includes("--volume=/run/step-ca/secrets:/run/secrets/step-ca:ro"));
        assert.ok(args.includes("--volume=/run/step-ca/secrets/ca.json:/home/step/config/ca.json:ro"), "ca.json from the secrets, where step-ca reads it");
        assert.ok(args.includes("--env=PGPASSFILE=/run/secrets/step-ca/pgpass"));
        assert.ok(args.includes("--env=HOME=/home/step"));
        assert.ok(args.includes("--add-host=ca.example.com:127.0.0.1"));
    });

    it("is a cloud-config with the public files (no ca.json), units and start commands, quoting for systemd", () => {
        const text = renderCloudConfig(spec);
        assert.ok(text.startsWith("#cloud-config\n"));
        const config = yaml.load(text) as { write_files: { path: string; content: string }[]; runcmd: string[][] };
        const paths = config.write_files.map((f) => f.path);
        assert.deepEqual(paths, [
            "/var/lib/step-ca/home/config/defaults.json",
            "/var/lib/step-ca/home/certs/root_ca.crt",
            "/var/lib/step-ca/home/certs/intermediate_ca.crt",
            "/var/lib/step-ca/fetch-secrets.sh",
            "/etc/systemd/system/cloud-sql-proxy.service",
            "/etc/systemd/system/step-ca.service",
        ]);
        assert.ok(config.write_files[3].content.includes(`fetch '${spec.secrets.caJson}' 'ca.json'`));
        const unit = config.write_files[5].content;
        assert.match(unit, /ExecStartPre=\/bin\/bash \/var\/lib\/step-ca\/fetch-secrets.sh/);
        assert.match(unit, /"--health-cmd=step ca health --ca-url https:\/\/ca.example.com:443 --root \/home\/step\/certs\/root_ca.crt"/);
        assert.match(unit, /After=docker.service network-online.target cloud-sql-proxy.service/);
        assert.deepEqual(config.runcmd.at(-1), ["systemctl", "start", "cloud-sql-proxy.service", "step-ca.service"]);
    });
});
