import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { type KmsEmulator, type KmsEmulatorOptions, startKmsEmulator } from "../../kms-emulator/index";
import type { KmsSigningAlgorithmName } from "../../lib/kms/algorithms";
import { createKmsClient } from "../../lib/kms/client";
import { intermediateCertificateProvider } from "../../dynamic-providers/certificates/intermediate-certificate";
import { rootCertificateProvider } from "../../dynamic-providers/certificates/root-certificate";
import { realToolsPresent } from "../support/real-tools";

export const LOCATION = "projects/stepca-test/locations/us-east1";

export const SUBJECT = { commonName: "Test Root CA", organization: "Acme Test" };

/** A KMS emulator plus an admin client for arranging keys; torn down by `close`. */
export interface TestKms {
    readonly emulator: KmsEmulator;
    readonly admin: KeyManagementServiceClient;
    readonly keyRing: string;
    close(): Promise<void>;
}

export async function startTestKms(options: KmsEmulatorOptions = {}): Promise<TestKms> {
    const emulator = await startKmsEmulator({ hsmPendingMs: 0, ...options });
    const admin = createKmsClient(emulator.address);
    const [ring] = await admin.createKeyRing({ parent: LOCATION, keyRingId: uniqueId("ring"), keyRing: {} });
    return {
        emulator,
        admin,
        keyRing: ring.name!,
        async close() {
            await admin.close();
            await emulator.stop();
        },
    };
}

export function uniqueId(prefix: string): string {
    return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** Creates an ASYMMETRIC_SIGN key and returns the name of its version 1. */
export async function createKeyVersion(
    kms: TestKms,
    algorithm: KmsSigningAlgorithmName,
    options: { protectionLevel?: "SOFTWARE" | "HSM"; id?: string } = {},
): Promise<string> {
    const [key] = await kms.admin.createCryptoKey({
        parent: kms.keyRing,
        cryptoKeyId: options.id ?? uniqueId("key"),
        cryptoKey: {
            purpose: "ASYMMETRIC_SIGN",
            versionTemplate: { algorithm, protectionLevel: options.protectionLevel ?? "SOFTWARE" },
        },
    });
    return `${key.name}/cryptoKeyVersions/1`;
}

export async function disableKeyVersion(kms: TestKms, keyVersion: string): Promise<void> {
    await kms.admin.updateCryptoKeyVersion({
        cryptoKeyVersion: { name: keyVersion, state: "DISABLED" },
        updateMask: { paths: ["state"] },
    });
}

export async function destroyKeyVersion(kms: TestKms, keyVersion: string): Promise<void> {
    await kms.admin.destroyCryptoKeyVersion({ name: keyVersion });
}

/** KMS calls the emulator received while `action` ran, by method. */
export async function countCalls<T>(
    emulator: KmsEmulator,
    action: () => Promise<T>,
): Promise<{ result: T; calls: Record<string, number> }> {
    emulator.calls.reset();
    const result = await action();
    return { result, calls: emulator.calls.byMethod() };
}

/**
 * Whether `openssl` can run. When it cannot, the test is skipped loudly with `why` as the reason (or fails, with
 * STEPCA_REQUIRE_REAL_TESTS=1 as CI sets it), and the caller returns:
 *
 *     if (!opensslPresent(t, "the chain is verified with openssl")) return;
 */
export function opensslPresent(t: TestContext, why: string): boolean {
    return realToolsPresent(t, `"${t.name}"`, { openssl: why });
}

/** Runs the openssl CLI on PEM files written to a temporary directory; returns stdout (stderr merged). */
export function openssl(files: Record<string, string>, args: (dir: string) => string[]): string {
    const dir = mkdtempSync(join(tmpdir(), "stepca-openssl-"));
    try {
        for (const [name, content] of Object.entries(files)) {
            writeFileSync(join(dir, name), content);
        }
        return execFileSync("openssl", args(dir), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * `openssl verify -x509_strict -CAfile root intermediate`: returns openssl's output (`…/int.pem: OK` when the chain
 * verifies) and throws, with openssl's output, when it does not.
 */
export function opensslVerifiesChain(rootPem: string, intermediatePem: string): string {
    return openssl({ "root.pem": rootPem, "int.pem": intermediatePem }, (dir) => [
        "verify",
        "-x509_strict",
        "-CAfile",
        join(dir, "root.pem"),
        join(dir, "int.pem"),
    ]);
}

/** `openssl x509 -text` of a certificate. */
export function opensslText(certPem: string): string {
    return openssl({ "cert.pem": certPem }, (dir) => ["x509", "-noout", "-text", "-in", join(dir, "cert.pem")]);
}

/** A root and an intermediate on fresh keys of `algorithm`, through the providers. */
export async function mintChain(kms: TestKms, algorithm: KmsSigningAlgorithmName): Promise<{ root: string; intermediate: string }> {
    const rootKey = await createKeyVersion(kms, algorithm);
    const root = await rootCertificateProvider.create({ keyVersion: rootKey, subject: SUBJECT, validityDays: 3650, kmsEndpoint: kms.emulator.address });
    const intermediate = await intermediateCertificateProvider.create({
        keyVersion: await createKeyVersion(kms, algorithm),
        issuerKeyVersion: rootKey,
        issuerCertPem: root.outs.certPem,
        subject: { commonName: "Test Intermediate CA" },
        validityDays: 365,
        renewBeforeDays: 30,
        kmsEndpoint: kms.emulator.address,
    });
    return { root: root.outs.certPem, intermediate: intermediate.outs.certPem };
}
