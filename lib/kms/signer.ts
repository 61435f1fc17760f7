/**
 * The Cloud KMS calls the certificate providers make (GetPublicKey, AsymmetricSign, GetCryptoKeyVersion, and
 * UpdateCryptoKeyVersion for an offline root), each with Google's end-to-end integrity checks
 * (CRC32C of what goes out and what comes back, and the resource name echoed back), bounded retries of transient
 * failures, and errors that name the key version and what to do.
 */
import { crc32c } from "@aws-crypto/crc32c";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { type KmsDigestName, type KmsSigningAlgorithm, kmsSigningAlgorithm } from "./algorithms";
import {
    KmsCallError,
    KmsIntegrityError,
    type KmsMethod,
    isTransientKmsError,
    kmsCallError,
} from "./errors";
import { parseKeyVersionName } from "./names";
import { DEFAULT_RETRY_POLICY, type RetryPolicy, backoffDelayMs, withRetry } from "./retry";

/** The part of the KMS client these helpers use, so tests and the benchmark can count or fake calls. */
export type KmsClient = Pick<
    KeyManagementServiceClient,
    "getPublicKey" | "asymmetricSign" | "getCryptoKeyVersion" | "updateCryptoKeyVersion"
>;

export interface KmsCallOptions {
    /** Retries of transient failures (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, corrupted CRC32C...). */
    readonly retry?: RetryPolicy;
    /** How long GetPublicKey waits for an HSM key version to leave PENDING_GENERATION. */
    readonly pendingGenerationTimeoutMs?: number;
    /** Deadline of a single RPC. */
    readonly callTimeoutMs?: number;
}

/** A key version's public key as KMS reported it, checked end to end. */
export interface KmsPublicKey {
    /** SubjectPublicKeyInfo, PEM. */
    readonly pem: string;
    readonly algorithm: KmsSigningAlgorithm;
    /** SOFTWARE, HSM, EXTERNAL... */
    readonly protectionLevel: string;
}

/** A key version's metadata, as GetCryptoKeyVersion reports it. */
export interface KmsKeyVersionInfo {
    /** ENABLED, DISABLED, DESTROYED, DESTROY_SCHEDULED, PENDING_GENERATION... */
    readonly state: string;
    readonly algorithm: string;
}

const PENDING_POLL: RetryPolicy = { attempts: Infinity, initialDelayMs: 250, maxDelayMs: 4_000 };
const DEFAULT_PENDING_GENERATION_TIMEOUT_MS = 60_000;
const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/**
 * GetPublicKey, verified with `pem_crc32c` and the echoed name. A version still in PENDING_GENERATION (HSM keys
 * right after creation) is waited for within `pendingGenerationTimeoutMs`; any other non-ENABLED state fails at once
 * with the state and the gcloud command that fixes it.
 */
export async function getPublicKey(
    client: KmsClient,
    keyVersion: string,
    options: KmsCallOptions = {},
): Promise<KmsPublicKey> {
    const deadline = Date.now() + (options.pendingGenerationTimeoutMs ?? DEFAULT_PENDING_GENERATION_TIMEOUT_MS);
    for (let poll = 1; ; poll++) {
        try {
            return await kmsCall("GetPublicKey", keyVersion, options, async () => {
                const [response] = await client.getPublicKey({ name: keyVersion }, callOptions(options));
                const pem = response.pem ?? "";
                checkName("GetPublicKey", keyVersion, response.name);
                checkCrc32c("GetPublicKey", keyVersion, "pem_crc32c", Buffer.from(pem, "utf8"), response.pemCrc32c);
                return {
                    pem,
                    algorithm: kmsSigningAlgorithm(String(response.algorithm)),
                    protectionLevel: String(response.protectionLevel),
                };
            });
        } catch (error) {
            if (!(error instanceof KmsCallError) || error.code !== GrpcStatus.FAILED_PRECONDITION) {
                throw error;
            }
            const { state } = await getKeyVersion(client, keyVersion, options);
            if (state !== "PENDING_GENERATION") {
                throw notEnabledError("GetPublicKey", keyVersion, state);
            }
            const remaining = deadline - Date.now();
            if (remaining <= 0) {
                throw new KmsCallError(
                    "GetPublicKey",
                    keyVersion,
                    GrpcStatus.FAILED_PRECONDITION,
                    `Cloud KMS key version ${keyVersion} is still PENDING_GENERATION after ` +
                        `${options.pendingGenerationTimeoutMs ?? DEFAULT_PENDING_GENERATION_TIMEOUT_MS} ms; ` +
                        `HSM keys usually take seconds: run the deployment again shortly`,
                );
            }
            await sleep(Math.min(remaining, backoffDelayMs(PENDING_POLL, poll)));
        }
    }
}

/**
 * AsymmetricSign over a precomputed digest, sending `digest_crc32c` and checking `verified_digest_crc32c`, the echoed
 * name and `signature_crc32c`. Returns the signature as KMS encodes it (DER for ECDSA).
 */
export async function asymmetricSign(
    client: KmsClient,
    keyVersion: string,
    digestName: KmsDigestName,
    digest: Uint8Array,
    options: KmsCallOptions = {},
): Promise<Uint8Array> {
    const digestCrc32c = crc32c(digest);
    return kmsCall("AsymmetricSign", keyVersion, options, async () => {
        const [response] = await client.asymmetricSign(
            { name: keyVersion, digest: { [digestName]: digest }, digestCrc32c: { value: digestCrc32c } },
            callOptions(options),
        );
        if (response.verifiedDigestCrc32c !== true) {
            throw new KmsIntegrityError("AsymmetricSign", keyVersion, "KMS did not verify the digest's CRC32C");
        }
        checkName("AsymmetricSign", keyVersion, response.name);
        const signature = bytes(response.signature);
        checkCrc32c("AsymmetricSign", keyVersion, "signature_crc32c", signature, response.signatureCrc32c);
        return signature;
    });
}

/** GetCryptoKeyVersion: the version's state and algorithm, for refresh-time drift detection. */
export async function getKeyVersion(
    client: KmsClient,
    keyVersion: string,
    options: KmsCallOptions = {},
): Promise<KmsKeyVersionInfo> {
    return kmsCall("GetCryptoKeyVersion", keyVersion, options, async () => {
        const [response] = await client.getCryptoKeyVersion({ name: keyVersion }, callOptions(options));
        checkName("GetCryptoKeyVersion", keyVersion, response.name);
        return { state: String(response.state), algorithm: String(response.algorithm) };
    });
}

/** UpdateCryptoKeyVersion of `state` only: ENABLED or DISABLED (either is a no-op when the version is already so). */
export async function setKeyVersionState(
    client: KmsClient,
    keyVersion: string,
    state: "ENABLED" | "DISABLED",
    options: KmsCallOptions = {},
): Promise<void> {
    await kmsCall("UpdateCryptoKeyVersion", keyVersion, options, async () => {
        const [response] = await client.updateCryptoKeyVersion(
            { cryptoKeyVersion: { name: keyVersion, state }, updateMask: { paths: ["state"] } },
            callOptions(options),
        );
        checkName("UpdateCryptoKeyVersion", keyVersion, response.name);
    });
}

async function kmsCall<T>(
    method: KmsMethod,
    keyVersion: string,
    options: KmsCallOptions,
    operation: () => Promise<T>,
): Promise<T> {
    try {
        return await withRetry(operation, isTransientKmsError, options.retry ?? DEFAULT_RETRY_POLICY);
    } catch (error) {
        throw kmsCallError(method, keyVersion, error);
    }
}

/** Our retry policy replaces google-gax's (which would otherwise retry for up to 10 minutes underneath it). */
function callOptions(options: KmsCallOptions): { retry: null; timeout: number } {
    return { retry: null, timeout: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS };
}

function checkName(method: KmsMethod, keyVersion: string, name: string | null | undefined): void {
    if (name !== keyVersion) {
        throw new KmsIntegrityError(method, keyVersion, `the response names ${JSON.stringify(name)}`);
    }
}

function checkCrc32c(
    method: KmsMethod,
    keyVersion: string,
    field: string,
    data: Uint8Array,
    checksum: { value?: number | string | { toString(): string } | null } | null | undefined,
): void {
    if (checksum?.value === undefined || checksum.value === null) {
        throw new KmsIntegrityError(method, keyVersion, `the response carries no ${field}`);
    }
    if (Number(checksum.value.toString()) !== crc32c(data)) {
        throw new KmsIntegrityError(method, keyVersion, `${field} does not match the data received`);
    }
}

function notEnabledError(method: KmsMethod, keyVersion: string, state: string): KmsCallError {
    const { project, location, keyRing, cryptoKey, version } = parseKeyVersionName(keyVersion);
    const where = `${version} --key ${cryptoKey} --keyring ${keyRing} --location ${location} --project ${project}`;
    const fix =
        state === "DISABLED"
            ? `enable it (gcloud kms keys versions enable ${where})`
            : state === "DESTROY_SCHEDULED"
              ? `restore it before its destroy time, then enable it (gcloud kms keys versions restore ${where} && ` +
                `gcloud kms keys versions enable ${where}), or point the stack at a new key version`
              : "point the stack at a new key version";
    return new KmsCallError(
        method,
        keyVersion,
        GrpcStatus.FAILED_PRECONDITION,
        `Cloud KMS key version ${keyVersion} is ${state}; only ENABLED versions can be used: ${fix}`,
    );
}

function bytes(value: Uint8Array | string | null | undefined): Uint8Array {
    return typeof value === "string" ? Buffer.from(value, "base64") : (value ?? new Uint8Array());
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
