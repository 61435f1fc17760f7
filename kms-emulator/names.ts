import { invalidArgument } from "./errors";

// Patterns from the Cloud KMS and Resource Manager docs: project IDs (optionally domain-scoped) or numbers,
// location IDs, and the 1-63 character IDs allowed for key rings and crypto keys.
const PROJECT = String.raw`(?:[a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]+`;
const LOCATION = String.raw`[a-z][a-z0-9-]*[a-z0-9]`;
const ID = String.raw`[a-zA-Z0-9_-]{1,63}`;
const VERSION = String.raw`[1-9][0-9]{0,17}`;

const LOCATION_NAME = new RegExp(`^projects/(${PROJECT})/locations/(${LOCATION})$`);
const KEY_RING_NAME = new RegExp(`^projects/(?:${PROJECT})/locations/(?:${LOCATION})/keyRings/(${ID})$`);
const CRYPTO_KEY_NAME = new RegExp(`^(projects/[^/]+/locations/[^/]+/keyRings/[^/]+)/cryptoKeys/(${ID})$`);
const VERSION_NAME = new RegExp(`^(projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+)/cryptoKeyVersions/(${VERSION})$`);
const ID_ONLY = new RegExp(`^${ID}$`);
const ID_RULES =
    "Project: 6-30 characters [a-z0-9-] starting with a letter, or a project number; location: e.g. global or us-east1; " +
    "key ring and crypto key IDs: 1-63 characters [a-zA-Z0-9_-]; versions: positive integers.";

function check(pattern: RegExp, value: unknown, field: string, shape: string): RegExpExecArray {
    const match = typeof value === "string" ? pattern.exec(value) : null;
    if (!match) {
        throw invalidArgument(`Invalid ${field} "${String(value ?? "")}": expected ${shape}. ${ID_RULES}`);
    }
    return match;
}

/** Validates `projects/P/locations/L`, the parent of key rings. */
export function parseLocationName(name: unknown, field = "parent"): string {
    return check(LOCATION_NAME, name, field, "projects/{project}/locations/{location}")[0];
}

/** Validates a key ring name, returning it. */
export function parseKeyRingName(name: unknown, field = "name"): string {
    const value = check(KEY_RING_NAME, name, field, "projects/{project}/locations/{location}/keyRings/{key_ring}")[0];
    parseLocationName(value.slice(0, value.lastIndexOf("/keyRings/")), field);
    return value;
}

/** Validates a crypto key name; returns it with its key ring. */
export function parseCryptoKeyName(name: unknown, field = "name"): { name: string; keyRing: string } {
    const shape = "projects/{project}/locations/{location}/keyRings/{key_ring}/cryptoKeys/{crypto_key}";
    const match = check(CRYPTO_KEY_NAME, name, field, shape);
    return { name: match[0], keyRing: parseKeyRingName(match[1], field) };
}

/** Validates a crypto key version name; returns it with its crypto key and numeric version id. */
export function parseVersionName(name: unknown, field = "name"): { name: string; cryptoKey: string; id: number } {
    const shape = "projects/{project}/locations/{location}/keyRings/{key_ring}/cryptoKeys/{crypto_key}/cryptoKeyVersions/{version}";
    const match = check(VERSION_NAME, name, field, shape);
    return { name: match[0], cryptoKey: parseCryptoKeyName(match[1], field).name, id: Number(match[2]) };
}

/** Validates a caller-chosen key ring or crypto key ID (`[a-zA-Z0-9_-]{1,63}`). */
export function parseResourceId(id: unknown, field: string): string {
    return check(ID_ONLY, id, field, "1 to 63 characters of [a-zA-Z0-9_-]")[0];
}

/** True when `resource` is `ancestor` itself or lies under it (a key and its versions). */
export function isWithin(resource: string, ancestor: string): boolean {
    return resource === ancestor || resource.startsWith(`${ancestor}/`);
}
