import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    STEP_CA_CONTAINER_PATHS,
    defaultCaUrl,
    renderCaJson,
    renderDefaultsJson,
    stepCaSettingsProblems,
} from "../../lib/step-ca/ca-json";
import type { JwkProvisioner } from "../../lib/step-ca/jwk-provisioner";
import { renderProvisioner } from "../../lib/step-ca/provisioners";

const KEY_VERSION = "projects/acme-pki/locations/europe-west1/keyRings/ca/cryptoKeys/intermediate/cryptoKeyVersions/3";
const JWK: JwkProvisioner = {
    type: "JWK",
    name: "admin",
    key: { use: "sig", kty: "EC", kid: "kid", crv: "P-256", alg: "ES256", x: "x", y: "y" },
    encryptedKey: "header.key.iv.ciphertext.tag",
};
const PROVISIONER = renderProvisioner({ type: "JWK", name: "admin" }, { jwk: JWK });
const SETTINGS = { intermediateKeyVersion: KEY_VERSION, address: ":9000", dnsNames: ["ca.example.com", "localhost"] };
const FINGERPRINT = "0f".repeat(32);

describe("ca.json", () => {
    it("has every field step-ca validates, for Cloud KMS with a credentials file", () => {
        const config = JSON.parse(renderCaJson(SETTINGS, [PROVISIONER]));
        assert.equal(config.root, "/home/step/certs/root_ca.crt");
        assert.equal(config.crt, "/home/step/certs/intermediate_ca.crt");
        assert.equal(config.key, KEY_VERSION, "the bare key-version resource name");
        assert.deepEqual(config.kms, {
            type: "cloudkms",
            uri: "cloudkms:credentials-file=/run/secrets/step-ca/kms-credentials.json",
        });
        assert.equal(config.address, ":9000");
        assert.deepEqual(config.dnsNames, ["ca.example.com", "localhost"]);
        assert.deepEqual(config.db, { type: "badgerv2", dataSource: "/home/step/db", badgerFileLoadingMode: "" });
        assert.deepEqual(config.authority.provisioners, [PROVISIONER]);
        assert.equal(config.authority.backdate, "1m0s");
        assert.deepEqual(config.tls, {
            cipherSuites: ["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"],
            minVersion: 1.2,
            maxVersion: 1.3,
            renegotiation: false,
        });
        assert.deepEqual(config.logger, { format: "text" });
    });

    it("omits the credentials part of the KMS URI for Application Default Credentials", () => {
        const config = JSON.parse(renderCaJson({ ...SETTINGS, paths: { kmsCredentialsFile: null } }, [PROVISIONER]));
        assert.deepEqual(config.kms, { type: "cloudkms" });
    });

    it("uses a shared PostgreSQL database when given one, refusing a DSN that carries a password", () => {
        const database = { dataSource: "postgresql://step-ca@127.0.0.1:5432/?sslmode=disable", database: "stepca" };
        const config = JSON.parse(renderCaJson({ ...SETTINGS, database }, [PROVISIONER]));
        assert.deepEqual(config.db, { type: "postgresql", ...database });
        const problems = (dataSource: string, name = "stepca") =>
            stepCaSettingsProblems({ ...SETTINGS, database: { dataSource, database: name } }).map((p) => p.reason);
        assert.match(problems("postgresql://step-ca:hunter2@127.0.0.1:5432/")[0], /must not carry a password/);
        assert.match(problems("postgresql://step-ca@127.0.0.1/?password=hunter2")[0], /must not carry a password/);
        assert.match(problems("mysql://step-ca@127.0.0.1/")[0], /must be a postgresql:\/\/ URL/);
        assert.match(problems("postgresql://step-ca@127.0.0.1/", "drop table;")[0], /not a PostgreSQL database name/);
    });

    it("takes every path as an input, so step-ca can run from a temporary directory", () => {
        const paths = {
            root: "/tmp/ca/certs/root.crt",
            crt: "/tmp/ca/certs/int.crt",
            config: "/tmp/ca/config/ca.json",
            db: "/tmp/ca/db",
            kmsCredentialsFile: "/tmp/ca/secrets/sa.json",
        };
        const config = JSON.parse(renderCaJson({ ...SETTINGS, paths, logFormat: "json" }, [PROVISIONER]));
        assert.equal(config.root, paths.root);
        assert.equal(config.crt, paths.crt);
        assert.equal(config.db.dataSource, paths.db);
        assert.equal(config.kms.uri, "cloudkms:credentials-file=/tmp/ca/secrets/sa.json");
        assert.deepEqual(config.logger, { format: "json" });
        const defaults = JSON.parse(renderDefaultsJson({ caUrl: "https://localhost:9000", fingerprint: FINGERPRINT, paths }));
        assert.equal(defaults["ca-config"], paths.config);
        assert.equal(defaults.root, paths.root);
    });

    it("lists every problem with the settings, each under its property", () => {
        const problems = stepCaSettingsProblems({
            intermediateKeyVersion: "projects/acme-pki/locations/europe-west1/keyRings/ca/cryptoKeys/intermediate",
            address: "0.0.0.0",
            dnsNames: [],
            paths: { db: "db", kmsCredentialsFile: "/secrets/my key.json" },
        });
        assert.deepEqual(
            problems.map((p) => p.property),
            ["intermediateKeyVersion", "address", "dnsNames", "paths.db", "paths.kmsCredentialsFile"],
        );
        assert.deepEqual(stepCaSettingsProblems({ ...SETTINGS, address: "[::]:70000" }).map((p) => p.property), ["address"]);
        assert.deepEqual(stepCaSettingsProblems({ ...SETTINGS, address: "[::]:9000" }), []);
        assert.deepEqual(stepCaSettingsProblems(SETTINGS), []);
        assert.throws(() => renderCaJson({ ...SETTINGS, dnsNames: [] }, [PROVISIONER]), /invalid step-ca settings:\n- dnsNames/);
    });
});

describe("defaults.json", () => {
    it("has ca-url, ca-config, fingerprint and root, as the step CLI reads them", () => {
        const defaults = JSON.parse(renderDefaultsJson({ caUrl: "https://ca.example.com:9000", fingerprint: FINGERPRINT }));
        assert.deepEqual(defaults, {
            "ca-url": "https://ca.example.com:9000",
            "ca-config": STEP_CA_CONTAINER_PATHS.config,
            fingerprint: FINGERPRINT,
            root: STEP_CA_CONTAINER_PATHS.root,
        });
    });

    it("refuses a fingerprint that is not lowercase hex SHA-256", () => {
        assert.throws(() => renderDefaultsJson({ caUrl: "https://ca", fingerprint: FINGERPRINT.toUpperCase() }));
        assert.throws(() => renderDefaultsJson({ caUrl: "https://ca", fingerprint: "AB:CD" }));
    });

    it("derives the CA URL from the first DNS name and the listen port", () => {
        assert.equal(defaultCaUrl("ca.example.com", ":9000"), "https://ca.example.com:9000");
        assert.equal(defaultCaUrl("ca.example.com", "0.0.0.0:443"), "https://ca.example.com");
        assert.equal(defaultCaUrl("::1", "[::]:8443"), "https://[::1]:8443");
    });
});
