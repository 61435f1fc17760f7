/**
 * The CA the program builds, stood up for real: keys on the KMS emulator through the program's emulator providers,
 * root and intermediate through its certificate providers, ca.json and defaults.json through its config provider
 * (container paths mapped to a temp dir), all from the stack settings as `validateConfig` reads them; then the real
 * step-ca reaching the emulator unmodified: HTTPS_PROXY sends its gRPC to a local CONNECT proxy that tunnels
 * cloudkms.googleapis.com:443 to the emulator's TLS port, whose certificate the test CA in SSL_CERT_FILE vouches for;
 * a service-account key file with a real RSA key authenticates with self-signed JWTs.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { TestContext } from "node:test";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { intermediateCertificateProvider } from "../../../dynamic-providers/certificates/intermediate-certificate";
import { rootCertificateProvider } from "../../../dynamic-providers/certificates/root-certificate";
import { stepCaConfigProvider } from "../../../dynamic-providers/step-ca-config";
import { emulatorCryptoKeyProvider } from "../../../dynamic-providers/emulator/emulator-crypto-key";
import { emulatorKeyRingProvider } from "../../../dynamic-providers/emulator/emulator-key-ring";
import {
    CLOUD_KMS_HOST,
    type KmsEmulator,
    type TlsIdentity,
    createServiceAccountJson,
    createTlsIdentity,
    startConnectProxy,
    startKmsEmulator,
} from "../../../kms-emulator/index";
import { type PostgresDatabase, stepCaPaths } from "../../../lib/step-ca/ca-json";
import { type CaConfig, listenAddress, subjectOf, validateConfig } from "../../../lib/config/config";
import { provisionerSecretsOf } from "../../../lib/config/provisioners";
import { createKmsClient } from "../../../lib/kms/client";
import { CONTAINER_LAYOUT, type StepCaLayout, stepCaLayout } from "../../../lib/step-ca/layout";
import { freePort } from "../../support/free-port";
import { type StepCaProcess, startStepCa } from "./step-ca-process";
import { type RunResult, installStep, run } from "./step-tools";

export const PROJECT_NAME = "stepca-cloudkms";
export const KMS_AUTHORITY = `${CLOUD_KMS_HOST}:443`;

/** Everything a provider's create() returns, as the engine would store it. */
export type Outs = Record<string, unknown>;

async function create(provider: { create?: (inputs: any) => Promise<{ id: string; outs?: any }> }, inputs: Outs): Promise<Outs> {
    const result = await provider.create!(inputs);
    return result.outs as Outs;
}

export interface InteropCaOptions {
    /** Project settings (without namespace) over the program's defaults, e.g. `{ provisioners: [...] }`. */
    readonly settings?: Readonly<Record<string, unknown>>;
    /** Settings held as secrets (`pulumi config set --secret`), without namespace. */
    readonly secretSettings?: readonly string[];
    /**
     * The emulator's TLS identity, whose CA step-ca trusts (SSL_CERT_FILE); default one for cloudkms.googleapis.com.
     * Give one with more names to serve stand-ins of other Google endpoints behind `routes` with the same CA.
     */
    readonly tlsIdentity?: TlsIdentity;
    /** More CONNECT routes for step-ca (`host:443` → a loopback port), for stand-ins of Google endpoints. */
    readonly routes?: Readonly<Record<string, { host: string; port: number }>>;
    /** ca.json `db`: a shared PostgreSQL database instead of badger (the gce runtime's replicas). */
    readonly database?: PostgresDatabase;
    /**
     * How step-ca finds its Cloud KMS credentials: `file` (default) names the key file in ca.json's `kms.uri`, as the
     * docker runtime with a service-account key; `applicationDefault` leaves it out, as the gce runtime renders it,
     * and step-ca finds the same file through Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS).
     */
    readonly kmsCredentials?: "file" | "applicationDefault";
    /**
     * Which paths ca.json and defaults.json name: `host` (default) the files in the temp dir, for step-ca run here;
     * `container` the container's (CONTAINER_LAYOUT), as the program renders them, for step-ca in a container.
     */
    readonly paths?: "host" | "container";
}

/** The CA the program configured, ready for step-ca to start on it, and what the test needs to talk to it. */
export interface PreparedInteropCa {
    readonly tools: { stepCa: string; step: string };
    readonly tmp: string;
    readonly config: CaConfig;
    readonly files: StepCaLayout;
    readonly rootPem: string;
    readonly intermediatePem: string;
    readonly rootKeyVersion: string;
    readonly intermediateKeyVersion: string;
    /** The config provider's outputs (caJson, defaultsJson, provisionerPassword, jwkPasswords, ...). */
    readonly rendered: Outs;
    readonly emulator: KmsEmulator;
    /** The emulator's call log, from just before step-ca started. */
    readonly kmsLog: string[];
    /** Client on the emulator's plaintext port, for the test's own KMS calls. */
    readonly admin: KeyManagementServiceClient;
    /** The CA behind the emulator's TLS certificate (what SSL_CERT_FILE trusts). */
    readonly tlsIdentity: TlsIdentity;
    /** CONNECT authorities the proxy tunnelled and refused. */
    readonly tunnelled: string[];
    readonly refused: string[];
    /** step-ca's environment: HOME/STEPPATH as in the container, plus the routes to the emulator. */
    readonly stepCaEnv: NodeJS.ProcessEnv;
    /**
     * Starts a step-ca on these files (by default the rendered ca.json on `config.port`), stopped after the test.
     * Replicas pass their own ca.json (another listen address) and port.
     */
    startStepCa(o?: { caJson?: string; port?: number; env?: NodeJS.ProcessEnv }): Promise<StepCaProcess>;
    /** The step CLI with STEPPATH at the CA's files (defaults.json gives URL and root), run in `tmp`. */
    cli(args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult>;
    /** AsymmetricSign calls with `keyVersion` that ended in `outcome`, since step-ca started. */
    signsBy(keyVersion: string, outcome?: string): number;
}

/** A running step-ca over the CA the program configured. */
export interface InteropCa extends PreparedInteropCa {
    readonly stepCa: StepCaProcess;
}

/**
 * Stands the CA up as described above and starts step-ca, as the container starts it (argv, HOME/STEPPATH) plus the
 * routing variables. Everything is torn down after the test `t`.
 */
export async function startInteropCa(t: TestContext, options: InteropCaOptions = {}): Promise<InteropCa> {
    const ca = await prepareInteropCa(t, options);
    return { ...ca, stepCa: await ca.startStepCa() };
}

/** Everything {@link startInteropCa} does but starting step-ca: keys, certificates, files and routes. */
export async function prepareInteropCa(t: TestContext, options: InteropCaOptions = {}): Promise<PreparedInteropCa> {
    const tools = await installStep();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-interop-"));
    const cleanups: (() => Promise<void> | void)[] = [() => fs.rmSync(tmp, { recursive: true, force: true })];
    t.after(async () => {
        for (const cleanup of cleanups.reverse()) {
            try {
                await cleanup();
            } catch (e) {
                console.warn(`cleanup: ${(e as Error).message}`);
            }
        }
    });

    const port = await freePort();
    // One emulator, as `npm run local` runs it: the program's providers use its plaintext port, step-ca its TLS port
    // as cloudkms.googleapis.com, whose certificate the throwaway CA in SSL_CERT_FILE vouches for.
    const tlsIdentity = options.tlsIdentity ?? (await createTlsIdentity([CLOUD_KMS_HOST]));
    const kmsLog: string[] = [];
    const emulator = await startKmsEmulator({ hsmPendingMs: 0, tls: { certPem: tlsIdentity.certPem, keyPem: tlsIdentity.keyPem }, log: (l) => kmsLog.push(l) });
    cleanups.push(() => emulator.stop());
    const namespaced = (key: string) => `${PROJECT_NAME}:${key}`;
    const settings = Object.fromEntries(
        Object.entries(options.settings ?? {}).map(([k, v]) => [namespaced(k), typeof v === "string" ? v : JSON.stringify(v)]),
    );
    const config = validateConfig(
        PROJECT_NAME,
        {
            // Set explicitly: the emulator, like Cloud KMS, wants a 6-30 character project ID.
            "gcp:project": "stepca-interop",
            [namespaced("mode")]: "local",
            [namespaced("kmsEndpoint")]: emulator.address,
            [namespaced("dnsNames")]: JSON.stringify(["localhost", "127.0.0.1"]),
            [namespaced("port")]: String(port),
            ...settings,
        },
        (options.secretSettings ?? []).map(namespaced),
    );
    const kmsEndpoint = emulator.address;

    // --- keys on the emulator, through the program's emulator providers (the real @google-cloud/kms client) -----
    const suffix = randomBytes(3).toString("hex");
    const ring = (role: string) =>
        create(emulatorKeyRingProvider, {
            kmsEndpoint,
            project: config.project,
            location: config.kms.location,
            keyRingId: `${config.kms.keyRingPrefix}-${role}-${suffix}`,
        });
    const rootRing = await ring("root");
    const intermediateRing = config.kms.separateKeyRings ? await ring("intermediate") : rootRing;
    const key = (role: string, keyRing: Outs, algorithm: string) =>
        create(emulatorCryptoKeyProvider, {
            kmsEndpoint,
            keyRing: keyRing.name,
            cryptoKeyId: `${role}-${suffix}`,
            algorithm,
            protectionLevel: config.kms.protectionLevel,
            destroyScheduledDuration: config.kms.destroyScheduledDuration,
            labels: { app: "step-ca", role },
        });
    const rootKeyVersion = (await key("root", rootRing, config.kms.rootAlgorithm)).keyVersion as string;
    const intermediateKeyVersion = (await key("intermediate", intermediateRing, config.kms.intermediateAlgorithm)).keyVersion as string;

    // --- root and intermediate through the program's certificate providers ---------------------------------------
    const rootInputs = { keyVersion: rootKeyVersion, subject: subjectOf(config.root), validityDays: config.root.validityDays, kmsEndpoint };
    assert.deepEqual((await rootCertificateProvider.check!({}, rootInputs)).failures ?? [], []);
    const root = await create(rootCertificateProvider, rootInputs);
    const intermediateInputs = {
        keyVersion: intermediateKeyVersion,
        issuerKeyVersion: rootKeyVersion,
        issuerCertPem: root.certPem,
        subject: subjectOf(config.intermediate),
        validityDays: config.intermediate.validityDays,
        renewBeforeDays: config.intermediate.renewBeforeDays,
        kmsEndpoint,
        ...(config.nameConstraints && { nameConstraints: config.nameConstraints }),
    };
    assert.deepEqual((await intermediateCertificateProvider.check!({}, intermediateInputs)).failures ?? [], []);
    const intermediate = await create(intermediateCertificateProvider, intermediateInputs);
    const rootPem = root.certPem as string;
    const intermediatePem = intermediate.certPem as string;

    // --- step-ca's files: the container layout (STEPPATH /home/step, secrets /run/secrets/step-ca) in the temp dir,
    // turned into ca.json's paths by the same function the program uses; secrets as the program reads them ---------
    const files = stepCaLayout(path.join(tmp, "step"), path.join(tmp, "secrets"));
    const secrets = provisionerSecretsOf(options.settings?.provisioners);
    const configInputs = {
        intermediateKeyVersion,
        rootCertPem: rootPem,
        dnsNames: [...config.dnsNames],
        address: listenAddress(config.mode, config.port), // as the program renders it
        provisionerName: config.provisionerName,
        paths: stepCaPaths(options.paths === "container" ? CONTAINER_LAYOUT : files, options.kmsCredentials !== "applicationDefault"),
        ...(options.database && { database: options.database }),
        ...(config.provisioners && { provisioners: config.provisioners }),
        ...(config.provisionerSecretsGiven.passwords.length > 0 && { provisionerPasswords: secrets.passwords }),
        ...(config.provisionerSecretsGiven.clientSecrets.length > 0 && { clientSecrets: secrets.clientSecrets }),
        ...(config.claims && { claims: config.claims }),
        ...(config.policy && { policy: config.policy }),
    };
    assert.deepEqual((await stepCaConfigProvider.check!({}, configInputs)).failures ?? [], []);
    const rendered = await create(stepCaConfigProvider, configInputs);

    for (const dir of [path.dirname(files.caJson), path.dirname(files.rootCert), path.dirname(files.password), path.join(tmp, "home")]) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    fs.writeFileSync(files.caJson, rendered.caJson as string, { mode: 0o600 });
    fs.writeFileSync(files.defaultsJson, rendered.defaultsJson as string);
    fs.writeFileSync(files.rootCert, rootPem);
    fs.writeFileSync(files.intermediateCert, intermediatePem);
    // step-ca's --password-file: the program uploads the provisioner password there (unused with KMS keys).
    fs.writeFileSync(files.password, rendered.provisionerPassword as string, { mode: 0o600 });
    fs.writeFileSync(files.kmsCredentials, createServiceAccountJson(config.project), { mode: 0o600 });

    // --- step-ca's route to the emulator's TLS port; from here on, count only what step-ca does ------------------
    const trustFile = path.join(tmp, "test-ca.pem");
    fs.writeFileSync(trustFile, tlsIdentity.caCertPem);
    const emptyCertDir = fs.mkdtempSync(path.join(tmp, "no-certs-"));
    // The test's own calls (disable/enable the key) go to the plaintext port while step-ca uses TLS: one state.
    const admin = createKmsClient(emulator.address);
    cleanups.push(() => admin.close());
    const tunnelled: string[] = [];
    const refused: string[] = [];
    const proxy = await startConnectProxy({
        routes: { [KMS_AUTHORITY]: { host: "127.0.0.1", port: emulator.tlsPort! }, ...options.routes },
        onConnect: (authority, ok) => (ok ? tunnelled : refused).push(authority),
    });
    cleanups.push(() => proxy.stop());
    emulator.calls.reset();
    kmsLog.length = 0;

    const stepCaEnv: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: path.join(tmp, "home"), // writable HOME: the Google auth library looks for ~/.config/gcloud
        STEPPATH: files.stepPath,
        HTTPS_PROXY: proxy.url, // gRPC-Go: CONNECT cloudkms.googleapis.com:443 through the test proxy
        SSL_CERT_FILE: trustFile, // Go's crypto/x509: trust the test CA (and only it)
        SSL_CERT_DIR: emptyCertDir,
        ...(options.kmsCredentials === "applicationDefault" && { GOOGLE_APPLICATION_CREDENTIALS: files.kmsCredentials }),
    };
    const startReplica = async (o: { caJson?: string; port?: number; env?: NodeJS.ProcessEnv } = {}) => {
        const stepCa = await startStepCa({
            stepCa: tools.stepCa,
            args: ["--password-file", files.password, o.caJson ?? files.caJson],
            env: { ...stepCaEnv, ...o.env },
            port: o.port ?? config.port,
            serverName: config.dnsNames[0],
            rootPem,
            timeoutMs: 90_000,
        });
        cleanups.push(() => stepCa.stop());
        return stepCa;
    };

    return {
        tools,
        tmp,
        config,
        files,
        rootPem,
        intermediatePem,
        rootKeyVersion,
        intermediateKeyVersion,
        rendered,
        emulator,
        kmsLog,
        admin,
        tlsIdentity,
        tunnelled,
        refused,
        stepCaEnv,
        startStepCa: startReplica,
        cli: (args, env = {}) =>
            run(tools.step, args, {
                cwd: tmp,
                // No proxy variables: the CLI talks to step-ca directly; defaults.json (from STEPPATH) gives URL and root.
                env: { PATH: process.env.PATH, HOME: path.join(tmp, "home"), STEPPATH: files.stepPath, ...env },
                timeoutMs: 60_000,
            }),
        signsBy: (keyVersion, outcome = "OK") =>
            kmsLog.filter((l) => l.startsWith(`AsymmetricSign ${keyVersion} -> ${outcome}`)).length,
    };
}

/** The certificates in a PEM bundle, each with its trailing newline. */
export function splitPem(bundle: string): string[] {
    return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
