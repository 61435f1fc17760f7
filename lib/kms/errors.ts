/**
 * Turning Cloud KMS failures into decisions (retry or not) and into messages a platform engineer can act on.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";
import { type KeyVersionName, parseKeyVersionName } from "./names";

/** The KMS methods the certificate providers call. */
export type KmsMethod = "GetPublicKey" | "AsymmetricSign" | "GetCryptoKeyVersion" | "UpdateCryptoKeyVersion";

/** The IAM permission each method needs, and the narrowest predefined role that grants it. */
export const KMS_METHOD_PERMISSIONS: Readonly<Record<KmsMethod, { permission: string; role: string }>> = {
    GetPublicKey: { permission: "cloudkms.cryptoKeyVersions.viewPublicKey", role: "roles/cloudkms.publicKeyViewer" },
    AsymmetricSign: { permission: "cloudkms.cryptoKeyVersions.useToSign", role: "roles/cloudkms.signer" },
    GetCryptoKeyVersion: { permission: "cloudkms.cryptoKeyVersions.get", role: "roles/cloudkms.viewer" },
    // Enabling and disabling an offline root's version; no narrower predefined role grants it.
    UpdateCryptoKeyVersion: { permission: "cloudkms.cryptoKeyVersions.update", role: "roles/cloudkms.admin" },
};

/**
 * Codes Cloud KMS documents as transient: retrying the same request later can succeed. An array, not a Set: Pulumi's
 * closure serializer turns a captured Set into a plain object, and `has` then throws inside a serialized provider.
 */
const TRANSIENT_CODES: readonly number[] = [
    GrpcStatus.UNAVAILABLE,
    GrpcStatus.DEADLINE_EXCEEDED,
    GrpcStatus.RESOURCE_EXHAUSTED,
    GrpcStatus.ABORTED,
    GrpcStatus.INTERNAL,
];

/**
 * A KMS response that failed an end-to-end integrity check (CRC32C or resource name). Google's guidance is to
 * discard it and retry a bounded number of times: the corruption happened in transit, not in the key.
 */
export class KmsIntegrityError extends Error {
    constructor(
        readonly method: KmsMethod,
        readonly keyVersion: string,
        problem: string,
    ) {
        super(integrityMessage(method, keyVersion, problem));
        keepErrorFields(this, "KmsIntegrityError", integrityMessage(method, keyVersion, problem));
    }
}

/** A KMS call that failed for good, with the gRPC code kept for callers that branch on it. */
export class KmsCallError extends Error {
    constructor(
        readonly method: KmsMethod,
        readonly keyVersion: string,
        readonly code: number | undefined,
        message: string,
    ) {
        super(message);
        keepErrorFields(this, "KmsCallError", message);
    }
}

function integrityMessage(method: KmsMethod, keyVersion: string, problem: string): string {
    return `Cloud KMS ${method} on ${keyVersion} failed an integrity check: ${problem}`;
}

/**
 * Does what `extends Error` and `super(message)` should have done. Pulumi's closure serializer turns `super(message)`
 * in a class that extends Error into `Error.call(this, message)`, which sets nothing on `this`, and leaves the class's
 * prototype outside Error's: in a serialized dynamic provider (the one `pulumi up` runs) the error would reach the
 * user with no message, no stack, and print as "[object Object]". Harmless outside the serializer.
 */
function keepErrorFields(error: Error, name: string, message: string): void {
    if (!(error instanceof Error)) {
        Object.setPrototypeOf(Object.getPrototypeOf(error), Error.prototype);
    }
    error.name = name;
    error.message = message;
    if (!error.stack) {
        Error.captureStackTrace(error);
    }
}

/** The gRPC status code of an error thrown by `@google-cloud/kms`, if it has one. */
function grpcCode(error: unknown): number | undefined {
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === "number" ? code : undefined;
}

/** Whether retrying can help: transient gRPC codes and responses corrupted in transit. */
export function isTransientKmsError(error: unknown): boolean {
    if (error instanceof KmsIntegrityError) {
        return true;
    }
    const code = grpcCode(error);
    return code !== undefined && TRANSIENT_CODES.includes(code);
}

/**
 * Wraps a final KMS failure in a message that names the key version, the method and, for PERMISSION_DENIED, the
 * missing permission and the gcloud command that grants it.
 */
export function kmsCallError(method: KmsMethod, keyVersion: string, error: unknown): Error {
    if (error instanceof KmsIntegrityError || error instanceof KmsCallError) {
        return error;
    }
    const code = grpcCode(error);
    const details = (error as { details?: unknown } | null)?.details ?? (error as Error | null)?.message ?? error;
    const codeName = code === undefined ? "error" : (GrpcStatus[code] ?? `code ${code}`);
    let advice = "";
    if (code === GrpcStatus.PERMISSION_DENIED) {
        const { permission, role } = KMS_METHOD_PERMISSIONS[method];
        advice = ` The identity running Pulumi lacks ${permission} on that key. ${grantHint(keyVersion, role)}`;
    } else if (code === GrpcStatus.NOT_FOUND) {
        advice = " The key version does not exist: check the name, the project and the location.";
    }
    return new KmsCallError(
        method,
        keyVersion,
        code,
        `Cloud KMS ${method} on ${keyVersion} failed with ${codeName}: ${String(details).replace(/\.$/, "")}.${advice}`,
    );
}

function grantHint(keyVersion: string, role: string): string {
    let key: KeyVersionName;
    try {
        key = parseKeyVersionName(keyVersion);
    } catch {
        return `Grant ${role} on the crypto key that holds it.`;
    }
    return (
        `Grant ${role} on the crypto key, for example: gcloud kms keys add-iam-policy-binding ${key.cryptoKey} ` +
        `--keyring ${key.keyRing} --location ${key.location} --project ${key.project} ` +
        `--member <principal running pulumi> --role ${role}`
    );
}
