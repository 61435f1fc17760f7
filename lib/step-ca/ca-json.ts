/**
 * step-ca's configuration for CA keys in Cloud KMS. `step ca init --kms` only knows Azure, so for Cloud KMS the
 * files are written here: ca.json (what step-ca validates at start) and defaults.json (what the step CLI reads).
 */
import { dnsNamesProblems, parseHostPort } from "../config/values";
import { type InputProblem, describeProblems } from "../config/input-problems";
import type { Claims } from "./claims";
import type { RenderedProvisioner } from "./provisioners";
import type { X509Policy } from "./x509-policy";
import { parseKeyVersionName } from "../kms/names";
import { CONTAINER_LAYOUT, type StepCaLayout } from "./layout";

/**
 * Where step-ca finds its files, as ca.json and defaults.json name them. The defaults are the container's layout;
 * point them at another directory to run step-ca outside a container.
 */
export interface StepCaPaths {
    readonly root: string;
    readonly crt: string;
    /** ca.json itself, for defaults.json `ca-config`. */
    readonly config: string;
    /** Badger database directory. */
    readonly db: string;
    /** Service-account key for Cloud KMS; null means Application Default Credentials (no `uri` credentials part). */
    readonly kmsCredentialsFile: string | null;
}

/**
 * ca.json's paths for a layout. Without `kmsCredentials` step-ca uses Application Default Credentials (the local
 * emulator needs none).
 */
export function stepCaPaths(layout: StepCaLayout, kmsCredentials = true): StepCaPaths {
    return {
        root: layout.rootCert,
        crt: layout.intermediateCert,
        config: layout.caJson,
        db: layout.db,
        kmsCredentialsFile: kmsCredentials ? layout.kmsCredentials : null,
    };
}

/** The paths inside the container the program runs; the defaults of every renderer below. */
export const STEP_CA_CONTAINER_PATHS: StepCaPaths = stepCaPaths(CONTAINER_LAYOUT);

/**
 * A shared PostgreSQL database for step-ca replicas (badger, the default, is single-process). `dataSource` is a
 * pgx DSN without a password: the password comes from the file `PGPASSFILE` names, so ca.json holds no secret.
 */
export interface PostgresDatabase {
    /** e.g. `postgresql://step-ca@127.0.0.1:5432/?sslmode=disable` (the Cloud SQL Auth Proxy on the VM). */
    readonly dataSource: string;
    /** Database name; step-ca creates it when missing, and its tables at start. */
    readonly database: string;
}

/** What ca.json says besides the provisioners. */
export interface StepCaSettings {
    /** Full `.../cryptoKeyVersions/N` name of the intermediate key: step-ca signs with it. */
    readonly intermediateKeyVersion: string;
    /** Listen address with port, e.g. ":9000". */
    readonly address: string;
    /** Names (and IPs) in the CA's own TLS certificate; the first one is the default CA URL host. */
    readonly dnsNames: readonly string[];
    readonly paths?: Partial<StepCaPaths>;
    readonly logFormat?: "text" | "json";
    /** `authority.claims`: lifetimes for every provisioner; omitted = step-ca's defaults. */
    readonly claims?: Claims;
    /** `authority.policy.x509`; omitted = no issuance policy. */
    readonly policy?: X509Policy;
    /** PostgreSQL instead of the badger database at `paths.db`. */
    readonly database?: PostgresDatabase;
}

/** step's default TLS settings (authority/config/tls_options.go), written out as `step ca init` does. */
const DEFAULT_TLS = {
    cipherSuites: ["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"],
    minVersion: 1.2,
    maxVersion: 1.3,
    renegotiation: false,
};

/** Characters that would change the meaning of a `cloudkms:` URI (step parses its opaque part as a query). */
const URI_UNSAFE = /[;&%+#?\s]/;

/** Every problem with the settings, each saying how to fix it; empty when step-ca would accept them. */
export function stepCaSettingsProblems(settings: StepCaSettings): InputProblem[] {
    const problems: InputProblem[] = [];
    try {
        parseKeyVersionName(settings.intermediateKeyVersion);
    } catch (error) {
        problems.push({ property: "intermediateKeyVersion", reason: (error as Error).message });
    }
    if (!parseHostPort(settings.address)) {
        problems.push({
            property: "address",
            reason: `"${settings.address}" needs a port in 1-65535, for example ":9000" or "0.0.0.0:9000"`,
        });
    }
    for (const reason of dnsNamesProblems(settings.dnsNames)) {
        problems.push({ property: "dnsNames", reason });
    }
    const paths = resolvePaths(settings.paths);
    for (const [field, path] of Object.entries(paths)) {
        if (path !== null && !path.startsWith("/")) {
            problems.push({ property: `paths.${field}`, reason: `"${path}" must be an absolute path` });
        }
    }
    if (paths.kmsCredentialsFile !== null && URI_UNSAFE.test(paths.kmsCredentialsFile)) {
        problems.push({
            property: "paths.kmsCredentialsFile",
            reason: `"${paths.kmsCredentialsFile}" must not contain ; & % + # ? or whitespace (it goes into a URI)`,
        });
    }
    if (settings.database) {
        problems.push(...postgresProblems(settings.database));
    }
    return problems;
}

function postgresProblems(database: PostgresDatabase): InputProblem[] {
    const problems: InputProblem[] = [];
    let url: URL | undefined;
    try {
        url = new URL(database.dataSource);
    } catch {
        url = undefined;
    }
    if (!url || !["postgresql:", "postgres:"].includes(url.protocol) || !url.hostname) {
        problems.push({
            property: "database.dataSource",
            reason: `"${database.dataSource}" must be a postgresql:// URL with a host, e.g. postgresql://step-ca@127.0.0.1:5432/`,
        });
    } else if (url.password || url.searchParams.has("password")) {
        problems.push({
            property: "database.dataSource",
            reason: "must not carry a password (ca.json is not secret); give it to step-ca in a PGPASSFILE",
        });
    }
    if (!/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/.test(database.database)) {
        problems.push({ property: "database.database", reason: `"${database.database}" is not a PostgreSQL database name` });
    }
    return problems;
}

/**
 * ca.json for step-ca with its intermediate key in Cloud KMS. `key` is the bare key-version name and `kms` has
 * type cloudkms, with the credentials file in its URI unless Application Default Credentials are used.
 */
export function renderCaJson(settings: StepCaSettings, provisioners: readonly RenderedProvisioner[]): string {
    const problems = stepCaSettingsProblems(settings);
    if (problems.length > 0) {
        throw new Error(describeProblems("invalid step-ca settings", problems));
    }
    const paths = resolvePaths(settings.paths);
    const config = {
        root: paths.root,
        federatedRoots: null,
        crt: paths.crt,
        key: settings.intermediateKeyVersion,
        kms:
            paths.kmsCredentialsFile === null
                ? { type: "cloudkms" }
                : { type: "cloudkms", uri: `cloudkms:credentials-file=${paths.kmsCredentialsFile}` },
        address: settings.address,
        insecureAddress: "",
        dnsNames: [...settings.dnsNames],
        logger: { format: settings.logFormat ?? "text" },
        db: settings.database
            ? { type: "postgresql", dataSource: settings.database.dataSource, database: settings.database.database }
            : { type: "badgerv2", dataSource: paths.db, badgerFileLoadingMode: "" },
        authority: {
            provisioners,
            template: {},
            backdate: "1m0s",
            ...(settings.claims && Object.keys(settings.claims).length > 0 ? { claims: settings.claims } : {}),
            ...(settings.policy && Object.keys(settings.policy).length > 0 ? { policy: { x509: settings.policy } } : {}),
        },
        tls: DEFAULT_TLS,
    };
    return `${JSON.stringify(config, null, "\t")}\n`;
}

/** defaults.json, which `step` reads to talk to this CA: URL, config path, root path and root fingerprint. */
export function renderDefaultsJson(args: { caUrl: string; fingerprint: string; paths?: Partial<StepCaPaths> }): string {
    if (!/^[0-9a-f]{64}$/.test(args.fingerprint)) {
        throw new Error(`fingerprint "${args.fingerprint}" is not a lowercase hex SHA-256`);
    }
    const paths = resolvePaths(args.paths);
    const defaults = { "ca-url": args.caUrl, "ca-config": paths.config, fingerprint: args.fingerprint, root: paths.root };
    return `${JSON.stringify(defaults, null, "\t")}\n`;
}

/** https URL of the CA from its first DNS name and the port it listens on (":443" left out). */
export function defaultCaUrl(dnsName: string, address: string): string {
    const port = parseHostPort(address)?.port;
    if (port === undefined) {
        throw new Error(`address "${address}" has no port`);
    }
    const host = dnsName.includes(":") ? `[${dnsName}]` : dnsName;
    return port === 443 ? `https://${host}` : `https://${host}:${port}`;
}

/** The container defaults with the given overrides. */
function resolvePaths(overrides: Partial<StepCaPaths> = {}): StepCaPaths {
    const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
    return { ...STEP_CA_CONTAINER_PATHS, ...defined };
}
