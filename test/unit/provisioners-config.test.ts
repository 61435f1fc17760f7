import * as assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ConfigError, validateConfig } from "../../lib/config/config";
import { provisionerSecretsOf } from "../../lib/config/provisioners";
import { parseGoDuration } from "../../lib/step-ca/go-duration";
import { createTlsIdentity } from "../../kms-emulator/index";
import { stackConfig } from "./support/stack-files";

const P = "stepca-cloudkms";
const LIST = `${P}:provisioners`;

/** The dev stack with `overrides` (project keys without namespace); `secret` keys as `--secret` makes them. */
function configWith(overrides: Record<string, unknown>, secret: string[] = []) {
    const namespaced = Object.fromEntries(Object.entries(overrides).map(([k, v]) => [k.includes(":") ? k : `${P}:${k}`, v]));
    return validateConfig(P, stackConfig("dev", namespaced), secret);
}

function problemsOf(overrides: Record<string, unknown>, secret: string[] = []): readonly string[] {
    try {
        configWith(overrides, secret);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return e.problems;
    }
    assert.fail("expected the configuration to be rejected");
}

const ACME = { type: "ACME", name: "acme", challenges: ["http-01"] };
const GCP = { type: "GCP", name: "gce", projectIDs: ["my-prod-project"], instanceAge: "1h", disableCustomSANs: true };
const OIDC = {
    type: "OIDC",
    name: "google",
    clientID: "1234-abc.apps.googleusercontent.com",
    clientSecret: "oidc-client-secret-value",
    configurationEndpoint: "https://accounts.google.com/.well-known/openid-configuration",
    admins: ["security@example.com"],
    domains: ["example.com"],
};

describe("Go durations as step-ca parses them", () => {
    it("accepts Go's syntax and refuses what time.ParseDuration refuses", () => {
        assert.equal(parseGoDuration("24h"), 86400);
        assert.equal(parseGoDuration("1h30m"), 5400);
        assert.equal(parseGoDuration("1.5h"), 5400);
        assert.equal(parseGoDuration(".5s"), 0.5);
        assert.equal(parseGoDuration("300ms"), 0.3);
        assert.equal(parseGoDuration("0"), 0);
        assert.equal(parseGoDuration("-5m"), -300);
        assert.equal(parseGoDuration("1.h.5m"), 3630, "Go reads \"1.\" and \".5\" as numbers");
        for (const bad of ["1d", "24", "", "h", "24 h", "1h 30m", "1..5h", "5mins", "."]) {
            assert.equal(parseGoDuration(bad), undefined, bad);
        }
    });
});

describe("the provisioners setting", () => {
    let x5cRoot: string;
    before(async () => {
        x5cRoot = (await createTlsIdentity(["x5c.example"])).caCertPem;
    });

    it("empty keeps today's single JWK provisioner", () => {
        const config = configWith({});
        assert.equal(config.provisioners, undefined);
        assert.equal(config.provisionerName, "admin");
    });

    it("reads every type, without the secrets, and names the provisioners whose secrets are given", () => {
        const jwk = { type: "JWK", name: "operators", password: "a-long-operator-password", claims: { maxTLSCertDuration: "720h" } };
        const x5c = { type: "X5C", name: "x5c", roots: x5cRoot };
        const config = configWith({ provisioners: [jwk, ACME, GCP, OIDC, x5c] }, [LIST]);
        assert.deepEqual(config.provisioners, [
            { type: "JWK", name: "operators", claims: { maxTLSCertDuration: "720h" } },
            ACME,
            GCP,
            { ...OIDC, clientSecret: undefined },
            { type: "X5C", name: "x5c", roots: x5cRoot },
        ].map((p) => JSON.parse(JSON.stringify(p))));
        assert.deepEqual(config.provisionerSecretsGiven, { passwords: ["operators"], clientSecrets: ["google"] });
        assert.ok(!JSON.stringify(config).includes("oidc-client-secret-value"), "the validated config holds no secret");
        assert.ok(!JSON.stringify(config).includes("a-long-operator-password"));
        assert.deepEqual(provisionerSecretsOf([jwk, ACME, OIDC]), {
            passwords: { operators: "a-long-operator-password" },
            clientSecrets: { google: "oidc-client-secret-value" },
        });
    });

    it("refuses secrets in plain text, naming the --secret --path command, without echoing them", () => {
        const problems = problemsOf({ provisioners: [ACME, OIDC] });
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /provisioners\[1\]\.clientSecret is set in plain text/);
        assert.match(problems[0], /pulumi config set --secret --path 'provisioners\[1\]\.clientSecret'/);
        assert.ok(!problems.join().includes(OIDC.clientSecret));
    });

    it("lists every problem at once: unknown type and field, duplicate names, bad values", () => {
        const problems = problemsOf({
            provisioners: [
                { type: "ACMEE", name: "a" },
                { type: "ACME", name: "acme", challenge: ["http-01"] },
                { type: "ACME", name: "acme", challenges: ["http-02"] },
                { type: "GCP", name: "gce", instanceAge: "1 hour", projectIDs: ["My Project"] },
                { type: "GCP", name: "open" },
                { type: "OIDC", name: "idp", configurationEndpoint: "http://idp.example.com/.well-known/openid-configuration" },
                { type: "X5C", name: "x5c", roots: "not a pem" },
                { type: "JWK", name: "short", password: "short" },
                { type: "JWK", name: "bad name!" },
                { type: "JWK", name: "spaced", password: "a-long-enough-password " },
            ],
        }, [LIST]);
        const expected = [
            /provisioners\[0\]\.type "ACMEE" is not a provisioner type .*did you mean ACME\?/,
            /provisioners\[1\]\.challenge is not a field here; did you mean challenges\?/,
            /provisioners\[2\]\.name "acme" is already the name of .*provisioners\[1\]/,
            /provisioners\[2\]\.challenges entry "http-02" is not an ACME challenge type/,
            /provisioners\[3\]\.instanceAge "1 hour" is not a duration/,
            /provisioners\[3\]\.projectIDs entry "My Project" is not a GCP project ID/,
            /provisioners\[4\] \(GCP\) lists neither projectIDs nor serviceAccounts/,
            /provisioners\[5\]\.clientID is required for a OIDC provisioner/,
            /provisioners\[5\]\.configurationEndpoint .* must be an https URL/,
            /provisioners\[6\]\.roots must be a PEM bundle/,
            /provisioners\[7\]\.password is shorter than 12 characters/,
            /provisioners\[8\]\.name "bad name!" must be 1-64 letters/,
            /provisioners\[9\]\.password starts or ends with whitespace.*--path 'provisioners\[9\]\.password'/,
        ];
        for (const pattern of expected) {
            assert.ok(problems.some((p) => pattern.test(p)), `${pattern} not in:\n${problems.join("\n")}`);
        }
        assert.equal(problems.length, expected.length, problems.join("\n"));
    });

    it("refuses provisionerPassword or provisionerName next to a provisioners list", () => {
        const problems = problemsOf(
            { provisioners: [ACME], provisionerPassword: "a-long-enough-password", provisionerName: "ops" },
            [`${P}:provisionerPassword`],
        );
        assert.equal(problems.length, 2, problems.join("\n"));
        assert.match(problems[0], /provisionerPassword is set, but so is stepca-cloudkms:provisioners/);
        assert.match(problems[1], /provisionerName is set, but so is stepca-cloudkms:provisioners/);
    });
});

describe("lifetimes (claims)", () => {
    it("are read authority-wide and per provisioner", () => {
        const config = configWith({
            claims: { defaultTLSCertDuration: "12h", maxTLSCertDuration: "168h", disableRenewal: false },
            provisioners: [{ ...ACME, claims: { defaultTLSCertDuration: "1h", maxTLSCertDuration: "2h" } }],
        });
        assert.deepEqual(config.claims, { defaultTLSCertDuration: "12h", maxTLSCertDuration: "168h", disableRenewal: false });
        assert.deepEqual(config.provisioners![0].claims, { defaultTLSCertDuration: "1h", maxTLSCertDuration: "2h" });
    });

    it("refuse what step-ca would refuse at start: unparseable, non-positive, default outside min–max", () => {
        const problems = problemsOf({
            claims: { maxTLSCertDuration: "1h" },
            provisioners: [
                { ...ACME, claims: { defaultTLSCertDuration: "1d", minTLSCertDuration: "0s" } },
                { type: "ACME", name: "b", claims: { minTLSCertDuration: "2h", maxTLSCertDuration: "1h", defaultTLSCertDuration: "1h" } },
                { type: "ACME", name: "c", claims: { maxTLSCertDuration: "30m", disableRenewal: "yes", ttl: "1h" } },
            ],
        });
        const expected = [
            // The authority's max 1h is below step-ca's default 24h.
            /stepca-cloudkms:claims: the inherited defaultTLSCertDuration \(24h0m0s\) is outside the inherited minTLSCertDuration \(5m0s\) – maxTLSCertDuration "1h"/,
            /provisioners\[0\]\.claims: defaultTLSCertDuration "1d" is not a duration/,
            /provisioners\[0\]\.claims: minTLSCertDuration "0s" must be longer than 0/,
            /provisioners\[1\]\.claims: maxTLSCertDuration "1h" is shorter than minTLSCertDuration "2h"/,
            /provisioners\[1\]\.claims: defaultTLSCertDuration "1h" is outside minTLSCertDuration "2h"/,
            /provisioners\[2\]\.claims\.ttl is not a field here/,
            /provisioners\[2\]\.claims\.disableRenewal must be true or false/,
            /provisioners\[2\]\.claims: the inherited defaultTLSCertDuration \(24h0m0s\) is outside .* maxTLSCertDuration "30m"/,
        ];
        for (const pattern of expected) {
            assert.ok(problems.some((p) => pattern.test(p)), `${pattern} not in:\n${problems.join("\n")}`);
        }
        assert.equal(problems.length, expected.length, problems.join("\n"));
    });
});

describe("issuance policy and name constraints", () => {
    // The dev stack serves on localhost and 127.0.0.1.
    it("are read when they keep the CA's own names", () => {
        const config = configWith({
            policy: { x509: { allow: { dns: ["localhost", "*.example.com"], ip: ["127.0.0.0/8"] }, deny: { dns: ["bad.example.com"] } } },
            nameConstraints: { permittedDNSDomains: ["localhost", ".example.com"], permittedIPRanges: ["127.0.0.0/8"], excludedIPRanges: [] },
        });
        assert.deepEqual(config.policy, {
            allow: { dns: ["localhost", "*.example.com"], ip: ["127.0.0.0/8"] },
            deny: { dns: ["bad.example.com"] },
        });
        assert.deepEqual(config.nameConstraints, { permittedDNSDomains: ["localhost", ".example.com"], permittedIPRanges: ["127.0.0.0/8"] });
        assert.equal(configWith({ nameConstraints: { excludedIPRanges: [] } }).nameConstraints, undefined, "empty = off");
    });

    it("refuse a policy or constraint that rules out the CA's own names, and malformed entries", () => {
        const problems = problemsOf({
            policy: { x509: { allow: { dns: ["localhost"] }, deny: { dns: ["localhost"] } } },
            nameConstraints: { permittedDNSDomains: ["example.com"], excludedIPRanges: ["127.0.0.0/8"] },
        });
        const expected = [
            /policy refuses the CA's own name "localhost" \(dnsNames\): deny\.dns "localhost" matches it/,
            /policy refuses the CA's own name "127\.0\.0\.1" \(dnsNames\): no allow\.ip rule matches it/,
            /nameConstraints excludes the CA's own name "localhost" \(dnsNames\): no permittedDNSDomains entry covers it/,
            /nameConstraints excludes the CA's own name "127\.0\.0\.1" \(dnsNames\): excludedIPRanges "127\.0\.0\.0\/8" covers it/,
        ];
        for (const pattern of expected) {
            assert.ok(problems.some((p) => pattern.test(p)), `${pattern} not in:\n${problems.join("\n")}`);
        }
        assert.equal(problems.length, expected.length, problems.join("\n"));

        const malformed = problemsOf({
            policy: { x509: { allow: { dns: ["*.*.example.com"], ipRanges: ["10.0.0.0/8"] } } },
            nameConstraints: { permittedDNSDomains: ["exa mple.com"], permittedIPRanges: ["10.1.2.3/8", "10.0.0.0"], permitted: [] },
        });
        for (const pattern of [
            /policy\.x509\.allow\.dns entry "\*\.\*\.example\.com" is not a domain/,
            /policy\.x509\.allow\.ipRanges is not a field here/,
            /nameConstraints\.permitted is not a field here/,
            /nameConstraints\.permittedDNSDomains entry "exa mple\.com" is not a DNS domain/,
            /nameConstraints\.permittedIPRanges entry "10\.1\.2\.3\/8" has host bits set/,
            /nameConstraints\.permittedIPRanges entry "10\.0\.0\.0" is not an IP range in CIDR notation/,
        ]) {
            assert.ok(malformed.some((p) => pattern.test(p)), `${pattern} not in:\n${malformed.join("\n")}`);
        }
    });
});
