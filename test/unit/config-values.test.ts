import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stepCaSettingsProblems } from "../../lib/step-ca/ca-json";
import { closestMatch, dnsNamesProblems, parseHostPort, parseKmsDuration } from "../../lib/config/values";
import { parseEndpoint } from "../../lib/kms/client";

// The shared parsers behind config validation, ca.json rendering, the KMS client and the emulator key provider.
describe("parseKmsDuration", () => {
    it("reads seconds as Cloud KMS writes them, with up to nine decimals", () => {
        assert.deepEqual(parseKmsDuration("86400s"), { seconds: 86400, nanos: 0 });
        assert.deepEqual(parseKmsDuration("1.5s"), { seconds: 1, nanos: 500_000_000 });
        assert.deepEqual(parseKmsDuration("0.000000001s"), { seconds: 0, nanos: 1 });
    });

    it("refuses anything else", () => {
        for (const text of ["86400", "30d", "1.s", ".5s", "1.0000000001s", "-1s", " 1s", "1 s", ""]) {
            assert.equal(parseKmsDuration(text), undefined, text);
        }
    });
});

describe("parseHostPort", () => {
    it("splits names, IPv4, bracketed IPv6 and host-less addresses", () => {
        assert.deepEqual(parseHostPort("127.0.0.1:8085"), { host: "127.0.0.1", port: 8085 });
        assert.deepEqual(parseHostPort("kms.internal:443"), { host: "kms.internal", port: 443 });
        assert.deepEqual(parseHostPort("[::1]:9000"), { host: "::1", port: 9000 });
        assert.deepEqual(parseHostPort(":9000"), { host: "", port: 9000 });
        assert.deepEqual(parseHostPort("[::]:9000"), { host: "::", port: 9000 });
    });

    it("refuses a missing or out-of-range port, bare IPv6 and whitespace", () => {
        for (const text of ["localhost", "localhost:0", "localhost:65536", "::1:9000", "a b:9000", "host:", "host:9000 "]) {
            assert.equal(parseHostPort(text), undefined, text);
        }
    });

    it("serves the KMS endpoint (host required) and ca.json's address (host optional) alike", () => {
        assert.deepEqual(parseEndpoint("[::1]:8085"), { host: "::1", port: 8085 });
        assert.throws(() => parseEndpoint(":8085"), /is not host:port/);
        const settings = {
            intermediateKeyVersion: "projects/p1-x/locations/us/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
            dnsNames: ["ca.example.com"],
        };
        assert.deepEqual(stepCaSettingsProblems({ ...settings, address: ":9000" }), []);
        assert.deepEqual(stepCaSettingsProblems({ ...settings, address: "localhost" }).map((p) => p.property), ["address"]);
    });
});

describe("dnsNamesProblems", () => {
    it("accepts DNS names and IP addresses", () => {
        assert.deepEqual(dnsNamesProblems(["ca.example.com", "localhost", "127.0.0.1", "::1"]), []);
    });

    it("names an empty list, each bad entry and duplicates", () => {
        assert.deepEqual(dnsNamesProblems([]), ["is empty; step-ca needs at least one DNS name or IP for its TLS certificate"]);
        assert.deepEqual(dnsNamesProblems(["https://ca.example.com", "", "a.example.com", "a.example.com"]), [
            'entry "https://ca.example.com" is not a DNS name or IP address (a bare host name, without scheme, port or path)',
            'entry "" is not a DNS name or IP address',
            "lists a name more than once",
        ]);
    });

    it("is what ca.json rendering checks too", () => {
        const problems = stepCaSettingsProblems({
            intermediateKeyVersion: "projects/p1-x/locations/us/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
            address: ":9000",
            dnsNames: ["ca.example.com:9000"],
        });
        assert.deepEqual(problems, [
            {
                property: "dnsNames",
                reason: 'entry "ca.example.com:9000" is not a DNS name or IP address (a bare host name, without scheme, port or path)',
            },
        ]);
    });
});

describe("closestMatch", () => {
    it("suggests the nearest candidate within the allowed edits, ignoring case", () => {
        assert.equal(closestMatch("us-cental1", ["us-central1", "us-east1"], 2), "us-central1");
        assert.equal(closestMatch("US-EAST1", ["us-central1", "us-east1"], 0), "us-east1");
        assert.equal(closestMatch("mars", ["us", "europe", "asia"], 1), undefined);
    });
});
