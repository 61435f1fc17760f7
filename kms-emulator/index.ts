import * as grpc from "@grpc/grpc-js";
import { CallCounter } from "./calls";
import { Faults } from "./faults";
import { createKmsServer } from "./server";
import { Store } from "./store";

export { SIGN_ALGORITHMS, type SignAlgorithm } from "./algorithms";
export { PERMISSIONS } from "./faults";

/** How to run the emulator. Everything is optional: a plaintext, in-memory server on a random local port. */
export interface KmsEmulatorOptions {
    /** Interface to listen on; default 127.0.0.1. */
    host?: string;
    /** Port; 0 (the default) picks a free one, see `KmsEmulator.port`. */
    port?: number;
    /** JSON state file (mode 0600, holds the private keys); omitted = in-memory, gone on stop. */
    stateFile?: string;
    /** How long HSM versions stay PENDING_GENERATION; default 1500 ms, 0 = enabled at once. */
    hsmPendingMs?: number;
    /** Serve TLS (HTTP/2 with ALPN h2) with this certificate chain and key, both PEM. */
    tls?: { certPem: string; keyPem: string };
    /** Receives one line per RPC: method, resource, outcome. */
    log?: (line: string) => void;
    /** Clock in epoch milliseconds, for tests that need destroy_time to pass; default Date.now. */
    now?: () => number;
}

/** A running emulator. */
export interface KmsEmulator {
    /** "host:port", usable as the program's kmsEndpoint. */
    readonly address: string;
    readonly port: number;
    /** Whether it serves TLS (else plaintext gRPC). */
    readonly tls: boolean;
    /** The state file, or undefined when in memory. */
    readonly stateFile: string | undefined;
    /** RPCs received per method name ("AsymmetricSign", "GetPublicKey", …), failed and faulted ones included. */
    readonly calls: { byMethod(): Record<string, number>; total(): number; reset(): void };
    readonly faults: {
        latencyMs: number;
        failNext(n: number, code?: number): void;
        denyKey(cryptoKeyName: string): void;
        corruptCrc32c: boolean;
        clear(): void;
    };
    /** Stops listening, lets calls in flight finish (forcing after 5 s), and writes the state file. */
    stop(): Promise<void>;
}

const DEFAULT_HSM_PENDING_MS = 1500;
const SHUTDOWN_GRACE_MS = 5000;

/**
 * Starts a Cloud KMS emulator: a real gRPC server speaking google.cloud.kms.v1.KeyManagementService, so the
 * real `@google-cloud/kms` client (or step-ca's Go client, over TLS) runs against it unchanged.
 */
export async function startKmsEmulator(options: KmsEmulatorOptions = {}): Promise<KmsEmulator> {
    const store = new Store({ file: options.stateFile, hsmPendingMs: options.hsmPendingMs ?? DEFAULT_HSM_PENDING_MS, now: options.now ?? Date.now });
    const faults = new Faults();
    const calls = new CallCounter();
    const server = createKmsServer({ store, faults, calls, log: options.log });
    const credentials = options.tls
        ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(options.tls.certPem), private_key: Buffer.from(options.tls.keyPem) }], false)
        : grpc.ServerCredentials.createInsecure();
    const host = options.host ?? "127.0.0.1";
    const hostPart = host.includes(":") ? `[${host}]` : host;
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(`${hostPart}:${options.port ?? 0}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    let stopping: Promise<void> | undefined;
    return {
        address: `${hostPart}:${port}`,
        port,
        tls: options.tls !== undefined,
        stateFile: options.stateFile,
        calls,
        faults,
        stop: () => (stopping ??= shutdown(server).then(() => store.save())),
    };
}

function shutdown(server: grpc.Server): Promise<void> {
    return new Promise((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
        });
    });
}
