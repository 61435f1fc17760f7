/**
 * KMS calls per operation of each dynamic resource, counted at the KMS emulator, with the provider methods called
 * the way the Pulumi engine calls them (create, diff, update, read, delete).
 */
import { intermediateCertificateProvider } from "../dynamic-providers/certificates/intermediate-certificate";
import { rootCertificateProvider } from "../dynamic-providers/certificates/root-certificate";
import { stepCaConfigProvider } from "../dynamic-providers/step-ca-config";
import { type KmsEmulator, startKmsEmulator } from "../kms-emulator/index";
import { DAY_MS } from "../lib/pki/certificate-validity";
import type { KmsSigningAlgorithmName } from "../lib/kms/algorithms";
import { createKmsClient } from "../lib/kms/client";
import type { BenchSection } from "./table";

const LOCATION = "projects/stepca-bench/locations/us-east1";
const METHODS = ["GetPublicKey", "AsymmetricSign", "GetCryptoKeyVersion"] as const;
const GOAL = "Goal: fresh root + intermediate = 2 GetPublicKey + 2 AsymmetricSign; no-op diff = 0.";

const root = rootCertificateProvider as Required<typeof rootCertificateProvider>;
const intermediate = intermediateCertificateProvider as Required<typeof intermediateCertificateProvider>;
const config = stepCaConfigProvider as Required<typeof stepCaConfigProvider>;

export async function kmsCallsPerOperation(algorithm: KmsSigningAlgorithmName = "EC_SIGN_P256_SHA256"): Promise<BenchSection> {
    const emulator = await startKmsEmulator({ hsmPendingMs: 0 });
    try {
        const [rootKey, intermediateKey] = await createKeys(emulator, algorithm);
        const rows: (string | number)[][] = [];
        const measure = async (resource: string, operation: string, action: () => Promise<unknown>) => {
            emulator.calls.reset();
            const started = performance.now();
            await action();
            const elapsed = performance.now() - started;
            const calls = emulator.calls.byMethod();
            rows.push([resource, operation, ...METHODS.map((m) => calls[m] ?? 0), emulator.calls.total(), elapsed.toFixed(1)]);
        };
        const notApplicable = (resource: string, operation: string) =>
            rows.push([resource, operation, ...METHODS.map(() => "–"), "–", "–"]);
        const endpoint = emulator.address;

        const rootInputs = { keyVersion: rootKey, subject: { commonName: "Bench Root" }, validityDays: 3650, kmsEndpoint: endpoint };
        let rootState!: Awaited<ReturnType<typeof root.create>>;
        await measure("RootCertificate", "create", async () => (rootState = await root.create(rootInputs)));
        await measure("RootCertificate", "no-op diff", () => root.diff(rootState.id, rootState.outs, rootInputs));
        await measure("RootCertificate", "update (kmsEndpoint)", async () => {
            const news = { ...rootInputs, kmsEndpoint: `localhost:${emulator.port}` };
            await root.diff(rootState.id, rootState.outs, news);
            await root.update(rootState.id, rootState.outs, news);
        });
        notApplicable("RootCertificate", "renewal (never on a timer)");
        await measure("RootCertificate", "refresh (read)", () => root.read(rootState.id, rootState.outs));
        await measure("RootCertificate", "delete", () => root.delete(rootState.id, rootState.outs));

        const intermediateInputs = {
            keyVersion: intermediateKey,
            issuerKeyVersion: rootKey,
            issuerCertPem: rootState.outs.certPem as string,
            subject: { commonName: "Bench Intermediate" },
            validityDays: 365,
            renewBeforeDays: 30,
            kmsEndpoint: endpoint,
        };
        let intermediateState!: Awaited<ReturnType<typeof intermediate.create>>;
        await measure("IntermediateCertificate", "create", async () => {
            intermediateState = await intermediate.create(intermediateInputs);
        });
        await measure("IntermediateCertificate", "no-op diff", () =>
            intermediate.diff(intermediateState.id, intermediateState.outs, intermediateInputs),
        );
        await measure("IntermediateCertificate", "update (renewBeforeDays)", async () => {
            const news = { ...intermediateInputs, renewBeforeDays: 45 };
            await intermediate.diff(intermediateState.id, intermediateState.outs, news);
            await intermediate.update(intermediateState.id, intermediateState.outs, news);
        });
        await measure("IntermediateCertificate", "renewal (diff + create + delete)", async () => {
            // State as it will look 10 days before expiry: inside the 30-day window.
            const aged = { ...intermediateState.outs, notAfter: new Date(Date.now() + 10 * DAY_MS).toISOString() };
            const diff = await intermediate.diff(intermediateState.id, aged, intermediateInputs);
            if (!diff.replaces?.includes("notAfter")) {
                throw new Error("the aged intermediate was not due for renewal");
            }
            await intermediate.create(intermediateInputs);
            await intermediate.delete(intermediateState.id, aged);
        });
        await measure("IntermediateCertificate", "refresh (read)", () =>
            intermediate.read(intermediateState.id, intermediateState.outs),
        );
        await measure("IntermediateCertificate", "delete", () =>
            intermediate.delete(intermediateState.id, intermediateState.outs),
        );

        const configInputs = { intermediateKeyVersion: intermediateKey, rootCertPem: intermediateInputs.issuerCertPem, dnsNames: ["ca.example.com"] };
        let configState!: Awaited<ReturnType<typeof config.create>>;
        await measure("StepCaConfig", "create", async () => (configState = await config.create(configInputs)));
        await measure("StepCaConfig", "no-op diff", () => config.diff(configState.id, configState.outs, configInputs));
        await measure("StepCaConfig", "update (dnsNames)", async () => {
            const news = { ...configInputs, dnsNames: ["ca.example.com", "localhost"] };
            await config.diff(configState.id, configState.outs, news);
            await config.update(configState.id, configState.outs, news);
        });
        notApplicable("StepCaConfig", "renewal (nothing expires)");
        await measure("StepCaConfig", "delete", () => config.delete(configState.id, configState.outs));

        return {
            title: `KMS calls per operation (${algorithm}, counted at the KMS emulator)`,
            columns: ["resource", "operation", ...METHODS, "total", "ms"],
            rows,
            notes: [GOAL],
        };
    } finally {
        await emulator.stop();
    }
}

async function createKeys(emulator: KmsEmulator, algorithm: KmsSigningAlgorithmName): Promise<string[]> {
    const admin = createKmsClient(emulator.address);
    try {
        const [ring] = await admin.createKeyRing({ parent: LOCATION, keyRingId: "bench", keyRing: {} });
        const names: string[] = [];
        for (const id of ["root", "intermediate"]) {
            const [key] = await admin.createCryptoKey({
                parent: ring.name,
                cryptoKeyId: id,
                cryptoKey: { purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm } },
            });
            names.push(`${key.name}/cryptoKeyVersions/1`);
        }
        return names;
    } finally {
        await admin.close();
    }
}
