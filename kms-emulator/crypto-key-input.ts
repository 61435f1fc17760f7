import { ALGORITHMS, purposeOfAlgorithm } from "./algorithms";
import { invalidArgument, unimplemented } from "./errors";
import type { CryptoKeyChanges, CryptoKeyRecord, NewCryptoKey, ProtectionLevel, Purpose } from "./store";
import { type ProtoTime, fromProtoTime } from "./wire";

const DAY_MS = 24 * 3600 * 1000;
const DEFAULT_DESTROY_SCHEDULED_MS = 30 * DAY_MS;

/** A CryptoKey message as a client sends it in CreateCryptoKey or UpdateCryptoKey (proto-loader shape). */
export interface CryptoKeyInput {
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

/** Validates a CreateCryptoKey body: what Cloud KMS rejects is INVALID_ARGUMENT, what we don't model UNIMPLEMENTED. */
export function newCryptoKey(input: CryptoKeyInput | undefined): NewCryptoKey {
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
export function cryptoKeyChanges(key: CryptoKeyRecord, input: CryptoKeyInput, paths: string[]): CryptoKeyChanges {
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
