import * as grpc from "@grpc/grpc-js";
import { CallCounter } from "./calls";
import { Faults } from "./faults";
import { createKmsServer } from "./server";
import { Store } from "./store";

export { SIGN_ALGORITHMS, type SignAlgorithm } from "./algorithms";
export { PERMISSIONS } from "./faults";
export { type ConnectProxy, startConnectProxy } from "./connect-proxy";
export { createServiceAccountJson } from "./service-account";
export { CLOUD_KMS_HOST, type TlsIdentity, createTlsIdentity } from "./tls-identity";

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
    /**
     * Also serve TLS (HTTP/2 with ALPN h2) with this certificate chain and key (PEM), on `port` (0 or omitted: a free
     * one, see `KmsEmulator.tlsPort`), next to the plaintext port and on the same keys: programs keep plaintext while
     * a client that only dials TLS (step-ca) gets a certificate it can be made to trust.
     */
    tls?: { certPem: string; keyPem: string; port?: number };
    /** Receives one line per RPC: method, resource, outcome. */
    log?: (line: string) => void;
    /** Clock in epoch milliseconds, for tests that need destroy_time to pass; default Date.now. */
    now?: () => number;
}

/** A running emulator. */
export interface KmsEmulator {
    /** "host:port" of the plaintext gRPC port, usable as the program's kmsEndpoint. */
    readonly address: string;
    readonly port: number;
    /** The TLS port, when `tls` was given. */
    readonly tlsPort: number | undefined;
    /** The state file, or undefined when in memory. */
    readonly stateFile: string | undefined;
    /** RPCs received per method name ("AsymmetricSign", "GetPublicKey", …), failed and faulted ones included. */
    readonly calls: { byMethod(): Record<string, number>; total(): number; reset(): void };
    readonly faults: {
        latencyMs: number;
        failNext(n: number, code?: number): void;
        denyKey(cryptoKeyName: string): void;
        corruptCrc32c: boolean;
        loseAnswers(method: string, n?: number, code?: number): void;
        holdAnswers(method: string): void;
        readonly held: ReadonlyMap<string, number>;
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
    const host = options.host ?? "127.0.0.1";
    const hostPart = host.includes(":") ? `[${host}]` : host;
    const bind = (port: number | undefined, credentials: grpc.ServerCredentials) =>
        new Promise<number>((resolve, reject) =>
            server.bindAsync(`${hostPart}:${port ?? 0}`, credentials, (error, bound) =>
                // grpc-js only says "No address added": name the address.
                error ? reject(new Error(`could not listen on ${hostPart}:${port ?? 0} (in use?): ${error.message}`)) : resolve(bound),
            ),
        );
    const port = await bind(options.port, grpc.ServerCredentials.createInsecure());
    const tls = options.tls;
    const tlsPort = tls
        ? await bind(tls.port, grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(tls.certPem), private_key: Buffer.from(tls.keyPem) }], false)).catch(
              (error: unknown) => {
                  server.forceShutdown(); // release the plaintext port too
                  throw error;
              },
          )
        : undefined;
    let stopping: Promise<void> | undefined;
    return {
        address: `${hostPart}:${port}`,
        port,
        tlsPort,
        stateFile: options.stateFile,
        calls,
        faults,
        stop: () => {
            faults.clear(); // held answers go out, so shutdown need not wait for them
            return (stopping ??= shutdown(server).then(() => store.save()));
        },
    };
}

function shutdown(server: grpc.Server): Promise<void> {
    return new Promise((resolve) => {
        // After forceShutdown grpc-js does not call tryShutdown's callback: resolve here, or stop() never returns.
        const force = setTimeout(() => {
            server.forceShutdown();
            resolve();
        }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
        });
    });
}
