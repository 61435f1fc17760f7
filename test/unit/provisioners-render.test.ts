import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AsnConvert } from "@peculiar/asn1-schema";
import { GeneralName, NameConstraints as AsnNameConstraints } from "@peculiar/asn1-x509";
import { renderCaJson } from "../../lib/step-ca/ca-json";
import type { JwkProvisioner } from "../../lib/step-ca/jwk-provisioner";
import { renderProvisioner } from "../../lib/step-ca/provisioners";
import { nameConstraintRefusal, nameConstraintsExtension } from "../../lib/pki/name-constraints";
import { policyRefusal } from "../../lib/step-ca/x509-policy";

const KEY_VERSION = "projects/acme-pki/locations/europe-west1/keyRings/ca/cryptoKeys/intermediate/cryptoKeyVersions/3";
const JWK: JwkProvisioner = {
    type: "JWK",
    name: "operators",
    key: { use: "sig", kty: "EC", kid: "kid", crv: "P-256", alg: "ES256", x: "x", y: "y" },
    encryptedKey: "header.key.iv.ciphertext.tag",
};
const ROOTS = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe("ca.json provisioner entries, as step-ca's provisioner types declare them", () => {
    it("JWK: the public key and the encrypted private key, with its claims", () => {
        assert.deepEqual(renderProvisioner({ type: "JWK", name: "operators", claims: { maxTLSCertDuration: "720h" } }, { jwk: JWK }), {
            type: "JWK",
            name: "operators",
            key: JWK.key,
            encryptedKey: JWK.encryptedKey,
            claims: { maxTLSCertDuration: "720h" },
        });
        assert.throws(() => renderProvisioner({ type: "JWK", name: "other" }, { jwk: JWK }), /JWK provisioner "other" has no generated key/);
    });

    it("ACME: challenges, requireEAB and forceCN only when set", () => {
        assert.deepEqual(renderProvisioner({ type: "ACME", name: "acme" }), { type: "ACME", name: "acme" });
        assert.deepEqual(
            renderProvisioner({ type: "ACME", name: "acme", challenges: ["http-01", "dns-01"], requireEAB: true, forceCN: true }),
            { type: "ACME", name: "acme", forceCN: true, requireEAB: true, challenges: ["http-01", "dns-01"] },
        );
    });

    it("GCP: project IDs, service accounts, instance age and both switches (written out, as step-ca has no omitempty)", () => {
        assert.deepEqual(
            renderProvisioner({ type: "GCP", name: "gce", projectIDs: ["p-123456"], serviceAccounts: ["a@p-123456.iam.gserviceaccount.com"], instanceAge: "1h", disableCustomSANs: true }),
            {
                type: "GCP",
                name: "gce",
                serviceAccounts: ["a@p-123456.iam.gserviceaccount.com"],
                projectIDs: ["p-123456"],
                disableCustomSANs: true,
                disableTrustOnFirstUse: false,
                instanceAge: "1h",
            },
        );
    });

    it("OIDC: the client secret comes from the secrets, not the spec", () => {
        const spec = {
            type: "OIDC" as const,
            name: "google",
            clientID: "id",
            configurationEndpoint: "https://accounts.google.com/.well-known/openid-configuration",
            admins: ["a@example.com"],
            domains: ["example.com"],
        };
        assert.deepEqual(renderProvisioner(spec, { clientSecret: "s3cret" }), {
            type: "OIDC",
            name: "google",
            clientID: "id",
            clientSecret: "s3cret",
            configurationEndpoint: spec.configurationEndpoint,
            admins: ["a@example.com"],
            domains: ["example.com"],
        });
        assert.equal(renderProvisioner(spec).clientSecret, "", "no secret given: empty, as step-ca marshals it");
    });

    it("X5C: roots as base64 of the PEM bundle (step-ca reads []byte)", () => {
        const entry = renderProvisioner({ type: "X5C", name: "x5c", roots: ROOTS });
        assert.equal(Buffer.from(entry.roots as string, "base64").toString(), ROOTS);
    });

    it("authority claims and policy go under authority, left out when empty", () => {
        const settings = { intermediateKeyVersion: KEY_VERSION, address: ":9000", dnsNames: ["ca.example.com"] };
        const plain = JSON.parse(renderCaJson(settings, [])).authority;
        assert.equal("claims" in plain, false);
        assert.equal("policy" in plain, false);
        const authority = JSON.parse(
            renderCaJson(
                { ...settings, claims: { defaultTLSCertDuration: "1h" }, policy: { allow: { dns: ["*.example.com"] } } },
                [renderProvisioner({ type: "ACME", name: "acme" })],
            ),
        ).authority;
        assert.deepEqual(authority.claims, { defaultTLSCertDuration: "1h" });
        assert.deepEqual(authority.policy, { x509: { allow: { dns: ["*.example.com"] } } });
        assert.deepEqual(authority.provisioners, [{ type: "ACME", name: "acme" }]);
    });
});

describe("name constraints", () => {
    it("encode as a critical RFC 5280 NameConstraints extension", () => {
        const extension = nameConstraintsExtension({
            permittedDNSDomains: ["example.com"],
            permittedIPRanges: ["10.0.0.0/8"],
            excludedDNSDomains: [".bad.example.com"],
        });
        assert.equal(extension.type, "2.5.29.30");
        assert.equal(extension.critical, true);
        const decoded = AsnConvert.parse(extension.value, AsnNameConstraints);
        const names = (subtrees: typeof decoded.permittedSubtrees) =>
            [...(subtrees ?? [])].map((s) => (s.base as GeneralName).dNSName ?? (s.base as GeneralName).iPAddress);
        assert.deepEqual(names(decoded.permittedSubtrees), ["example.com", "10.0.0.0/8"]);
        assert.deepEqual(names(decoded.excludedSubtrees), [".bad.example.com"]);
    });

    it("cover names as RFC 5280 verifiers do", () => {
        const c = { permittedDNSDomains: ["example.com", ".internal.test"], excludedDNSDomains: ["bad.example.com"], permittedIPRanges: ["10.0.0.0/8"] };
        assert.equal(nameConstraintRefusal(c, "example.com"), undefined);
        assert.equal(nameConstraintRefusal(c, "a.b.example.com"), undefined);
        assert.equal(nameConstraintRefusal(c, "x.internal.test"), undefined);
        assert.match(nameConstraintRefusal(c, "internal.test")!, /no permittedDNSDomains/);
        assert.match(nameConstraintRefusal(c, "notexample.com")!, /no permittedDNSDomains/);
        assert.match(nameConstraintRefusal(c, "x.bad.example.com")!, /excludedDNSDomains "bad.example.com"/);
        assert.equal(nameConstraintRefusal(c, "10.1.2.3"), undefined);
        assert.match(nameConstraintRefusal(c, "192.168.0.1")!, /no permittedIPRanges/);
        assert.equal(nameConstraintRefusal({ permittedDNSDomains: ["example.com"] }, "192.168.0.1"), undefined, "IPs unconstrained");
    });
});

describe("issuance policy matching (step-ca's rules)", () => {
    it("DNS: exact names, *. one label more; deny wins; any allow rule refuses unlisted kinds", () => {
        const policy = { allow: { dns: ["ca.example.com", "*.svc.example.com"] }, deny: { dns: ["bad.svc.example.com"] } };
        assert.equal(policyRefusal(policy, "ca.example.com"), undefined);
        assert.equal(policyRefusal(policy, "a.svc.example.com"), undefined);
        assert.match(policyRefusal(policy, "a.b.svc.example.com")!, /no allow\.dns rule/);
        assert.match(policyRefusal(policy, "svc.example.com")!, /no allow\.dns rule/);
        assert.match(policyRefusal(policy, "bad.svc.example.com")!, /deny\.dns "bad.svc.example.com"/);
        assert.match(policyRefusal(policy, "10.0.0.1")!, /no allow\.ip rule/);
        assert.equal(policyRefusal({ deny: { dns: ["x.example.com"] } }, "10.0.0.1"), undefined, "deny only: the rest passes");
        assert.equal(policyRefusal({ allow: { ip: ["10.0.0.0/8"] } }, "10.9.9.9"), undefined);
    });
});
