import { status } from "@grpc/grpc-js";

/**
 * An error carrying the gRPC status Cloud KMS would answer with. Thrown anywhere in the emulator; the server
 * sends its code and message unchanged, so clients see the same codes they would see from Google.
 */
export class KmsError extends Error {
    constructor(
        readonly code: status,
        message: string,
    ) {
        super(message);
        this.name = "KmsError";
    }
}

/** INVALID_ARGUMENT: the request itself is malformed (bad name, wrong digest, bad field). */
export const invalidArgument = (message: string) => new KmsError(status.INVALID_ARGUMENT, message);

/** NOT_FOUND: a well-formed name that names nothing. */
export const notFound = (message: string) => new KmsError(status.NOT_FOUND, message);

/** FAILED_PRECONDITION: the resource exists but its state or purpose forbids the operation. */
export const failedPrecondition = (message: string) => new KmsError(status.FAILED_PRECONDITION, message);

/** UNIMPLEMENTED: valid for Cloud KMS, but outside what this emulator models; says so instead of faking it. */
export const unimplemented = (what: string) =>
    new KmsError(status.UNIMPLEMENTED, `${what} is not supported by the KMS emulator`);
