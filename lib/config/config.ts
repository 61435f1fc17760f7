import { isIP, isIPv6 } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import { RunError } from "@pulumi/pulumi/errors";
import type { CertificateSubject } from "../pki/certificate-templates";
import { ALL_CLOUD_KMS_LOCATIONS, CLOUD_KMS_LOCATIONS, isCloudKmsLocation } from "./locations";
import { GCE_SETTINGS, LOCAL_DOCKER_SETTINGS, SETTINGS, SECRET_SETTINGS, SettingName, SettingSpec } from "./settings";
import { cidrProblem, isZoneOf } from "./network-values";
import { closestMatch, dnsNamesProblems, parseKmsDuration } from "./values";
import type { KmsSigningAlgorithmName } from "../kms/algorithms";
import { parseEndpoint } from "../kms/client";
import type { Claims } from "../step-ca/claims";
import type { ProvisionerSpec } from "../step-ca/provisioners";
import type { X509Policy } from "../step-ca/x509-policy";
import type { NameConstraints } from "../pki/name-constraints";
import { readAuthorityClaims, readNameConstraints, readPolicy } from "./issuance";
import { passwordWhitespaceProblem, readProvisioners } from "./provisioners";

/**
 * The short alias the config accepts for each Cloud KMS signing algorithm the certificate providers support.
 * SHA-512 variants are reachable by their KMS names only.
 */
export const SIGNING_ALGORITHM_ALIASES: Readonly<Record<KmsSigningAlgorithmName, string | undefined>> = {
    EC_SIGN_P256_SHA256: "EC-P256",
    EC_SIGN_P384_SHA384: "EC-P384",
    RSA_SIGN_PKCS1_2048_SHA256: "RSA-2048",
    RSA_SIGN_PKCS1_3072_SHA256: "RSA-3072",
    RSA_SIGN_PKCS1_4096_SHA256: "RSA-4096",
    RSA_SIGN_PKCS1_4096_SHA512: undefined,
    RSA_SIGN_PSS_2048_SHA256: "RSA-PSS-2048",
    RSA_SIGN_PSS_3072_SHA256: "RSA-PSS-3072",
    RSA_SIGN_PSS_4096_SHA256: "RSA-PSS-4096",
    RSA_SIGN_PSS_4096_SHA512: undefined,
};

export type Mode = "gcp" | "local";
/** How step-ca runs in local mode: on the bundle written to a directory, or in a container on the local engine. */
export type LocalRuntime = "bundle" | "docker";
/** Where step-ca runs in gcp mode: one Docker container, or a managed instance group on Compute Engine. */
export type Runtime = "docker" | "gce";
/** How step-ca authenticates to Cloud KMS: a service-account JSON key, or Application Default Credentials. */
export type KmsCredentials = "serviceAccountKey" | "applicationDefault";
export type ProtectionLevel = "SOFTWARE" | "HSM";

/** Project of the key names on the emulator when `gcp:project` is not set (a valid project ID, as KMS checks). */
export const LOCAL_PROJECT = "stepca-local";

/** Cloud KMS keeps destroyed versions recoverable for 24 hours at least and 120 days at most. */
export const MIN_DESTROY_SCHEDULED_SECONDS = 24 * 3600;
export const MAX_DESTROY_SCHEDULED_SECONDS = 120 * 24 * 3600;

/** Where the CA keys live and how they are protected. */
export interface KmsSettings {
    /** Cloud KMS location (region, multi-region or `global`). */
    readonly location: string;
    readonly keyRingPrefix: string;
    /** Root and intermediate keys in separate key rings, so ring-level grants can never reach the root. */
    readonly separateKeyRings: boolean;
    readonly rootAlgorithm: KmsSigningAlgorithmName;
    readonly intermediateAlgorithm: KmsSigningAlgorithmName;
    readonly protectionLevel: ProtectionLevel;
    /** Protobuf duration in seconds, e.g. `"86400s"`, as the KMS API takes it. */
    readonly destroyScheduledDuration: string;
    readonly protectRootKey: boolean;
    /** The root key version stays DISABLED except while `pulumi up` signs with it. */
    readonly offlineRootKey: boolean;
}

/** The gce runtime: VMs, load balancer, network and database. */
export interface GceSettings {
    /** Compute Engine region of the instance group, load balancer and Cloud SQL instance. */
    readonly region: string;
    /** Zones the replicas spread over; empty lets Compute Engine choose. */
    readonly zones: readonly string[];
    readonly replicas: number;
    readonly machineType: string;
    /** IPv4 range of the subnet the stack creates. */
    readonly subnetCidr: string;
    /** IPv4 ranges allowed to reach the CA port. */
    readonly clientCidrs: readonly string[];
    readonly loadBalancer: "internal" | "external";
    /** Cloud DNS managed zone for an A record of dnsNames[0]; empty for none. */
    readonly dnsZone: string;
    readonly databaseTier: string;
}

/** Most replicas the gce runtime accepts: a CA needs a few for availability, not a fleet. */
export const MAX_REPLICAS = 20;

/** Subject and lifetime of one CA certificate. */
export interface CertificateSettings {
    readonly commonName: string;
    /** Empty means no O attribute. */
    readonly organization: string;
    readonly validityDays: number;
}

/** The validated stack configuration; secrets are not part of it. */
export interface CaConfig {
    readonly mode: Mode;
    /** GCP project (`gcp:project`); in local mode the project part of key names, {@link LOCAL_PROJECT} unless set. */
    readonly project: string;
    /** `host:port` of the local KMS emulator; set in local mode only. */
    readonly kmsEndpoint?: string;
    readonly kms: KmsSettings;
    /** gcp mode: where step-ca runs (local mode: "docker", unused). */
    readonly runtime: Runtime;
    /** gcp mode: whether a service-account key is created and handed to step-ca (local mode: unused). */
    readonly kmsCredentials: KmsCredentials;
    readonly root: CertificateSettings;
    readonly intermediate: CertificateSettings & { readonly renewBeforeDays: number };
    readonly dnsNames: readonly string[];
    readonly port: number;
    readonly provisionerName: string;
    /** Whether provisionerPassword is set; read its value with `getSecret`. Unset means generate one. */
    readonly provisionerPasswordGiven: boolean;
    /**
     * The provisioners, without their secrets; undefined = the single JWK provisioner `provisionerName`. Read the
     * secrets with `provisionerSecretsOf` from the setting as a secret.
     */
    readonly provisioners?: readonly ProvisionerSpec[];
    /** Names of provisioners whose secret the setting carries: JWK passwords and OIDC client secrets. */
    readonly provisionerSecretsGiven: { readonly passwords: readonly string[]; readonly clientSecrets: readonly string[] };
    /** Authority-wide lifetimes (ca.json `authority.claims`); undefined = step-ca's defaults. */
    readonly claims?: Claims;
    /** ca.json `authority.policy.x509`; undefined = none. */
    readonly policy?: X509Policy;
    /** NameConstraints in the intermediate; undefined = none. */
    readonly nameConstraints?: NameConstraints;
    readonly image: string;
    readonly localBundleDir: string;
    /** Local mode's docker flavour; undefined otherwise. */
    readonly localDocker?: LocalDockerSettings;
    /** Set for the gce runtime in gcp mode only. */
    readonly gce?: GceSettings;
}

/** The local stack's docker flavour: step-ca in a container, reaching the emulator as `npm run local`'s does. */
export interface LocalDockerSettings {
    /** The emulator's CONNECT proxy on 127.0.0.1. */
    readonly kmsProxyPort: number;
    /** Directory with the emulator's tls-ca.crt and service-account.json (relative to the project, or absolute). */
    readonly kmsCredentialsDir: string;
}

/** Shortest provisioner password accepted: ca.json carries the encrypted key, open to offline guessing. */
export const MIN_PROVISIONER_PASSWORD_LENGTH = 12;

/**
 * Thrown when the stack configuration is invalid. One error lists every problem with its fix, so a user fixes
 * the stack in one round instead of one `pulumi preview` per mistake. A RunError, so Pulumi prints the message
 * without a stack trace.
 */
export class ConfigError extends RunError {
    constructor(readonly problems: readonly string[]) {
        super(
            `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** What {@link validateConfig} may look at beyond the settings. */
export interface ValidationOptions {
    /**
     * The problem with `localBundleDir` as found on disk (a phrase following the setting's name), or undefined; the
     * program passes {@link localBundleDirProblem}. Omitted: not checked, and validation stays pure.
     */
    readonly bundleDirProblem?: (dir: string) => string | undefined;
}

/**
 * Validates the stack configuration and returns it typed, or throws one {@link ConfigError} naming every problem.
 *
 * Pure unless `options` look at the disk: `values` is the whole config map as `pulumi.runtime.allConfig()` returns
 * it (namespaced keys, string values, lists as JSON); defaults from {@link SETTINGS} fill in missing keys. `secretKeys` are the keys the stack
 * holds as secrets ({@link secretConfigKeys}); a secret setting given in plain text is a problem.
 */
export function validateConfig(
    projectName: string,
    values: Readonly<Record<string, string>>,
    secretKeys: Iterable<string> = [],
    options: ValidationOptions = {},
): CaConfig {
    const problems: string[] = [];
    const secret = new Set(secretKeys);
    const v = new Reader(projectName, values, problems);

    for (const key of Object.keys(values)) {
        if (!key.startsWith(`${projectName}:`)) {
            continue;
        }
        const name = key.slice(projectName.length + 1);
        if (!(name in SETTINGS)) {
            const guess = closestSetting(name);
            problems.push(
                `${key} is not a setting of this program${guess ? `; did you mean ${guess}?` : ""} ` +
                    `Remove it with \`pulumi config rm ${name}\`.`,
            );
        }
    }

    const mode = v.oneOf("mode", ["gcp", "local"] as const);
    const kmsEndpoint = v.string("kmsEndpoint").trim();
    if (mode === "local") {
        if (!kmsEndpoint) {
            problems.push(
                `${v.key("kmsEndpoint")} is required in local mode: the host:port of the local KMS emulator. ` +
                    `Set it with \`pulumi config set kmsEndpoint 127.0.0.1:8085\`.`,
            );
        } else {
            try {
                parseEndpoint(kmsEndpoint);
            } catch (e) {
                problems.push(`${v.key("kmsEndpoint")}: ${(e as Error).message}.`);
            }
        }
    } else if (kmsEndpoint) {
        problems.push(
            `${v.key("kmsEndpoint")} is set but mode is "gcp"; it points the program at a local KMS emulator and is ` +
                `used in local mode only. Remove it with \`pulumi config rm kmsEndpoint\`, or set mode to local.`,
        );
    }

    const runtime = v.oneOf("runtime", ["docker", "gce"] as const);
    const kmsCredentialsSetting = v.string("kmsCredentials").trim();
    const kmsCredentials = kmsCredentialsSetting
        ? v.oneOf("kmsCredentials", ["serviceAccountKey", "applicationDefault"] as const)
        : runtime === "gce"
          ? "applicationDefault"
          : "serviceAccountKey";
    if (mode === "local" && (runtime !== "docker" || kmsCredentialsSetting)) {
        problems.push(
            `${v.key("runtime")} and ${v.key("kmsCredentials")} choose how step-ca runs in GCP and are not used in ` +
                "local mode (step-ca reaches the emulator without credentials). Remove them with " +
                "`pulumi config rm runtime` and `pulumi config rm kmsCredentials`.",
        );
    }
    if (mode === "gcp" && runtime === "gce" && kmsCredentials === "serviceAccountKey") {
        problems.push(
            `${v.key("kmsCredentials")} "serviceAccountKey" does not apply to the gce runtime: its VMs run as the ` +
                "CA's service account and use Application Default Credentials, so no key is ever created. Remove it " +
                "with `pulumi config rm kmsCredentials` (or set it to applicationDefault).",
        );
    }
    const gceRuntime = mode === "gcp" && runtime === "gce";
    const misplaced = gceRuntime ? [] : GCE_SETTINGS.filter((name) => !v.isDefault(name));
    if (misplaced.length > 0) {
        problems.push(
            `${misplaced.map((name) => v.key(name)).join(", ")} ${misplaced.length === 1 ? "belongs" : "belong"} to ` +
                `the gce runtime, but ${mode === "local" ? "mode is local" : `runtime is "${runtime}"`}. Remove ` +
                `${misplaced.length === 1 ? "it" : "them"} (${misplaced.map((n) => `\`pulumi config rm ${n}\``).join(", ")}), ` +
                "or set `pulumi config set runtime gce`.",
        );
    }

    const gcpProject = values["gcp:project"]?.trim() ?? "";
    if (mode === "gcp" && !gcpProject) {
        problems.push(
            "gcp:project is required in gcp mode: the GCP project to create the CA in. " +
                "Set it with `pulumi config set gcp:project <project-id>`.",
        );
    } else if (gcpProject && !/^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(gcpProject)) {
        problems.push(
            `gcp:project "${gcpProject}" is not a GCP project ID (6-30 lowercase letters, digits and hyphens, ` +
                "starting with a letter; the ID, not the display name or number). " +
                "Set it with `pulumi config set gcp:project <project-id>`.",
        );
    }

    const location = v.string("location").trim();
    if (!isCloudKmsLocation(location)) {
        problems.push(locationProblem(v.key("location"), location));
    }

    const keyRingPrefix = v.string("keyRingPrefix");
    if (!/^[a-zA-Z0-9_-]{1,40}$/.test(keyRingPrefix)) {
        problems.push(
            `${v.key("keyRingPrefix")} "${keyRingPrefix}" must be 1-40 letters, digits, "-" or "_" ` +
                "(key ring names add a role and a random suffix, 63 characters in all). " +
                "Example: `pulumi config set keyRingPrefix step-ca`.",
        );
    }

    const separateKeyRings = v.boolean("separateKeyRings");
    const protectRootKey = v.boolean("protectRootKey");
    const offlineRootKey = v.boolean("offlineRootKey");
    const rootAlgorithm = v.algorithm("rootAlgorithm");
    const intermediateAlgorithm = v.algorithm("intermediateAlgorithm");
    const protectionLevel = v.oneOf("protectionLevel", ["SOFTWARE", "HSM"] as const);
    const destroyScheduledDuration = v.destroyDuration("destroyScheduledDuration");

    const organization = v.string("organization").trim();
    const rootCommonName = v.commonName("rootCommonName");
    const intermediateCommonName = v.commonName("intermediateCommonName");
    if (organization.length > 64) {
        problems.push(`${v.key("organization")} is ${organization.length} characters; X.509 allows at most 64.`);
    }
    if (rootCommonName && rootCommonName === intermediateCommonName) {
        problems.push(
            `${v.key("rootCommonName")} and ${v.key("intermediateCommonName")} are both "${rootCommonName}"; ` +
                "an intermediate named like its issuer looks self-signed to clients building chains. " +
                "Give them different names, e.g. `pulumi config set intermediateCommonName " +
                `"${organization || "Step CA"} Intermediate CA"\`.`,
        );
    }

    const rootValidityDays = v.integer("rootValidityDays", 1, 36500);
    const intermediateValidityDays = v.integer("intermediateValidityDays", 1, 36500);
    const renewBeforeDays = v.integer("renewBeforeDays", 0, 36500);
    if (!isNaN(rootValidityDays) && !isNaN(intermediateValidityDays) && intermediateValidityDays >= rootValidityDays) {
        problems.push(
            `${v.key("intermediateValidityDays")} (${intermediateValidityDays}) must be shorter than ` +
                `${v.key("rootValidityDays")} (${rootValidityDays}): an intermediate must not outlive the root that ` +
                "signs it. Lower intermediateValidityDays or raise rootValidityDays.",
        );
    }
    if (!isNaN(renewBeforeDays) && !isNaN(intermediateValidityDays) && renewBeforeDays >= intermediateValidityDays) {
        problems.push(
            `${v.key("renewBeforeDays")} (${renewBeforeDays}) must be shorter than ` +
                `${v.key("intermediateValidityDays")} (${intermediateValidityDays}), or every \`pulumi up\` would ` +
                "re-mint the intermediate. The usual value is 30.",
        );
    }

    const dnsNames = v.dnsNames("dnsNames");
    if (mode === "local" && dnsNames[0] !== undefined && isIPv6(dnsNames[0])) {
        problems.push(
            `${v.key("dnsNames")}[0] "${dnsNames[0]}" is an IPv6 address, but in local mode step-ca listens on ` +
                "127.0.0.1 and the CA URL uses the first name, so clients (and the health check) could not reach it. " +
                "Put localhost or 127.0.0.1 first: `pulumi config set --path 'dnsNames[0]' localhost`.",
        );
    }
    const port = v.integer("port", 1, 65535);
    const provisionerName = v.string("provisionerName").trim();
    if (!provisionerName) {
        problems.push(
            `${v.key("provisionerName")} is empty; clients name the JWK provisioner when asking for certificates. ` +
                "Set it with `pulumi config set provisionerName admin`.",
        );
    }
    const provisionerPassword = values[v.key("provisionerPassword")] ?? "";
    if (provisionerPassword && !secret.has(v.key("provisionerPassword"))) {
        problems.push(
            `${v.key("provisionerPassword")} is set in plain text (without --secret), so it sits readable in the ` +
                "stack's config file (and wherever that file is committed). Choose a new password (this one is " +
                "exposed) and set it with `pulumi config set --secret provisionerPassword …`, or remove it " +
                "(`pulumi config rm provisionerPassword`): a new stack then gets a generated password, an existing " +
                "stack keeps the one it has.",
        );
    }
    if (provisionerPassword !== provisionerPassword.trim()) {
        problems.push(passwordWhitespaceProblem(v.key("provisionerPassword"), "provisionerPassword"));
    }
    if (provisionerPassword && provisionerPassword.length < MIN_PROVISIONER_PASSWORD_LENGTH) {
        problems.push(
            `${v.key("provisionerPassword")} is shorter than ${MIN_PROVISIONER_PASSWORD_LENGTH} characters; ca.json ` +
                "holds the provisioner key encrypted under it, open to offline guessing. Set a longer one with " +
                "`pulumi config set --secret provisionerPassword`, or remove it (`pulumi config rm " +
                "provisionerPassword`): a new stack then gets a generated password, an existing stack keeps the " +
                "one it has.",
        );
    }
    const authority = readAuthorityClaims(v.key("claims"), v.string("claims"), problems);
    const provisioners = readProvisioners({
        key: v.key("provisioners"),
        text: v.string("provisioners"),
        secret: secret.has(v.key("provisioners")),
        lifetimes: authority.lifetimes,
        minPasswordLength: MIN_PROVISIONER_PASSWORD_LENGTH,
        problems,
    });
    if (provisioners.specs && provisionerPassword) {
        problems.push(
            `${v.key("provisionerPassword")} is set, but so is ${v.key("provisioners")}; the password belongs to the ` +
                "single JWK provisioner used when provisioners is empty. Give it to a JWK entry instead " +
                "(`pulumi config set --secret --path 'provisioners[0].password' …`) and `pulumi config rm " +
                "provisionerPassword`.",
        );
    }
    if (provisioners.specs && provisionerName !== SETTINGS.provisionerName.default) {
        problems.push(
            `${v.key("provisionerName")} is set, but so is ${v.key("provisioners")}, which names every provisioner. ` +
                "Add a JWK entry with that name to provisioners and `pulumi config rm provisionerName`.",
        );
    }
    const policy = readPolicy(v.key("policy"), v.string("policy"), dnsNames, problems);
    const nameConstraints = readNameConstraints(v.key("nameConstraints"), v.string("nameConstraints"), dnsNames, problems);
    const image = v.string("image").trim();
    const wellFormed = /^(?:[^\s/@]+\/)*[^\s:/@]+(?::\w[\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/.test(image);
    if (!wellFormed || !/[:@][^/]*$/.test(image)) {
        problems.push(
            `${v.key("image")} "${image}" is not a pinned image reference; name a version tag or digest so every ` +
                "`pulumi up` runs the same step-ca: `pulumi config set image smallstep/step-ca:0.30.2`.",
        );
    } else if (/:latest$/.test(image)) {
        problems.push(
            `${v.key("image")} "${image}" uses the moving "latest" tag; pin a version: ` +
                "`pulumi config set image smallstep/step-ca:0.30.2`.",
        );
    }
    const localRuntime = v.oneOf("localRuntime", ["bundle", "docker"] as const);
    const localDocker = mode === "local" && localRuntime === "docker";
    // The docker flavour writes no bundle.
    const localBundle = mode === "local" && !localDocker;
    const localBundleDir = v.string("localBundleDir").trim();
    if (localBundle && !localBundleDir) {
        problems.push(
            `${v.key("localBundleDir")} is empty; local mode writes the step-ca bundle there. ` +
                "Set it with `pulumi config set localBundleDir .local/bundle`.",
        );
    } else if (localBundle && options.bundleDirProblem) {
        const problem = options.bundleDirProblem(localBundleDir);
        if (problem) problems.push(`${v.key("localBundleDir")} ${problem}`);
    }

    const notHere = [...(mode === "local" ? [] : ["localRuntime" as const]), ...(localDocker ? [] : LOCAL_DOCKER_SETTINGS)]
        .filter((name) => !v.isDefault(name));
    if (notHere.length > 0) {
        problems.push(
            `${notHere.map((name) => v.key(name)).join(", ")} ${notHere.length === 1 ? "belongs" : "belong"} to the ` +
                `local stack's docker flavour (mode local, localRuntime docker), but ${mode === "local" ? "localRuntime is \"bundle\"" : "mode is gcp"}. ` +
                `Remove ${notHere.length === 1 ? "it" : "them"} (${notHere.map((n) => `\`pulumi config rm ${n}\``).join(", ")}).`,
        );
    }
    const kmsProxyPort = v.integer("localKmsProxyPort", 1, 65535);
    const kmsCredentialsDir = v.string("localKmsCredentialsDir").trim();
    if (localDocker && !kmsCredentialsDir) {
        problems.push(
            `${v.key("localKmsCredentialsDir")} is empty; the docker flavour hands step-ca the emulator's throwaway ` +
                "credentials from there. Set it with `pulumi config set localKmsCredentialsDir .local/kms-credentials`.",
        );
    }
    if (localDocker && kmsProxyPort === port) {
        problems.push(
            `${v.key("localKmsProxyPort")} and ${v.key("port")} are both ${port}; with host networking step-ca and ` +
                "the emulator's proxy would claim the same port on 127.0.0.1. Choose another one for either.",
        );
    }

    const gce = gceRuntime ? readGceSettings(v, location, dnsNames, port, problems) : undefined;

    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return {
        mode,
        project: gcpProject || LOCAL_PROJECT,
        kmsEndpoint: mode === "local" ? kmsEndpoint : undefined,
        runtime,
        kmsCredentials,
        kms: {
            location,
            keyRingPrefix,
            separateKeyRings,
            rootAlgorithm,
            intermediateAlgorithm,
            protectionLevel,
            destroyScheduledDuration,
            protectRootKey,
            offlineRootKey,
        },
        root: { commonName: rootCommonName, organization, validityDays: rootValidityDays },
        intermediate: {
            commonName: intermediateCommonName,
            organization,
            validityDays: intermediateValidityDays,
            renewBeforeDays,
        },
        dnsNames,
        port,
        provisionerName,
        provisionerPasswordGiven: provisionerPassword !== "",
        provisioners: provisioners.specs,
        provisionerSecretsGiven: { passwords: provisioners.passwordsGiven, clientSecrets: provisioners.clientSecretsGiven },
        claims: authority.claims,
        policy,
        nameConstraints,
        image,
        localBundleDir,
        ...(localDocker && { localDocker: { kmsProxyPort, kmsCredentialsDir } }),
        ...(gce && { gce }),
    };
}

/** The gce runtime's settings, each problem recorded: region and zones, replicas, ranges, load balancer, DNS. */
function readGceSettings(
    v: Reader,
    location: string,
    dnsNames: readonly string[],
    port: number,
    problems: string[],
): GceSettings {
    const regions: readonly string[] = CLOUD_KMS_LOCATIONS.regions;
    const regionSetting = v.string("region").trim();
    const region = regionSetting || (regions.includes(location) ? location : "");
    if (!regionSetting && !region) {
        problems.push(
            `${v.key("region")} is required: location "${location}" is not a single region, and the instance ` +
                "group, load balancer and Cloud SQL live in one. Choose a region inside it, e.g. " +
                "`pulumi config set region europe-west1`.",
        );
    } else if (!regions.includes(region)) {
        const guess = closestMatch(region, regions, 3);
        problems.push(
            `${v.key("region")} "${region}" is not a Compute Engine region${guess ? `; did you mean "${guess}"?` : ""}. ` +
                "The instance group and Cloud SQL need a region such as europe-west1 " +
                "(https://cloud.google.com/compute/docs/regions-zones).",
        );
    }
    const zones = v.stringList("zones");
    for (const zone of zones.filter((z) => !isZoneOf(z, region))) {
        problems.push(
            `${v.key("zones")} entry "${zone}" is not a zone of region "${region}"; zones are the region and a ` +
                `letter, e.g. ${region}-b. Fix it with \`pulumi config set --path 'zones[0]' ${region}-b\`.`,
        );
    }
    if (new Set(zones).size !== zones.length) {
        problems.push(`${v.key("zones")} lists a zone more than once.`);
    }
    const replicas = v.integer("replicas", 1, MAX_REPLICAS);
    const machineType = v.string("machineType").trim();
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)+$/.test(machineType)) {
        problems.push(
            `${v.key("machineType")} "${machineType}" is not a Compute Engine machine type. ` +
                "Example: `pulumi config set machineType e2-small`.",
        );
    }
    const subnetCidr = v.string("subnetCidr").trim();
    const subnetProblem = cidrProblem(subnetCidr);
    if (subnetProblem || Number(subnetCidr.split("/")[1]) > 29) {
        problems.push(
            `${v.key("subnetCidr")} "${subnetCidr}" ${subnetProblem ?? "is smaller than a /29, the smallest subnet GCP allows"}. ` +
                "Example: `pulumi config set subnetCidr 10.20.0.0/24`.",
        );
    }
    const clientCidrs = v.stringList("clientCidrs");
    if (clientCidrs.length === 0) {
        problems.push(
            `${v.key("clientCidrs")} is empty; the firewall lets only these ranges reach the CA port. Set at least ` +
                "one: `pulumi config set --path 'clientCidrs[0]' 10.0.0.0/8`.",
        );
    }
    for (const cidr of clientCidrs) {
        const problem = cidrProblem(cidr);
        if (problem) {
            problems.push(`${v.key("clientCidrs")} entry "${cidr}" ${problem}.`);
        }
    }
    const loadBalancer = v.oneOf("loadBalancer", ["internal", "external"] as const);
    const dnsZone = v.string("dnsZone").trim();
    if (dnsZone && !/^[a-z][a-z0-9-]{0,62}$/.test(dnsZone)) {
        problems.push(
            `${v.key("dnsZone")} "${dnsZone}" is not a Cloud DNS managed zone name (lowercase letters, digits and ` +
                "hyphens, starting with a letter): the zone's name, not its DNS name.",
        );
    }
    if (dnsZone && dnsNames[0] !== undefined && isIP(dnsNames[0]) !== 0) {
        problems.push(
            `${v.key("dnsZone")} is set but dnsNames[0] "${dnsNames[0]}" is an IP address; the A record is made for ` +
                "the first DNS name. Put a DNS name first in dnsNames.",
        );
    }
    const databaseTier = v.string("databaseTier").trim();
    if (!/^db-[a-z0-9-]+$/.test(databaseTier)) {
        problems.push(
            `${v.key("databaseTier")} "${databaseTier}" is not a Cloud SQL tier. ` +
                "Example: `pulumi config set databaseTier db-custom-1-3840`.",
        );
    }
    if (port === 22) {
        problems.push(`${v.key("port")} 22 is SSH on the VMs; choose another port for step-ca (443 is usual).`);
    }
    return { region, zones, replicas, machineType, subnetCidr, clientCidrs, loadBalancer, dnsZone, databaseTier };
}

/**
 * The keys among `keys` that the stack holds as secrets (`pulumi config set --secret`), for {@link validateConfig}.
 *
 * The language host tells the program which config keys are secret (`PULUMI_CONFIG_SECRET_KEYS`; under mocks,
 * `pulumi.runtime.setAllConfig(config, secretKeys)`), and the Node SDK answers `runtime.isConfigSecret(key)` from
 * that. The function is exported at run time but marked internal, so it is missing from the SDK's type declarations
 * (checked with @pulumi/pulumi 3.276.0). Without it this fails loudly instead of letting a plaintext password through.
 */
export function secretConfigKeys(keys: Iterable<string>): string[] {
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
    const isConfigSecret = runtime.isConfigSecret;
    if (typeof isConfigSecret !== "function") {
        throw new Error(
            "@pulumi/pulumi no longer exports runtime.isConfigSecret, which lib/config/config.ts uses to tell secret config " +
                "from plain; read the secret keys another way (PULUMI_CONFIG_SECRET_KEYS) before upgrading.",
        );
    }
    return [...keys].filter((key) => isConfigSecret(key));
}

/** The subject of a CA certificate from its settings; an empty organization means no O attribute. */
export function subjectOf(settings: CertificateSettings): CertificateSubject {
    return settings.organization
        ? { commonName: settings.commonName, organization: settings.organization }
        : { commonName: settings.commonName };
}

/**
 * step-ca's listen address (ca.json `address`). A CA tried out locally answers on loopback only; in the container it
 * must listen on every interface for the published port to reach it.
 */
export function listenAddress(mode: Mode, port: number): string {
    return mode === "local" ? `127.0.0.1:${port}` : `:${port}`;
}

/** The problem with a location Cloud KMS does not offer, with the likeliest intended one. */
function locationProblem(key: string, location: string): string {
    const zone = /^([a-z]+-[a-z]+[0-9]+)-[a-z]$/.exec(location.toLowerCase());
    const region = zone && isCloudKmsLocation(zone[1]) ? zone[1] : undefined;
    const guess = region ?? closestMatch(location, ALL_CLOUD_KMS_LOCATIONS, Math.max(1, Math.floor(location.length / 4)));
    const detail = region
        ? ` (it looks like a zone; key rings live in regions such as "${region}")`
        : guess
          ? `; did you mean "${guess}"?`
          : "";
    return (
        `${key} "${location}" is not a Cloud KMS location${detail}. Use a region ("us-central1"), a multi-region ` +
        '("us", "europe", "asia"), a region group ("nam4", "eur4") or "global", as listed at ' +
        "https://cloud.google.com/kms/docs/locations: " +
        `\`pulumi config set location ${guess ?? "us-central1"}\`. ` +
        "(A location Google added after lib/config/locations.ts was written belongs in that list.)"
    );
}

/** Reads typed settings, recording a problem (and returning a placeholder) for each value of the wrong shape. */
class Reader {
    constructor(
        private readonly projectName: string,
        private readonly values: Readonly<Record<string, string>>,
        private readonly problems: string[],
    ) {}

    key(name: SettingName): string {
        return `${this.projectName}:${name}`;
    }

    private defaultOf(name: SettingName): SettingSpec["default"] {
        const spec: SettingSpec = SETTINGS[name];
        return spec.default;
    }

    private raw(name: SettingName): string | undefined {
        if (SECRET_SETTINGS.includes(name)) {
            throw new Error(`${name} is a secret; read it with pulumi.Config.getSecret`);
        }
        const value = this.values[this.key(name)];
        if (value !== undefined) {
            return value;
        }
        const fallback = this.defaultOf(name);
        // Lists arrive as JSON, as the CLI passes them.
        return fallback === undefined ? undefined : typeof fallback === "object" ? JSON.stringify(fallback) : String(fallback);
    }

    string(name: SettingName): string {
        return this.raw(name) ?? "";
    }

    /** Whether the setting has its declared default (the CLI passes defaults along as values). */
    isDefault(name: SettingName): boolean {
        const fallback = this.defaultOf(name);
        const shown = typeof fallback === "object" ? JSON.stringify(fallback) : String(fallback);
        const value = this.raw(name) ?? "";
        if (typeof fallback === "object") {
            try {
                return JSON.stringify(JSON.parse(value)) === shown;
            } catch {
                return false;
            }
        }
        return value.trim() === shown;
    }

    /** A list of strings (JSON, as the CLI passes lists), trimmed. */
    stringList(name: SettingName): string[] {
        const value = this.raw(name) ?? "[]";
        const list = parseStringList(value);
        if (!list) {
            this.problems.push(
                `${this.key(name)} must be a list of strings, got ${value}. ` +
                    `Set entries with \`pulumi config set --path '${name}[0]' …\`.`,
            );
            return [];
        }
        return list.map((n) => n.trim());
    }

    boolean(name: SettingName): boolean {
        const value = this.raw(name);
        if (value !== "true" && value !== "false") {
            this.problems.push(
                `${this.key(name)} "${value}" is not a boolean. Use \`pulumi config set ${name} true\` or false.`,
            );
        }
        return value === "true";
    }

    integer(name: SettingName, min: number, max: number): number {
        const value = (this.raw(name) ?? "").trim();
        const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
        if (isNaN(n) || n < min || n > max) {
            this.problems.push(
                `${this.key(name)} "${value}" must be a whole number from ${min} to ${max}. ` +
                    `Example: \`pulumi config set ${name} ${this.defaultOf(name) ?? min}\`.`,
            );
            return NaN;
        }
        return n;
    }

    oneOf<T extends string>(name: SettingName, allowed: readonly T[]): T {
        const value = this.string(name).trim();
        const match = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
        if (!match) {
            this.problems.push(
                `${this.key(name)} "${value}" must be one of ${allowed.join(", ")}. ` +
                    `Example: \`pulumi config set ${name} ${allowed[0]}\`.`,
            );
            return allowed[0];
        }
        return match;
    }

    algorithm(name: SettingName): KmsSigningAlgorithmName {
        const value = this.string(name).trim();
        const wanted = value.toUpperCase().replace(/_/g, "-");
        for (const [kmsName, alias] of Object.entries(SIGNING_ALGORITHM_ALIASES)) {
            if (kmsName.replace(/_/g, "-") === wanted || alias === wanted) {
                return kmsName as KmsSigningAlgorithmName;
            }
        }
        const choices = Object.entries(SIGNING_ALGORITHM_ALIASES).map(([k, a]) => (a ? `${k} (${a})` : k));
        this.problems.push(
            `${this.key(name)} "${value}" is not a supported signing algorithm. Use one of: ${choices.join(", ")}. ` +
                `Example: \`pulumi config set ${name} ${this.defaultOf(name)}\`.`,
        );
        return "EC_SIGN_P256_SHA256";
    }

    destroyDuration(name: SettingName): string {
        const value = this.string(name).trim();
        const duration = parseKmsDuration(value);
        const seconds = duration ? duration.seconds + duration.nanos / 1e9 : NaN;
        if (!duration) {
            this.problems.push(
                `${this.key(name)} "${value}" is not a duration in seconds as Cloud KMS takes it, such as ` +
                    `"86400s" (1 day). Example: \`pulumi config set ${name} 2592000s\` (30 days).`,
            );
        } else if (seconds < MIN_DESTROY_SCHEDULED_SECONDS || seconds > MAX_DESTROY_SCHEDULED_SECONDS) {
            this.problems.push(
                `${this.key(name)} "${value}" is outside what Cloud KMS allows: from ` +
                    `${MIN_DESTROY_SCHEDULED_SECONDS}s (1 day) to ${MAX_DESTROY_SCHEDULED_SECONDS}s (120 days).`,
            );
        }
        return value;
    }

    commonName(name: SettingName): string {
        const value = this.string(name).trim();
        if (!value || value.length > 64) {
            this.problems.push(
                `${this.key(name)} must be 1-64 characters (X.509 limit), got ${value.length}. ` +
                    `Example: \`pulumi config set ${name} "${this.defaultOf(name)}"\`.`,
            );
        }
        return value;
    }

    dnsNames(name: SettingName): string[] {
        const fix = `Set it with \`pulumi config set --path '${name}[0]' ca.example.com\`.`;
        const value = this.raw(name) ?? "[]";
        const list = parseStringList(value);
        if (!list) {
            this.problems.push(`${this.key(name)} must be a list of names, got ${value}. ${fix}`);
            return [];
        }
        for (const reason of dnsNamesProblems(list)) {
            this.problems.push(`${this.key(name)} ${reason}. ${fix}`);
        }
        return list;
    }
}

/** A JSON list of strings (as the CLI passes lists), or undefined when the value is anything else. */
function parseStringList(value: string): string[] | undefined {
    try {
        const list: unknown = JSON.parse(value);
        return Array.isArray(list) && list.every((n) => typeof n === "string") ? list : undefined;
    } catch {
        return undefined;
    }
}

/** The declared setting a mistyped key most likely meant (case-insensitive, up to 3 edits). */
function closestSetting(name: string): string | undefined {
    return closestMatch(name, Object.keys(SETTINGS), 3);
}
