/**
 * The stack settings this program reads, with their types and defaults.
 *
 * `Pulumi.yaml` declares the same settings (with descriptions) so that `pulumi config` and the CLI's own type
 * checks know them; a unit test keeps the two in step. Keeping the table in code as well lets the validator apply
 * defaults and name unknown keys when the program runs outside the CLI (mocks, benchmarks).
 */
export const SETTINGS = {
    mode: { type: "string", default: "gcp" },
    runtime: { type: "string", default: "docker" },
    // Empty: the runtime's own default (docker: serviceAccountKey, gce: applicationDefault).
    kmsCredentials: { type: "string", default: "" },
    kmsEndpoint: { type: "string", default: "" },
    location: { type: "string", default: "us-central1" },
    keyRingPrefix: { type: "string", default: "step-ca" },
    separateKeyRings: { type: "boolean", default: true },
    rootAlgorithm: { type: "string", default: "EC_SIGN_P384_SHA384" },
    intermediateAlgorithm: { type: "string", default: "EC_SIGN_P256_SHA256" },
    protectionLevel: { type: "string", default: "SOFTWARE" },
    destroyScheduledDuration: { type: "string", default: "2592000s" },
    protectRootKey: { type: "boolean", default: false },
    offlineRootKey: { type: "boolean", default: false },
    organization: { type: "string", default: "Step CA" },
    rootCommonName: { type: "string", default: "Step CA Root CA" },
    intermediateCommonName: { type: "string", default: "Step CA Intermediate CA" },
    rootValidityDays: { type: "integer", default: 3650 },
    intermediateValidityDays: { type: "integer", default: 365 },
    renewBeforeDays: { type: "integer", default: 30 },
    // Required in effect (validation refuses an empty list), but declared with a default: a setting without one
    // makes the CLI stop at "missing configuration value" before the program can list every problem at once.
    dnsNames: { type: "array", default: [] },
    port: { type: "integer", default: 9000 },
    provisionerName: { type: "string", default: "admin" },
    provisionerPassword: { type: "string", default: "" },
    // Structured settings (set with `pulumi config set --path`); empty means "not configured".
    provisioners: { type: "array", items: "object", default: [] },
    claims: { type: "object", default: {} },
    policy: { type: "object", default: {} },
    nameConstraints: { type: "object", default: {} },
    image: { type: "string", default: "smallstep/step-ca:0.30.2" },
    localBundleDir: { type: "string", default: ".local/bundle" },
    // local mode only (LOCAL_DOCKER_SETTINGS besides localRuntime).
    localRuntime: { type: "string", default: "bundle" },
    localKmsProxyPort: { type: "integer", default: 8086 },
    localKmsCredentialsDir: { type: "string", default: ".local/kms-credentials" },
    // gce runtime only (GCE_SETTINGS).
    region: { type: "string", default: "" },
    zones: { type: "array", default: [] },
    replicas: { type: "integer", default: 2 },
    machineType: { type: "string", default: "e2-small" },
    subnetCidr: { type: "string", default: "10.20.0.0/24" },
    clientCidrs: { type: "array", default: [] },
    loadBalancer: { type: "string", default: "internal" },
    dnsZone: { type: "string", default: "" },
    databaseTier: { type: "string", default: "db-custom-1-3840" },
} as const satisfies Record<string, SettingSpec>;

/** Type and default of one setting, in the terms `Pulumi.yaml` uses. */
export interface SettingSpec {
    readonly type: "string" | "integer" | "boolean" | "array" | "object";
    /** Element type of an array; default "string". */
    readonly items?: "string" | "object";
    /** The value a stack gets when it does not set the setting. */
    readonly default?: string | number | boolean | readonly string[] | readonly object[] | Readonly<Record<string, never>>;
}

export type SettingName = keyof typeof SETTINGS;

/** Settings only the gce runtime reads; set on another runtime they are a mistake. */
export const GCE_SETTINGS: readonly SettingName[] = [
    "region",
    "zones",
    "replicas",
    "machineType",
    "subnetCidr",
    "clientCidrs",
    "loadBalancer",
    "dnsZone",
    "databaseTier",
];

/** Settings only the local stack's docker flavour (localRuntime docker) reads. */
export const LOCAL_DOCKER_SETTINGS: readonly SettingName[] = ["localKmsProxyPort", "localKmsCredentialsDir"];

/** Settings that hold secrets: read with `getSecret` and never copied into the plain validated config. */
export const SECRET_SETTINGS: readonly SettingName[] = ["provisionerPassword"];
