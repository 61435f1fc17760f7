import { status } from "@grpc/grpc-js";
import { KmsError } from "./errors";
import { isWithin, parseCryptoKeyName } from "./names";

/** The IAM permission Cloud KMS checks for each RPC, named in PERMISSION_DENIED messages. */
export const PERMISSIONS: Readonly<Record<string, string>> = {
    CreateKeyRing: "cloudkms.keyRings.create",
    GetKeyRing: "cloudkms.keyRings.get",
    ListKeyRings: "cloudkms.keyRings.list",
    CreateCryptoKey: "cloudkms.cryptoKeys.create",
    GetCryptoKey: "cloudkms.cryptoKeys.get",
    ListCryptoKeys: "cloudkms.cryptoKeys.list",
    UpdateCryptoKey: "cloudkms.cryptoKeys.update",
    CreateCryptoKeyVersion: "cloudkms.cryptoKeyVersions.create",
    GetCryptoKeyVersion: "cloudkms.cryptoKeyVersions.get",
    ListCryptoKeyVersions: "cloudkms.cryptoKeyVersions.list",
    UpdateCryptoKeyVersion: "cloudkms.cryptoKeyVersions.update",
    DestroyCryptoKeyVersion: "cloudkms.cryptoKeyVersions.destroy",
    RestoreCryptoKeyVersion: "cloudkms.cryptoKeyVersions.restore",
    GetPublicKey: "cloudkms.cryptoKeyVersions.viewPublicKey",
    AsymmetricSign: "cloudkms.cryptoKeyVersions.useToSign",
};

/**
 * Faults a test switches on to see how a client copes with a misbehaving Cloud KMS: added latency,
 * a run of failing calls (UNAVAILABLE by default, which the client library retries), PERMISSION_DENIED on
 * chosen crypto keys (and their versions), wrong CRC32C values in responses, and calls that take effect but whose
 * answer is lost or held (a create Cloud KMS completes after the client gave up, or while the client is killed).
 */
export class Faults {
    /** Delay added before every call is handled. */
    latencyMs = 0;
    /** When true, signature_crc32c, pem_crc32c and public_key.crc32c_checksum are off by one bit. */
    corruptCrc32c = false;
    private failures = 0;
    private failureCode: status = status.UNAVAILABLE;
    private readonly deniedKeys = new Set<string>();
    /** Per method: how many more calls take effect and are then answered with an error instead. */
    private readonly lostAnswers = new Map<string, { count: number; code: status }>();
    private readonly heldMethods = new Set<string>();
    private releaseHeld: (() => void)[] = [];
    /** Calls of each method held unanswered right now. */
    readonly held = new Map<string, number>();

    /** The next `n` calls (any method) fail with `code` before reaching their handler. */
    failNext(n: number, code: number = status.UNAVAILABLE): void {
        if (!Number.isInteger(n) || n < 0) throw new RangeError(`failNext: n must be a non-negative integer, got ${n}`);
        if (!Number.isInteger(code) || code <= status.OK || code > status.UNAUTHENTICATED) {
            throw new RangeError(`failNext: code must be a gRPC error status (1-16), got ${code}`);
        }
        this.failures = n;
        this.failureCode = code;
    }

    /** Every call on this crypto key or its versions fails with PERMISSION_DENIED, as if IAM lacked the permission. */
    denyKey(cryptoKeyName: string): void {
        this.deniedKeys.add(parseCryptoKeyName(cryptoKeyName, "denyKey").name);
    }

    /**
     * The next `n` calls of `method` take effect (a create creates), then are answered with `code` instead of their
     * result: what a client sees when Cloud KMS completes a call after the client's deadline (DEADLINE_EXCEEDED, the
     * default) or when the answer is lost on the way (UNAVAILABLE, which the client library retries).
     */
    loseAnswers(method: string, n = 1, code: number = status.DEADLINE_EXCEEDED): void {
        if (!Number.isInteger(n) || n < 0) throw new RangeError(`loseAnswers: n must be a non-negative integer, got ${n}`);
        this.lostAnswers.set(method, { count: n, code });
    }

    /**
     * Calls of `method` take effect but get no answer until `clear()` (or the server stops): the client hangs, as a
     * `pulumi up` does while Cloud KMS is slow, so a test can kill it mid-create.
     */
    holdAnswers(method: string): void {
        this.heldMethods.add(method);
    }

    clear(): void {
        this.latencyMs = 0;
        this.corruptCrc32c = false;
        this.failures = 0;
        this.deniedKeys.clear();
        this.lostAnswers.clear();
        this.heldMethods.clear();
        for (const release of this.releaseHeld.splice(0)) release();
    }

    /** After `method` took effect: resolves when its answer may go out, with the error to send instead, if any. */
    async afterEffect(method: string): Promise<KmsError | undefined> {
        if (this.heldMethods.has(method)) {
            this.held.set(method, (this.held.get(method) ?? 0) + 1);
            await new Promise<void>((resolve) => this.releaseHeld.push(resolve));
            this.held.set(method, this.held.get(method)! - 1);
        }
        const lost = this.lostAnswers.get(method);
        if (!lost || lost.count === 0) return undefined;
        lost.count--;
        return new KmsError(lost.code, `${method} took effect, but its answer was lost: fault injected by the KMS emulator (status ${status[lost.code]}).`);
    }

    /** Consumes one injected failure, if any are left. */
    takeFailure(method: string): KmsError | undefined {
        if (this.failures === 0) return undefined;
        this.failures--;
        return new KmsError(this.failureCode, `${method} failed: fault injected by the KMS emulator (status ${status[this.failureCode]}).`);
    }

    /** PERMISSION_DENIED in Cloud KMS's words when `resource` lies under a denied key, else undefined. */
    permissionDenied(method: string, resource: unknown): KmsError | undefined {
        if (typeof resource !== "string" || ![...this.deniedKeys].some((key) => isWithin(resource, key))) return undefined;
        return new KmsError(
            status.PERMISSION_DENIED,
            `Permission '${PERMISSIONS[method]}' denied on resource '${resource}' (or it may not exist).`,
        );
    }

    /** The CRC32C to put in a response: the true one, or a corrupted one when that fault is on. */
    crc32c(value: number): number {
        return this.corruptCrc32c ? (value ^ 1) >>> 0 : value;
    }
}
