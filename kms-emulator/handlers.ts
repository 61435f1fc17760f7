import { crc32c } from "@aws-crypto/crc32c";
import { ALGORITHMS, DIGEST_LENGTHS, type DigestKind, purposeOfAlgorithm } from "./algorithms";
import { failedPrecondition, invalidArgument, unimplemented } from "./errors";
import type { Faults } from "./faults";
import { parseCryptoKeyName, parseKeyRingName, parseLocationName, parseResourceId, parseVersionName } from "./names";
import { type ListRequest, paginate } from "./pagination";
import { signDigest, publicKeyDer, publicKeyPem } from "./signer";
import type { CryptoKeyChanges, CryptoKeyRecord, NewCryptoKey, ProtectionLevel, Purpose, Store, VersionRecord } from "./store";
import { type ProtoTime, cryptoKeyMessage, fromProtoTime, int64Value, keyRingMessage, versionMessage } from "./wire";

const DAY_MS = 24 * 3600 * 1000;
const DEFAULT_DESTROY_SCHEDULED_MS = 30 * DAY_MS;

// Request shapes as proto-loader delivers them (camelCase, enums as names, int64 as strings); all optional,
// because proto3 lets a client leave anything out.
interface CryptoKeyInput {
    name?: string;
    purpose?: string;
    versionTemplate?: { protectionLevel?: string; algorithm?: string };
    labels?: Record<string, string>;
    importOnly?: boolean;
    destroyScheduledDuration?: ProtoTime;
    rotationPeriod?: ProtoTime;
    nextRotationTime?: ProtoTime;
    cryptoKeyBackend?: string;
    keyAccessJustificationsPolicy?: unknown;
}
interface FieldMask {
    paths?: string[];
}
interface Int64Value {
    value?: string;
}
interface SignRequest {
    name?: string;
    digest?: { digest?: DigestKind | "externalMu"; sha256?: Buffer; sha384?: Buffer; sha512?: Buffer };
    digestCrc32c?: Int64Value;
    data?: Buffer;
    dataCrc32c?: Int64Value;
}
// Requests are proto-loader objects; each handler narrows its own to the interface above it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Request = any;

/** Everything a handler may use. */
export interface HandlerContext {
    store: Store;
    faults: Faults;
}

/** One implemented RPC: where its resource name is (for IAM faults) and what it does. */
export interface Rpc {
    resource(request: Request): unknown;
    handle(request: Request, context: HandlerContext): object | Promise<object>;
}

/** The implemented KeyManagementService RPCs; the server answers every other one with UNIMPLEMENTED. */
export const RPCS: Readonly<Record<string, Rpc>> = {
    CreateKeyRing: {
        resource: (r: { parent?: string }) => r.parent,
        handle: (r: { parent?: string; keyRingId?: string }, { store }) =>
            keyRingMessage(store.createKeyRing(parseLocationName(r.parent), parseResourceId(r.keyRingId, "key_ring_id"))),
    },
    GetKeyRing: {
        resource: (r: { name?: string }) => r.name,
        handle: (r: { name?: string }, { store }) => keyRingMessage(store.getKeyRing(parseKeyRingName(r.name))),
    },
    ListKeyRings: {
        resource: (r: { parent?: string }) => r.parent,
        handle: (r: ListRequest & { parent?: string }, { store }) => {
            const parent = parseLocationName(r.parent);
            const { page, ...rest } = paginate(store.listKeyRings(parent), r, parent);
            return { keyRings: page.map(keyRingMessage), ...rest };
        },
    },
    CreateCryptoKey: {
        resource: (r: { parent?: string }) => r.parent,
        handle: async (r: { parent?: string; cryptoKeyId?: string; cryptoKey?: CryptoKeyInput; skipInitialVersionCreation?: boolean }, { store }) => {
            const parent = parseKeyRingName(r.parent, "parent");
            const id = parseResourceId(r.cryptoKeyId, "crypto_key_id");
            const key = await store.createCryptoKey(parent, id, newCryptoKey(r.cryptoKey), r.skipInitialVersionCreation === true);
            return keyMessage(store, key);
        },
    },
    GetCryptoKey: {
        resource: (r: { name?: string }) => r.name,
        handle: (r: { name?: string }, { store }) => keyMessage(store, store.getCryptoKey(parseCryptoKeyName(r.name).name)),
    },
    ListCryptoKeys: {
        resource: (r: { parent?: string }) => r.parent,
        handle: (r: ListRequest & { parent?: string }, { store }) => {
            const parent = parseKeyRingName(r.parent, "parent");
            const { page, ...rest } = paginate(store.listCryptoKeys(parent), r, parent);
            return { cryptoKeys: page.map((key) => keyMessage(store, key)), ...rest };
        },
    },
    UpdateCryptoKey: {
        resource: (r: { cryptoKey?: CryptoKeyInput }) => r.cryptoKey?.name,
        handle: (r: { cryptoKey?: CryptoKeyInput; updateMask?: FieldMask }, { store }) => {
            const input = r.cryptoKey ?? {};
            const name = parseCryptoKeyName(input.name, "crypto_key.name").name;
            const changes = cryptoKeyChanges(store.getCryptoKey(name), input, maskPaths(r.updateMask));
            return keyMessage(store, store.updateCryptoKey(name, changes));
        },
    },
    CreateCryptoKeyVersion: {
        resource: (r: { parent?: string }) => r.parent,
        handle: async (r: { parent?: string }, { store }) =>
            versionMessage(await store.createVersion(parseCryptoKeyName(r.parent, "parent").name)),
    },
    GetCryptoKeyVersion: {
        resource: (r: { name?: string }) => r.name,
        handle: (r: { name?: string }, { store }) => versionMessage(store.getVersion(parseVersionName(r.name).name)),
    },
    ListCryptoKeyVersions: {
        resource: (r: { parent?: string }) => r.parent,
        handle: (r: ListRequest & { parent?: string }, { store }) => {
            const parent = parseCryptoKeyName(r.parent, "parent").name;
            const { page, ...rest } = paginate(store.listVersions(parent), r, parent);
            return { cryptoKeyVersions: page.map(versionMessage), ...rest };
        },
    },
    UpdateCryptoKeyVersion: {
        resource: (r: { cryptoKeyVersion?: { name?: string } }) => r.cryptoKeyVersion?.name,
        handle: (r: { cryptoKeyVersion?: { name?: string; state?: string }; updateMask?: FieldMask }, { store }) => {
            const input = r.cryptoKeyVersion ?? {};
            const name = parseVersionName(input.name, "crypto_key_version.name").name;
            for (const path of maskPaths(r.updateMask)) {
                if (path === "external_protection_level_options") throw unimplemented("external_protection_level_options");
                if (path !== "state") throw invalidArgument(`update_mask path "${path}" cannot be updated on a CryptoKeyVersion.`);
            }
            if (input.state !== "ENABLED" && input.state !== "DISABLED") {
                throw invalidArgument(
                    `crypto_key_version.state can only be set to ENABLED or DISABLED, got ${input.state ?? "CRYPTO_KEY_VERSION_STATE_UNSPECIFIED"}; ` +
                        "use DestroyCryptoKeyVersion and RestoreCryptoKeyVersion for other transitions.",
                );
            }
            return versionMessage(store.setVersionState(name, input.state));
        },
    },
    DestroyCryptoKeyVersion: {
        resource: (r: { name?: string }) => r.name,
        handle: (r: { name?: string }, { store }) => versionMessage(store.destroyVersion(parseVersionName(r.name).name)),
    },
    RestoreCryptoKeyVersion: {
        resource: (r: { name?: string }) => r.name,
        handle: (r: { name?: string }, { store }) => versionMessage(store.restoreVersion(parseVersionName(r.name).name)),
    },
    GetPublicKey: {
        resource: (r: { name?: string }) => r.name,
        handle: (r: { name?: string; publicKeyFormat?: string }, { store, faults }) => {
            const version = signingVersion(store, r.name, "GetPublicKey");
            const format = r.publicKeyFormat ?? "PUBLIC_KEY_FORMAT_UNSPECIFIED";
            if (!["PUBLIC_KEY_FORMAT_UNSPECIFIED", "PEM", "DER"].includes(format)) {
                throw invalidArgument(`public_key_format ${format} is not available for algorithm ${version.algorithm}.`);
            }
            requireEnabled(version);
            const privateKey = store.privateKey(version);
            const pem = publicKeyPem(privateKey);
            const common = { algorithm: version.algorithm, name: version.name, protectionLevel: version.protectionLevel };
            if (format === "PUBLIC_KEY_FORMAT_UNSPECIFIED") {
                return { pem, pemCrc32c: int64Value(faults.crc32c(crc32c(Buffer.from(pem)))), ...common };
            }
            // An explicit format answers through public_key (ChecksummedData) instead of pem.
            const data = format === "PEM" ? Buffer.from(pem) : publicKeyDer(privateKey);
            return { ...common, publicKeyFormat: format, publicKey: { data, crc32cChecksum: int64Value(faults.crc32c(crc32c(data))) } };
        },
    },
    AsymmetricSign: {
        resource: (r: SignRequest) => r.name,
        handle: (r: SignRequest, { store, faults }) => {
            const version = signingVersion(store, r.name, "AsymmetricSign");
            const key = ALGORITHMS.get(version.algorithm)!.key;
            if (key.type === "symmetric") throw new Error(`unreachable: ${version.name} is symmetric`);
            if (r.data?.length || r.dataCrc32c) {
                throw invalidArgument(`Algorithm ${version.algorithm} signs a digest: set digest, not data.`);
            }
            const kind = r.digest?.digest;
            const digest = kind && kind !== "externalMu" ? r.digest![kind] : undefined;
            if (!kind || !digest) throw invalidArgument("digest is required.");
            if (r.digestCrc32c && Number(r.digestCrc32c.value ?? 0) !== crc32c(digest)) {
                throw invalidArgument("The checksum in field digest_crc32c did not match the data in field digest.");
            }
            if (kind !== key.digest) {
                throw invalidArgument(`Algorithm ${version.algorithm} requires a ${key.digest.toUpperCase()} digest (digest.${key.digest}), got digest.${kind}.`);
            }
            if (digest.length !== DIGEST_LENGTHS[kind]) {
                throw invalidArgument(`digest.${kind} must be ${DIGEST_LENGTHS[kind]} bytes long, got ${digest.length}.`);
            }
            requireEnabled(version);
            const signature = signDigest(key, store.privateKey(version), digest);
            return {
                signature,
                signatureCrc32c: int64Value(faults.crc32c(crc32c(signature))),
                verifiedDigestCrc32c: r.digestCrc32c !== undefined && r.digestCrc32c !== null,
                name: version.name,
                verifiedDataCrc32c: false,
                protectionLevel: version.protectionLevel,
            };
        },
    },
};

function keyMessage(store: Store, key: CryptoKeyRecord) {
    return cryptoKeyMessage(key, store.primaryOf(key));
}

/** Looks up a version whose key must be an ASYMMETRIC_SIGN key (FAILED_PRECONDITION otherwise). */
function signingVersion(store: Store, name: unknown, method: string): VersionRecord {
    const parsed = parseVersionName(name);
    const version = store.getVersion(parsed.name);
    const purpose = store.getCryptoKey(parsed.cryptoKey).purpose;
    if (purpose !== "ASYMMETRIC_SIGN") {
        throw failedPrecondition(`${method} is not supported for ${parsed.cryptoKey}: its purpose is ${purpose}, not ASYMMETRIC_SIGN.`);
    }
    return version;
}

function requireEnabled(version: VersionRecord): void {
    if (version.state !== "ENABLED") {
        throw failedPrecondition(`${version.name} is not enabled, current state is: ${version.state}.`);
    }
}

function maskPaths(mask: FieldMask | undefined): string[] {
    const paths = mask?.paths ?? [];
    if (paths.length === 0) throw invalidArgument("update_mask is required and must name at least one field.");
    return paths;
}

/** Validates a CreateCryptoKey body: what Cloud KMS rejects is INVALID_ARGUMENT, what we don't model UNIMPLEMENTED. */
function newCryptoKey(input: CryptoKeyInput | undefined): NewCryptoKey {
    if (!input) throw invalidArgument("crypto_key is required.");
    const purpose = input.purpose ?? "CRYPTO_KEY_PURPOSE_UNSPECIFIED";
    if (purpose === "CRYPTO_KEY_PURPOSE_UNSPECIFIED") throw invalidArgument("crypto_key.purpose is required.");
    if (purpose !== "ASYMMETRIC_SIGN" && purpose !== "ENCRYPT_DECRYPT") throw unimplemented(`CryptoKey purpose ${purpose}`);
    if (input.importOnly) throw unimplemented("import_only (key import)");
    if (input.cryptoKeyBackend) throw unimplemented("crypto_key_backend");
    if (input.keyAccessJustificationsPolicy) throw unimplemented("key_access_justifications_policy");
    const requested = input.versionTemplate?.algorithm ?? "CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED";
    const algorithm = requested === "CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED" && purpose === "ENCRYPT_DECRYPT" ? "GOOGLE_SYMMETRIC_ENCRYPTION" : requested;
    return {
        purpose,
        algorithm: checkAlgorithm(algorithm, purpose),
        protectionLevel: protectionLevel(input.versionTemplate?.protectionLevel),
        labels: checkLabels(input.labels ?? {}),
        destroyScheduledDurationMs: destroyScheduledDuration(input.destroyScheduledDuration),
        ...rotation(purpose, input.rotationPeriod, input.nextRotationTime),
    };
}

/** Turns an UpdateCryptoKey mask into changes, rejecting immutable and unknown paths. */
function cryptoKeyChanges(key: CryptoKeyRecord, input: CryptoKeyInput, paths: string[]): CryptoKeyChanges {
    const changes: CryptoKeyChanges = {};
    for (const path of paths) {
        switch (path) {
            case "labels":
                changes.labels = checkLabels(input.labels ?? {});
                break;
            case "version_template":
            case "version_template.algorithm": {
                const level = input.versionTemplate?.protectionLevel;
                if (path === "version_template" && level && level !== "PROTECTION_LEVEL_UNSPECIFIED" && level !== key.protectionLevel) {
                    throw invalidArgument(`The protection level of ${key.name} (${key.protectionLevel}) cannot be changed.`);
                }
                changes.algorithm = checkAlgorithm(input.versionTemplate?.algorithm ?? "CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED", key.purpose);
                break;
            }
            case "rotation_period":
                changes.rotationPeriodMs = rotation(key.purpose, input.rotationPeriod, undefined).rotationPeriodMs;
                break;
            case "next_rotation_time":
                changes.nextRotationTime = rotation(key.purpose, undefined, input.nextRotationTime).nextRotationTime;
                break;
            case "version_template.protection_level":
            case "purpose":
            case "destroy_scheduled_duration":
            case "import_only":
            case "crypto_key_backend":
            case "name":
            case "primary":
            case "create_time":
                throw invalidArgument(`update_mask path "${path}" names a field that cannot be updated.`);
            default:
                throw invalidArgument(`update_mask path "${path}" is not a field of CryptoKey.`);
        }
    }
    return changes;
}

function checkAlgorithm(algorithm: string, purpose: Purpose): string {
    if (algorithm === "CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED") {
        throw invalidArgument(`crypto_key.version_template.algorithm is required for purpose ${purpose}.`);
    }
    if (purposeOfAlgorithm(algorithm) !== purpose) {
        throw invalidArgument(`Algorithm ${algorithm} is not compatible with purpose ${purpose}.`);
    }
    if (!ALGORITHMS.has(algorithm)) throw unimplemented(`Algorithm ${algorithm}`);
    return algorithm;
}

function protectionLevel(level: string | undefined): ProtectionLevel {
    if (!level || level === "PROTECTION_LEVEL_UNSPECIFIED") return "SOFTWARE";
    if (level === "SOFTWARE" || level === "HSM") return level;
    throw unimplemented(`Protection level ${level}`);
}

/** Cloud KMS accepts 24 hours to 120 days; 30 days when left out. */
function destroyScheduledDuration(duration: ProtoTime | undefined): number {
    if (!duration) return DEFAULT_DESTROY_SCHEDULED_MS;
    const ms = fromProtoTime(duration);
    if (ms < DAY_MS || ms > 120 * DAY_MS) {
        throw invalidArgument(`destroy_scheduled_duration must be between 24 hours and 120 days, got ${ms / 1000} s.`);
    }
    return ms;
}

/** Rotation schedules exist for symmetric keys only; Cloud KMS refuses them on asymmetric keys. Not acted upon. */
function rotation(purpose: Purpose, period: ProtoTime | undefined, next: ProtoTime | undefined): { rotationPeriodMs?: number; nextRotationTime?: number } {
    if (!period && !next) return {};
    if (purpose !== "ENCRYPT_DECRYPT") {
        throw invalidArgument(`Keys with purpose ${purpose} do not support automatic rotation (rotation_period, next_rotation_time).`);
    }
    const rotationPeriodMs = period && fromProtoTime(period);
    if (rotationPeriodMs !== undefined && rotationPeriodMs < DAY_MS) {
        throw invalidArgument(`rotation_period must be at least 24 hours, got ${rotationPeriodMs / 1000} s.`);
    }
    return { rotationPeriodMs, nextRotationTime: next && fromProtoTime(next) };
}

const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

/** Google Cloud label rules: at most 64; keys start with a lowercase letter; lowercase, digits, _ and -. */
function checkLabels(labels: Record<string, string>): Record<string, string> {
    const entries = Object.entries(labels);
    if (entries.length > 64) throw invalidArgument(`At most 64 labels are allowed, got ${entries.length}.`);
    for (const [key, value] of entries) {
        if (!LABEL_KEY.test(key) || !LABEL_VALUE.test(value)) throw invalidArgument(`Invalid label ${key}=${value}.`);
    }
    return { ...labels };
}
