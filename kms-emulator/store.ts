import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { status } from "@grpc/grpc-js";
import { ALGORITHMS } from "./algorithms";
import { KmsError, failedPrecondition, notFound } from "./errors";
import { generateKeyMaterial } from "./signer";

export type Purpose = "ASYMMETRIC_SIGN" | "ENCRYPT_DECRYPT";
export type ProtectionLevel = "SOFTWARE" | "HSM";
export type VersionState = "PENDING_GENERATION" | "ENABLED" | "DISABLED" | "DESTROY_SCHEDULED" | "DESTROYED";

export interface KeyRingRecord {
    readonly name: string;
    readonly createTime: number;
}

export interface CryptoKeyRecord {
    readonly name: string;
    readonly purpose: Purpose;
    readonly createTime: number;
    /** Version template: what CreateCryptoKeyVersion makes next. */
    algorithm: string;
    readonly protectionLevel: ProtectionLevel;
    labels: Record<string, string>;
    readonly destroyScheduledDurationMs: number;
    rotationPeriodMs?: number;
    nextRotationTime?: number;
    /** ENCRYPT_DECRYPT keys only; asymmetric keys have no primary, as in Cloud KMS. */
    primaryId?: number;
    /** Highest version id handed out; ids are never reused. */
    lastVersionId: number;
}

export interface VersionRecord {
    readonly name: string;
    state: VersionState;
    readonly algorithm: string;
    readonly protectionLevel: ProtectionLevel;
    readonly createTime: number;
    /** When generation completes; in the future while PENDING_GENERATION. */
    readonly generateTime: number;
    destroyTime?: number;
    destroyEventTime?: number;
    /** PKCS#8 PEM (asymmetric) or base64 (symmetric). Erased when the version is DESTROYED. */
    keyMaterial?: string;
}

/** Mutable fields of a crypto key; a field present with value `undefined` clears it. */
export type CryptoKeyChanges = Partial<Pick<CryptoKeyRecord, "algorithm" | "labels" | "rotationPeriodMs" | "nextRotationTime">>;

export interface NewCryptoKey {
    purpose: Purpose;
    algorithm: string;
    protectionLevel: ProtectionLevel;
    labels: Record<string, string>;
    destroyScheduledDurationMs: number;
    rotationPeriodMs?: number;
    nextRotationTime?: number;
}

export interface StoreOptions {
    /** JSON state file; omitted keeps everything in memory. */
    file?: string;
    /** How long HSM versions stay PENDING_GENERATION. */
    hsmPendingMs: number;
    now: () => number;
}

const STATE_FORMAT = "stepca-cloudkms/kms-emulator-state";

interface StateFile {
    format: typeof STATE_FORMAT;
    version: 1;
    keyRings: KeyRingRecord[];
    cryptoKeys: CryptoKeyRecord[];
    cryptoKeyVersions: VersionRecord[];
}

/**
 * All emulator state: key rings, crypto keys, versions and their private keys. This is the emulator's HSM, so
 * the state file holds private keys in clear and is kept at mode 0600. Every mutation is written at once,
 * atomically (temp file + fsync + rename), so a crash or kill never leaves a torn file. Time-driven
 * transitions (PENDING_GENERATION → ENABLED, DESTROY_SCHEDULED → DESTROYED) are applied when a version is read.
 */
export class Store {
    private readonly keyRings = new Map<string, KeyRingRecord>();
    private readonly cryptoKeys = new Map<string, CryptoKeyRecord>();
    private readonly versions = new Map<string, VersionRecord>();
    private readonly keyObjects = new Map<string, crypto.KeyObject>();

    constructor(private readonly options: StoreOptions) {
        const file = options.file;
        if (!file) return;
        if (fs.existsSync(file)) {
            this.load(file);
            fs.chmodSync(file, 0o600);
        } else {
            this.save(); // surfaces an unwritable path at startup, not at the first key
        }
    }

    createKeyRing(parent: string, id: string): KeyRingRecord {
        const name = `${parent}/keyRings/${id}`;
        if (this.keyRings.has(name)) throw alreadyExists("KeyRing", name);
        const keyRing = { name, createTime: this.options.now() };
        this.keyRings.set(name, keyRing);
        this.save();
        return keyRing;
    }

    getKeyRing(name: string): KeyRingRecord {
        return this.keyRings.get(name) ?? fail(notFound(`KeyRing ${name} not found.`));
    }

    listKeyRings(location: string): KeyRingRecord[] {
        return children(this.keyRings, `${location}/keyRings/`);
    }

    /** Creates a key and, unless skipped, its version 1 (the primary, for symmetric keys). */
    async createCryptoKey(keyRing: string, id: string, spec: NewCryptoKey, skipInitialVersion: boolean): Promise<CryptoKeyRecord> {
        this.getKeyRing(keyRing);
        const name = `${keyRing}/cryptoKeys/${id}`;
        if (this.cryptoKeys.has(name)) throw alreadyExists("CryptoKey", name);
        const material = skipInitialVersion ? undefined : await generateKeyMaterial(ALGORITHMS.get(spec.algorithm)!);
        // Another request may have created the same key while this one generated material.
        if (this.cryptoKeys.has(name)) throw alreadyExists("CryptoKey", name);
        const key: CryptoKeyRecord = { name, createTime: this.options.now(), lastVersionId: 0, ...spec };
        this.cryptoKeys.set(name, key);
        if (material) {
            this.addVersion(key, ++key.lastVersionId, material);
            if (spec.purpose === "ENCRYPT_DECRYPT") key.primaryId = 1;
        }
        this.save();
        return key;
    }

    getCryptoKey(name: string): CryptoKeyRecord {
        return this.cryptoKeys.get(name) ?? fail(notFound(`CryptoKey ${name} not found.`));
    }

    listCryptoKeys(keyRing: string): CryptoKeyRecord[] {
        this.getKeyRing(keyRing);
        return children(this.cryptoKeys, `${keyRing}/cryptoKeys/`);
    }

    updateCryptoKey(name: string, changes: CryptoKeyChanges): CryptoKeyRecord {
        const key = Object.assign(this.getCryptoKey(name), changes);
        this.save();
        return key;
    }

    /** The primary version of a symmetric key, if it has one. */
    primaryOf(key: CryptoKeyRecord): VersionRecord | undefined {
        return key.primaryId === undefined ? undefined : this.getVersion(`${key.name}/cryptoKeyVersions/${key.primaryId}`);
    }

    /** Adds a version made from the key's current version template. */
    async createVersion(cryptoKey: string): Promise<VersionRecord> {
        const key = this.getCryptoKey(cryptoKey);
        const id = ++key.lastVersionId; // reserved before the await, so concurrent creates get distinct ids
        const version = this.addVersion(key, id, await generateKeyMaterial(ALGORITHMS.get(key.algorithm)!));
        this.save();
        return version;
    }

    getVersion(name: string): VersionRecord {
        const version = this.versions.get(name) ?? fail(notFound(`CryptoKeyVersion ${name} not found.`));
        return this.settle(version);
    }

    listVersions(cryptoKey: string): VersionRecord[] {
        this.getCryptoKey(cryptoKey);
        return children(this.versions, `${cryptoKey}/cryptoKeyVersions/`).map((v) => this.settle(v));
    }

    /** ENABLED ⇄ DISABLED, the only moves UpdateCryptoKeyVersion may make. */
    setVersionState(name: string, state: "ENABLED" | "DISABLED"): VersionRecord {
        const version = this.getVersion(name);
        if (version.state !== "ENABLED" && version.state !== "DISABLED") {
            throw failedPrecondition(`${name} cannot be set to ${state}: current state is ${version.state}.`);
        }
        version.state = state;
        this.save();
        return version;
    }

    /** Schedules destruction after the key's destroy_scheduled_duration. */
    destroyVersion(name: string): VersionRecord {
        const version = this.getVersion(name);
        if (version.state !== "ENABLED" && version.state !== "DISABLED") {
            throw failedPrecondition(`${name} cannot be destroyed: current state is ${version.state}.`);
        }
        const key = this.getCryptoKey(name.slice(0, name.lastIndexOf("/cryptoKeyVersions/")));
        version.state = "DESTROY_SCHEDULED";
        version.destroyTime = this.options.now() + key.destroyScheduledDurationMs;
        this.save();
        return version;
    }

    /** Cancels a scheduled destruction; the version comes back DISABLED, as in Cloud KMS. */
    restoreVersion(name: string): VersionRecord {
        const version = this.getVersion(name);
        if (version.state !== "DESTROY_SCHEDULED") {
            throw failedPrecondition(`${name} cannot be restored: current state is ${version.state}, not DESTROY_SCHEDULED.`);
        }
        version.state = "DISABLED";
        delete version.destroyTime;
        this.save();
        return version;
    }

    /** The version's private key; only meaningful for a version the caller has checked is ENABLED. */
    privateKey(version: VersionRecord): crypto.KeyObject {
        let key = this.keyObjects.get(version.name);
        if (!key) {
            if (!version.keyMaterial) throw new KmsError(status.INTERNAL, `${version.name} has no key material.`);
            key = crypto.createPrivateKey(version.keyMaterial);
            this.keyObjects.set(version.name, key);
        }
        return key;
    }

    /** Writes the state file (a no-op in memory); the server calls it on stop. */
    save(): void {
        const file = this.options.file;
        if (!file) return;
        const state: StateFile = {
            format: STATE_FORMAT,
            version: 1,
            keyRings: [...this.keyRings.values()],
            cryptoKeys: [...this.cryptoKeys.values()],
            cryptoKeyVersions: [...this.versions.values()],
        };
        writeAtomically(file, `${JSON.stringify(state, null, 2)}\n`);
    }

    private addVersion(key: CryptoKeyRecord, id: number, keyMaterial: string): VersionRecord {
        const now = this.options.now();
        const pending = key.protectionLevel === "HSM" && this.options.hsmPendingMs > 0;
        const version: VersionRecord = {
            name: `${key.name}/cryptoKeyVersions/${id}`,
            state: pending ? "PENDING_GENERATION" : "ENABLED",
            algorithm: key.algorithm,
            protectionLevel: key.protectionLevel,
            createTime: now,
            generateTime: pending ? now + this.options.hsmPendingMs : now,
            keyMaterial,
        };
        this.versions.set(version.name, version);
        return version;
    }

    /** Applies the transitions Cloud KMS makes on its own as time passes. */
    private settle(version: VersionRecord): VersionRecord {
        const now = this.options.now();
        if (version.state === "PENDING_GENERATION" && now >= version.generateTime) {
            version.state = "ENABLED";
            this.save();
        } else if (version.state === "DESTROY_SCHEDULED" && now >= version.destroyTime!) {
            version.state = "DESTROYED";
            version.destroyEventTime = version.destroyTime;
            delete version.destroyTime;
            delete version.keyMaterial;
            this.keyObjects.delete(version.name);
            this.save();
        }
        return version;
    }

    private load(file: string): void {
        let state: StateFile;
        try {
            state = JSON.parse(fs.readFileSync(file, "utf8")) as StateFile;
        } catch (err) {
            throw new Error(`KMS emulator state file ${file} is not readable JSON: ${(err as Error).message}`);
        }
        if (state.format !== STATE_FORMAT || state.version !== 1) {
            throw new Error(`${file} is not a KMS emulator state file (format ${STATE_FORMAT} v1)`);
        }
        for (const r of state.keyRings) this.keyRings.set(r.name, r);
        for (const k of state.cryptoKeys) this.cryptoKeys.set(k.name, k);
        for (const v of state.cryptoKeyVersions) this.versions.set(v.name, v);
    }
}

function children<T>(records: Map<string, T>, prefix: string): T[] {
    return [...records].filter(([name]) => name.startsWith(prefix)).map(([, record]) => record);
}

function alreadyExists(kind: string, name: string): KmsError {
    return new KmsError(status.ALREADY_EXISTS, `${kind} ${name} already exists.`);
}

function fail(error: Error): never {
    throw error;
}

/** Temp file in the same directory (so rename is atomic), created 0600, fsynced, then renamed over the target. */
function writeAtomically(file: string, data: string): void {
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`);
    const fd = fs.openSync(temp, "wx", 0o600);
    try {
        fs.writeSync(fd, data);
        fs.fsyncSync(fd);
    } finally {
        fs.closeSync(fd);
    }
    try {
        fs.renameSync(temp, file);
    } catch (err) {
        fs.rmSync(temp, { force: true });
        throw err;
    }
}
