/**
 * The `provisioners` setting: a list of objects, each typed by `type`, validated field by field into
 * {@link ProvisionerSpec}s. Secrets (a JWK `password`, an OIDC `clientSecret`) are checked here but never copied into
 * the specs: {@link provisionerSecretsOf} reads them from the setting as a Pulumi secret.
 *
 * A secret inside a structured setting is set with `pulumi config set --secret --path 'provisioners[1].clientSecret'`.
 * Pulumi then treats the whole `provisioners` value as secret (a composite config value is secure when it contains a
 * secure value), and that is all a program learns: it cannot tell which field was encrypted. So a list that carries a
 * secret field is refused unless the setting is secret, and the README asks for every secret field to be set with
 * --secret.
 */
import { X509Certificate } from "node:crypto";
import { type EffectiveLifetimes } from "../step-ca/claims";
import { parseGoDuration } from "../step-ca/go-duration";
import {
    ACME_CHALLENGES,
    PROVISIONER_TYPES,
    type ProvisionerSpec,
    type ProvisionerType,
} from "../step-ca/provisioners";
import { readClaims } from "./issuance";
import { booleanField, isRecord, parseStructured, stringList, unknownFields } from "./structured";
import { closestMatch, dnsNamesProblems } from "./values";

/** Fields that hold secrets, by provisioner type. */
const SECRET_FIELDS: Readonly<Partial<Record<ProvisionerType, string>>> = { JWK: "password", OIDC: "clientSecret" };

type FieldKind = "boolean" | "strings" | "projectIds" | "emails" | "domains" | "challenges" | "duration" | "text" | "url" | "pem" | "secret";

/** The fields each type takes besides `type`, `name` and `claims`, with what each must be. */
const FIELDS: Readonly<Record<ProvisionerType, Readonly<Record<string, FieldKind>>>> = {
    JWK: { password: "secret" },
    ACME: { challenges: "challenges", requireEAB: "boolean", forceCN: "boolean" },
    GCP: {
        projectIDs: "projectIds",
        serviceAccounts: "emails",
        instanceAge: "duration",
        disableCustomSANs: "boolean",
        disableTrustOnFirstUse: "boolean",
    },
    OIDC: {
        clientID: "text",
        clientSecret: "secret",
        configurationEndpoint: "url",
        admins: "emails",
        domains: "domains",
        groups: "strings",
    },
    X5C: { roots: "pem" },
};

const REQUIRED: Readonly<Partial<Record<ProvisionerType, readonly string[]>>> = {
    OIDC: ["clientID", "configurationEndpoint"],
    X5C: ["roots"],
};

/** Names go into URLs (`/acme/<name>/directory`) and step CLI flags. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export interface ProvisionersSetting {
    /** Undefined when the list is empty: the single JWK provisioner of provisionerName applies. */
    readonly specs?: readonly ProvisionerSpec[];
    /** Names of JWK provisioners whose password is given (the rest get generated ones). */
    readonly passwordsGiven: readonly string[];
    /** Names of OIDC provisioners whose client secret is given. */
    readonly clientSecretsGiven: readonly string[];
}

/** Every problem with the `provisioners` setting; specs without secrets. */
export function readProvisioners(args: {
    key: string;
    text: string;
    secret: boolean;
    lifetimes: EffectiveLifetimes;
    minPasswordLength: number;
    problems: string[];
}): ProvisionersSetting {
    const { key, problems } = args;
    const fix = "Example: `pulumi config set --path 'provisioners[0].type' ACME` and `… 'provisioners[0].name' acme`.";
    const list = parseStructured(key, args.text, "array", fix, problems) as unknown[] | undefined;
    const none: ProvisionersSetting = { passwordsGiven: [], clientSecretsGiven: [] };
    if (!list || list.length === 0) {
        return none;
    }
    const before = problems.length;
    const specs: ProvisionerSpec[] = [];
    const passwordsGiven: string[] = [];
    const clientSecretsGiven: string[] = [];
    const names = new Map<string, number>();
    list.forEach((entry, i) => {
        const path = `${key}[${i}]`;
        if (!isRecord(entry)) {
            problems.push(`${path} must be an object with type and name. ${fix}`);
            return;
        }
        const type = PROVISIONER_TYPES.find((t) => t === String(entry.type ?? "").toUpperCase());
        if (!type) {
            const guess = closestMatch(String(entry.type ?? ""), PROVISIONER_TYPES, 2);
            problems.push(
                `${path}.type ${JSON.stringify(entry.type)} is not a provisioner type this program configures` +
                    `${guess ? `; did you mean ${guess}?` : ""} Use one of ${PROVISIONER_TYPES.join(", ")}.`,
            );
            return;
        }
        unknownFields(path, entry, ["type", "name", "claims", ...Object.keys(FIELDS[type])], problems);
        const name = typeof entry.name === "string" ? entry.name : "";
        if (!NAME.test(name)) {
            problems.push(
                `${path}.name ${JSON.stringify(entry.name)} must be 1-64 letters, digits, ".", "_", "@" or "-", ` +
                    `starting with a letter or digit (clients name the provisioner in URLs and flags).`,
            );
        } else if (names.has(name)) {
            problems.push(
                `${path}.name "${name}" is already the name of ${key}[${names.get(name)}]; step-ca refuses two ` +
                    "provisioners with one name. Rename one.",
            );
        } else {
            names.set(name, i);
        }
        for (const field of REQUIRED[type] ?? []) {
            if (entry[field] === undefined || entry[field] === "") {
                problems.push(`${path}.${field} is required for a ${type} provisioner.`);
            }
        }
        const spec: Record<string, unknown> = { type, name };
        for (const [field, kind] of Object.entries(FIELDS[type])) {
            const value = entry[field];
            if (value === undefined) continue;
            const fieldPath = `${path}.${field}`;
            if (kind === "secret") {
                if (typeof value !== "string" || value === "") {
                    problems.push(`${fieldPath} must be a non-empty string.`);
                    continue;
                }
                if (!args.secret) {
                    problems.push(
                        `${fieldPath} is set in plain text (without --secret), so it sits readable in the stack's ` +
                            "config file. Choose a new value (this one is exposed) and set it with `pulumi config set " +
                            `--secret --path '${withoutNamespace(fieldPath)}' …\`.`,
                    );
                }
                if (field === "password" && value !== value.trim()) {
                    problems.push(passwordWhitespaceProblem(fieldPath, `--path '${withoutNamespace(fieldPath)}'`));
                }
                if (field === "password" && value.length < args.minPasswordLength) {
                    problems.push(
                        `${fieldPath} is shorter than ${args.minPasswordLength} characters; ca.json holds the ` +
                            "provisioner key encrypted under it, open to offline guessing. Set a longer one, or remove " +
                            "it to get a generated password.",
                    );
                }
                (field === "password" ? passwordsGiven : clientSecretsGiven).push(name);
                continue;
            }
            const checked = checkField(fieldPath, kind, value, problems);
            if (checked !== undefined) spec[field] = checked;
        }
        if (entry.claims !== undefined) {
            const claims = readClaims(`${path}.claims`, entry.claims, args.lifetimes, problems);
            if (claims) spec.claims = claims;
        }
        if (type === "GCP" && !(spec.projectIDs as unknown[] | undefined)?.length && !(spec.serviceAccounts as unknown[] | undefined)?.length) {
            problems.push(
                `${path} (GCP) lists neither projectIDs nor serviceAccounts: any VM in any Google Cloud project ` +
                    `could get certificates. Set \`pulumi config set --path '${withoutNamespace(path)}.projectIDs[0]' <project-id>\`.`,
            );
        }
        specs.push(spec as unknown as ProvisionerSpec);
    });
    if (problems.length > before) {
        return none;
    }
    return { specs, passwordsGiven, clientSecretsGiven };
}

/** `project:provisioners[1].x` as `pulumi config set --path` names it: `provisioners[1].x`. */
function withoutNamespace(path: string): string {
    return path.slice(path.indexOf(":") + 1);
}

/** A field's value checked against its kind; undefined (with a problem) when it does not fit. */
function checkField(path: string, kind: FieldKind, value: unknown, problems: string[]): unknown {
    switch (kind) {
        case "boolean":
            return booleanField(path, value, problems);
        case "text":
            if (typeof value !== "string" || value.trim() === "") {
                problems.push(`${path} must be a non-empty string.`);
                return undefined;
            }
            return value;
        case "duration": {
            const seconds = typeof value === "string" ? parseGoDuration(value) : undefined;
            if (seconds === undefined || seconds < 0) {
                problems.push(
                    `${path} ${JSON.stringify(value)} is not a duration step-ca can read (Go syntax, such as "1h" or ` +
                        '"720h"; units ns, us, ms, s, m, h).',
                );
                return undefined;
            }
            return value;
        }
        case "url": {
            const url = typeof value === "string" && URL.canParse(value) ? new URL(value) : undefined;
            const loopback = url !== undefined && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
            if (!url || !(url.protocol === "https:" || (url.protocol === "http:" && loopback))) {
                problems.push(
                    `${path} ${JSON.stringify(value)} must be an https URL, such as ` +
                        '"https://accounts.google.com/.well-known/openid-configuration" (http only on loopback).',
                );
                return undefined;
            }
            return value;
        }
        case "pem":
            return pemRoots(path, value, problems);
    }
    const list = stringList(path, value, problems);
    if (!list) return undefined;
    for (const entry of list) {
        const reason = entryProblem(kind, entry);
        if (reason) problems.push(`${path} entry "${entry}" ${reason}.`);
    }
    return list;
}

function entryProblem(kind: FieldKind, entry: string): string | undefined {
    switch (kind) {
        case "challenges":
            return (ACME_CHALLENGES as readonly string[]).includes(entry)
                ? undefined
                : `is not an ACME challenge type step-ca offers (${ACME_CHALLENGES.join(", ")})`;
        case "projectIds":
            return /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(entry) ? undefined : "is not a GCP project ID";
        case "emails":
            return /^[^@\s]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$/.test(entry) ? undefined : "is not an email address";
        case "domains":
            return dnsNamesProblems([entry]).length === 0 ? undefined : "is not a DNS domain";
        default:
            return undefined;
    }
}

/** X5C roots: a PEM bundle of CA certificates. */
function pemRoots(path: string, value: unknown, problems: string[]): string | undefined {
    const blocks = typeof value === "string" ? value.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) : null;
    if (!blocks) {
        problems.push(`${path} must be a PEM bundle of the root certificates to trust (-----BEGIN CERTIFICATE----- …).`);
        return undefined;
    }
    for (const [i, block] of blocks.entries()) {
        try {
            if (!new X509Certificate(block).ca) {
                problems.push(`${path}: certificate ${i + 1} is not a CA certificate (basicConstraints CA:FALSE).`);
            }
        } catch (e) {
            problems.push(`${path}: certificate ${i + 1} does not parse: ${(e as Error).message}.`);
        }
    }
    return blocks.map((block) => `${block}\n`).join("");
}

/**
 * The secret fields of the raw `provisioners` setting, by provisioner name: JWK passwords and OIDC client secrets.
 * Applied to the setting read as a Pulumi secret, so the result stays secret.
 */
export function provisionerSecretsOf(list: unknown): {
    passwords: Record<string, string>;
    clientSecrets: Record<string, string>;
} {
    const passwords: Record<string, string> = {};
    const clientSecrets: Record<string, string> = {};
    for (const entry of Array.isArray(list) ? list : []) {
        if (!isRecord(entry) || typeof entry.name !== "string") continue;
        const type = String(entry.type ?? "").toUpperCase() as ProvisionerType;
        const field = SECRET_FIELDS[type];
        if (field && typeof entry[field] === "string") {
            (type === "JWK" ? passwords : clientSecrets)[entry.name] = entry[field] as string;
        }
    }
    return { passwords, clientSecrets };
}

/**
 * A password with leading or trailing whitespace: the step CLI trims password files, so the provisioner key encrypted
 * under the untrimmed password could never be decrypted (`failed to decrypt JWE: invalid password`).
 */
export function passwordWhitespaceProblem(key: string, setArgs: string): string {
    return (
        `${key} starts or ends with whitespace, which the step CLI strips from password files, so the password would ` +
        `never match ("failed to decrypt JWE: invalid password"). Set it without: \`pulumi config set --secret ${setArgs} …\`.`
    );
}
