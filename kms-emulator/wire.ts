import type { CryptoKeyRecord, KeyRingRecord, VersionRecord } from "./store";

/** google.protobuf.Timestamp / Duration as proto-loader objects (int64 seconds travel as strings). */
export interface ProtoTime {
    seconds?: string | number;
    nanos?: number;
}

/** Milliseconds (epoch or span) → Timestamp/Duration message. */
function toProtoTime(ms: number): ProtoTime {
    const seconds = Math.floor(ms / 1000);
    return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Timestamp/Duration message → milliseconds; sub-millisecond nanos are dropped. */
export function fromProtoTime(time: ProtoTime): number {
    return Number(time.seconds ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}

/** google.protobuf.Int64Value, the wrapper Cloud KMS uses for CRC32C values. */
export function int64Value(value: number): { value: string } {
    return { value: String(value) };
}

export function keyRingMessage(keyRing: KeyRingRecord) {
    return { name: keyRing.name, createTime: toProtoTime(keyRing.createTime) };
}

/** A CryptoKeyVersion as Cloud KMS shows it: no generate_time until generation has finished. */
export function versionMessage(version: VersionRecord) {
    return {
        name: version.name,
        state: version.state,
        protectionLevel: version.protectionLevel,
        algorithm: version.algorithm,
        createTime: toProtoTime(version.createTime),
        generateTime: version.state === "PENDING_GENERATION" ? undefined : toProtoTime(version.generateTime),
        destroyTime: optionalTime(version.destroyTime),
        destroyEventTime: optionalTime(version.destroyEventTime),
    };
}

/** A CryptoKey; `primary` is given only for symmetric keys, as the real API does. */
export function cryptoKeyMessage(key: CryptoKeyRecord, primary: VersionRecord | undefined) {
    return {
        name: key.name,
        primary: primary && versionMessage(primary),
        purpose: key.purpose,
        createTime: toProtoTime(key.createTime),
        nextRotationTime: optionalTime(key.nextRotationTime),
        rotationPeriod: optionalTime(key.rotationPeriodMs),
        versionTemplate: { protectionLevel: key.protectionLevel, algorithm: key.algorithm },
        labels: key.labels,
        importOnly: false,
        destroyScheduledDuration: toProtoTime(key.destroyScheduledDurationMs),
    };
}

function optionalTime(ms: number | undefined): ProtoTime | undefined {
    return ms === undefined ? undefined : toProtoTime(ms);
}
