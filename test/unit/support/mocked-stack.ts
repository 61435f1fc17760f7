import { createHash, webcrypto } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { loadX509 } from "../../../lib/pki/x509";
import { type MonitorTap, type RegistrationRequest, tapMockMonitor } from "./mock-monitor";
import { SECRET_SIG, SECRET_SIG_KEY } from "./secrets";
import { stackConfig } from "./stack-files";

/** One resource as the mock monitor saw it. */
export interface MockedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** Inputs as registered (dynamic resources without `__provider`). */
    readonly inputs: Record<string, any>;
    /** State the mocks returned: inputs plus computed outputs. */
    readonly state: Record<string, any>;
    /** Type of the parent resource (from the URN); undefined for the top-level component. */
    readonly parentType: string | undefined;
    /** Resource options and raw (secret-marked) inputs, as sent to the engine. */
    readonly request: RegistrationRequest;
}

export type { RegistrationRequest } from "./mock-monitor";

/** A program run under mocks. */
export interface StackRun {
    readonly resources: readonly MockedResource[];
    /** Stack outputs, resolved; undefined exports left out. */
    readonly outputs: Record<string, unknown>;
    /** Names of the outputs marked secret. */
    readonly secretOutputs: ReadonlySet<string>;
    /** Problems the real dynamic providers' `check` found in the inputs they were given. */
    readonly checkFailures: readonly string[];
}

export const DYNAMIC = (type: string) => `pulumi-nodejs:dynamic/stepca:${type}`;

/**
 * Runs index.ts for a stack under Pulumi mocks, with the config the CLI would give it (stack file + Pulumi.yaml
 * defaults + `overrides`). index.ts registers at import, so each run loads it afresh; runs in one process must not
 * overlap (the mocks are process-wide), and tests keep to one run per process.
 *
 * Mocked outputs are plausible: GCP IDs in their real formats, certificates that parse, and for StepCaConfig the
 * real provider's output (it makes no KMS calls). Every dynamic resource's inputs also go through its real
 * provider's `check`, so argument mismatches with the providers fail here.
 */
export async function runStack(
    stack: string,
    overrides: Record<string, unknown> = {},
    secretKeys: string[] = [],
): Promise<StackRun> {
    pulumi.runtime.setAllConfig(stackConfig(stack, overrides), secretKeys);
    const checkFailures: string[] = [];
    const mocks: pulumi.runtime.Mocks = {
        call: (args) => {
            throw new Error(`unexpected invoke ${args.token}`);
        },
        newResource: async (args) => {
            const { __provider, ...inputs } = unsecret(args.inputs) as Record<string, any>;
            if (__provider !== undefined) {
                checkFailures.push(...(await checkDynamic(args.type, args.name, inputs)));
            }
            return mockResource(args.type, args.name, inputs);
        },
    };
    await pulumi.runtime.setMocks(mocks, "stepca-cloudkms", stack, false);
    registrations.length = 0;
    tap = tapMockMonitor();
    const { requests } = tap;
    delete require.cache[require.resolve(PROGRAM)];
    const program = require(PROGRAM) as Record<string, unknown>;

    const outputs: Record<string, unknown> = {};
    const secretOutputs = new Set<string>();
    for (const [key, value] of Object.entries(program)) {
        if (pulumi.Output.isInstance(value)) {
            outputs[key] = await promiseOf(value);
            if (await pulumi.isSecret(value)) {
                secretOutputs.add(key);
            }
        } else if (value !== undefined) {
            outputs[key] = value;
        }
    }
    // Everything registered by now; wait for the registrations still in flight.
    await pulumi.runtime.disconnect();

    const registered = new Map(registrations.map((r) => [r.key, r]));
    const resources: MockedResource[] = [];
    for (const urn of tap.registeredUrns()) {
        const [, typePath, name] = /^urn:pulumi:[^:]+::[^:]+::(.+)::([^:]+)$/.exec(urn)!;
        const types = typePath.split("$");
        const type = types[types.length - 1];
        const r = registered.get(`${type}::${name}`)!;
        const request = requests.get(`${type}::${name}`)!;
        const parentType = types.length > 1 ? types[types.length - 2] : undefined;
        resources.push({ urn, type, name, inputs: r.inputs, state: r.state, parentType, request });
    }
    return { resources, outputs, secretOutputs, checkFailures };
}

const PROGRAM = "../../../index";
const registrations: { key: string; inputs: Record<string, any>; state: Record<string, any> }[] = [];
/** The tap on the current run's mock monitor (test/unit/support/mock-monitor.ts). */
let tap: MonitorTap | undefined;

/** How many resources the last run registered: none, when the program stops at config validation. */
export function registeredCount(): number {
    return tap?.requests.size ?? 0;
}

/** The value with Pulumi's secret wrappers removed (the mocks API hands over some nested secrets wrapped). */
function unsecret(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(unsecret);
    }
    if (value === null || typeof value !== "object") {
        return value;
    }
    const record = value as Record<string, unknown>;
    if (record[SECRET_SIG_KEY] === SECRET_SIG) {
        return unsecret(record.value);
    }
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unsecret(v)]));
}

function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

async function mockResource(type: string, name: string, inputs: Record<string, any>) {
    const state = { ...inputs, ...(await computedOutputs(type, name, inputs)) };
    registrations.push({ key: `${type}::${name}`, inputs, state });
    const id = state.__id ?? (type.startsWith("stepca:") ? undefined : `${name}-id`);
    delete state.__id;
    return { id, state };
}

/** Outputs the real providers would compute, in their real formats. `__id` is the resource ID. */
async function computedOutputs(type: string, name: string, inputs: Record<string, any>): Promise<Record<string, any>> {
    switch (type) {
        case "gcp:projects/service:Service":
            return { __id: `${inputs.project}/${inputs.service}` };
        case "gcp:kms/keyRing:KeyRing":
            return { __id: `projects/${inputs.project}/locations/${inputs.location}/keyRings/${inputs.name}` };
        case "gcp:kms/cryptoKey:CryptoKey":
            return { __id: `${inputs.keyRing}/cryptoKeys/${inputs.name}`, primaries: [] };
        case "gcp:serviceaccount/account:Account": {
            const email = `${inputs.accountId}@${inputs.project}.iam.gserviceaccount.com`;
            return {
                __id: `projects/${inputs.project}/serviceAccounts/${email}`,
                email,
                name: `projects/${inputs.project}/serviceAccounts/${email}`,
                member: `serviceAccount:${email}`,
            };
        }
        case "gcp:serviceaccount/key:Key":
            return {
                privateKey: Buffer.from(JSON.stringify({ type: "service_account", private_key: "MOCK" })).toString("base64"),
            };
        case "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember":
            return { etag: "BwY=" };
        case "gcp:compute/network:Network":
            return { __id: `projects/${inputs.project}/global/networks/${name}`, name };
        case "gcp:compute/subnetwork:Subnetwork":
            return { __id: `projects/${inputs.project}/regions/${inputs.region}/subnetworks/${name}`, name };
        case "gcp:compute/address:Address": {
            // Documentation ranges: a private address in the subnet, or TEST-NET-3 for an external one.
            const address = inputs.addressType === "INTERNAL" ? "10.20.0.10" : "203.0.113.10";
            return { __id: `projects/${inputs.project}/regions/${inputs.region}/addresses/${name}`, name, address };
        }
        case "gcp:compute/globalAddress:GlobalAddress":
        case "gcp:compute/router:Router":
            return { name };
        case "gcp:compute/instanceTemplate:InstanceTemplate": {
            const template = `projects/${inputs.project}/global/instanceTemplates/${inputs.namePrefix}${sha256(name).slice(0, 8)}`;
            return { __id: template, selfLink: template, selfLinkUnique: `${template}?uniqueId=4242` };
        }
        case "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager":
            return { instanceGroup: `projects/${inputs.project}/regions/${inputs.region}/instanceGroups/${name}` };
        case "gcp:compute/regionHealthCheck:RegionHealthCheck":
            return { __id: `projects/${inputs.project}/regions/${inputs.region}/healthChecks/${name}` };
        case "gcp:compute/regionBackendService:RegionBackendService":
            return { __id: `projects/${inputs.project}/regions/${inputs.region}/backendServices/${name}` };
        case "gcp:sql/databaseInstance:DatabaseInstance":
            return { name, connectionName: `${inputs.project}:${inputs.region}:${name}` };
        case "gcp:secretmanager/secret:Secret":
            return { __id: `projects/${inputs.project}/secrets/${inputs.secretId}`, name: `projects/123456789012/secrets/${inputs.secretId}` };
        case "gcp:secretmanager/secretVersion:SecretVersion":
            return { name: `${String(inputs.secret).replace(/^projects\/[^/]+/, "projects/123456789012")}/versions/1` };
        case "gcp:secretmanager/secretIamMember:SecretIamMember":
        case "gcp:projects/iAMMember:IAMMember":
            return { etag: "BwY=" };
        case "random:index/randomPassword:RandomPassword":
            return { result: `mock-${sha256(name).slice(0, 26)}` };
        case "docker:index/remoteImage:RemoteImage":
            return { imageId: `sha256:${sha256(inputs.name)}`, repoDigest: `${inputs.name}@sha256:${sha256(inputs.name)}` };
        case "docker:index/volume:Volume":
            return { __id: inputs.name };
        case "docker:index/container:Container":
            return { __id: sha256(name) };
        case DYNAMIC("NameSuffix"):
            return { hex: sha256(name).slice(0, 2 * inputs.byteLength) };
        case DYNAMIC("EmulatorKeyRing"): {
            const ring = `projects/${inputs.project}/locations/${inputs.location}/keyRings/${inputs.keyRingId}`;
            return { __id: ring, name: ring };
        }
        case DYNAMIC("EmulatorCryptoKey"): {
            const key = `${inputs.keyRing}/cryptoKeys/${inputs.cryptoKeyId}`;
            return { __id: key, name: key, keyVersion: `${key}/cryptoKeyVersions/1` };
        }
        case DYNAMIC("RootCertificate"):
        case DYNAMIC("IntermediateCertificate"): {
            const certPem = await mockCertificate(inputs.subject.commonName);
            const { certificateFingerprint } = await import("../../../lib/pki/fingerprint");
            const fingerprint = certificateFingerprint(certPem);
            return { __id: fingerprint, certPem, fingerprint, keyVersionState: "ENABLED", publicKeyMatchesKeyVersion: true };
        }
        case DYNAMIC("StepCaConfig"): {
            const { stepCaConfigProvider } = await import("../../../dynamic-providers/step-ca-config");
            const { id, outs } = await stepCaConfigProvider.create(inputs);
            return { ...outs, __id: id };
        }
        case DYNAMIC("LocalBundle"):
            return { __id: inputs.paths.caJson };
        default:
            return {};
    }
}

/** Runs the real provider's `check` on the inputs a dynamic resource was registered with. */
async function checkDynamic(type: string, name: string, inputs: Record<string, any>): Promise<string[]> {
    const providers: Record<string, () => Promise<pulumi.dynamic.ResourceProvider>> = {
        [DYNAMIC("NameSuffix")]: async () => (await import("../../../dynamic-providers/name-suffix")).nameSuffixProvider,
        [DYNAMIC("EmulatorKeyRing")]: async () =>
            (await import("../../../dynamic-providers/emulator/emulator-key-ring")).emulatorKeyRingProvider,
        [DYNAMIC("EmulatorCryptoKey")]: async () =>
            (await import("../../../dynamic-providers/emulator/emulator-crypto-key")).emulatorCryptoKeyProvider,
        [DYNAMIC("RootCertificate")]: async () =>
            (await import("../../../dynamic-providers/certificates/root-certificate")).rootCertificateProvider,
        [DYNAMIC("IntermediateCertificate")]: async () =>
            (await import("../../../dynamic-providers/certificates/intermediate-certificate")).intermediateCertificateProvider,
        [DYNAMIC("StepCaConfig")]: async () =>
            (await import("../../../dynamic-providers/step-ca-config")).stepCaConfigProvider,
        [DYNAMIC("LocalBundle")]: async () => (await import("../../../dynamic-providers/local-bundle")).localBundleProvider,
        // Its check reads the key version's state from KMS (none here): test/providers/offline-root.test.ts runs it.
        [DYNAMIC("OfflineKeyVersion")]: async () => {
            const { offlineKeyVersionProvider } = await import("../../../dynamic-providers/offline-key-version");
            return { ...offlineKeyVersionProvider, check: undefined };
        },
        [DYNAMIC("ContainerHealth")]: async () =>
            (await import("../../../dynamic-providers/docker/container-health")).containerHealthProvider,
    };
    const load = providers[type];
    if (!load) {
        return [`${name}: no provider known for ${type}`];
    }
    const provider = await load();
    const result = provider.check ? await provider.check({}, inputs) : { failures: [] };
    return (result.failures ?? []).map((f) => `${name}.${f.property}: ${f.reason}`);
}

/** A real (self-signed, EC P-256) certificate with the given CN: parseable wherever a PEM is read. */
async function mockCertificate(commonName: string): Promise<string> {
    const x509 = loadX509();
    const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const keys = await webcrypto.subtle.generateKey(algorithm, false, ["sign", "verify"]);
    type Generate = typeof x509.X509CertificateGenerator.createSelfSigned;
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
        {
            name: `CN=${commonName}`,
            keys: keys as Parameters<Generate>[0]["keys"],
            signingAlgorithm: algorithm,
            notBefore: new Date(),
            notAfter: new Date(Date.now() + 86_400_000),
        },
        webcrypto as unknown as Parameters<Generate>[1],
    );
    return cert.toString("pem");
}

function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

/** The resources of a type. */
export function ofType(run: StackRun, type: string): MockedResource[] {
    return run.resources.filter((r) => r.type === type);
}

/** The one resource of a type and name suffix; fails if there is not exactly one. */
export function one(run: StackRun, type: string, nameSuffix = ""): MockedResource {
    const found = ofType(run, type).filter((r) => r.name.endsWith(nameSuffix));
    if (found.length !== 1) {
        throw new Error(`expected one ${type} named *${nameSuffix}, found ${found.map((r) => r.name).join(", ") || "none"}`);
    }
    return found[0];
}
