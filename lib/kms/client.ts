import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { parseHostPort } from "../config/values";

/**
 * Builds a Cloud KMS client. With no endpoint it talks to Google with Application Default Credentials;
 * with `host:port` it talks plaintext gRPC to a local KMS emulator and never looks for credentials.
 *
 * SDKs are required inside the function so that dynamic providers calling it serialize cleanly.
 */
export function createKmsClient(endpoint?: string): KeyManagementServiceClient {
    const kms = require("@google-cloud/kms") as typeof import("@google-cloud/kms");
    if (!endpoint) {
        return new kms.KeyManagementServiceClient();
    }
    const { host, port } = parseEndpoint(endpoint);
    const gax = require("google-gax") as typeof import("google-gax");
    return new kms.KeyManagementServiceClient({
        apiEndpoint: host,
        port,
        sslCreds: gax.grpc.credentials.createInsecure(),
        // Without an explicit universe the client probes the GCE metadata server before every call.
        universeDomain: "googleapis.com",
    });
}

/** Splits `host:port` (IPv6 hosts in brackets), failing with a message that says what is expected. */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
    const parsed = parseHostPort(endpoint);
    if (!parsed || parsed.host === "") {
        throw new Error(`KMS endpoint "${endpoint}" is not host:port (for example 127.0.0.1:8085)`);
    }
    return parsed;
}

/** How long the reachability check waits for a TCP connection before leaving the endpoint to the client library. */
export const EMULATOR_CONNECT_TIMEOUT_MS = 3000;

/**
 * Fails fast, with what to do, when nothing listens at a KMS emulator's `host:port` (the connection is refused, or
 * fails otherwise): the client library would retry ECONNREFUSED for its whole 60 s deadline and then report
 * UNAVAILABLE. A connection that is merely slow (no answer within `timeoutMs`, e.g. a provider process busy loading
 * modules under load) is not failed here: the client library then decides, with its own deadline.
 */
export async function checkEmulatorReachable(endpoint: string, timeoutMs = EMULATOR_CONNECT_TIMEOUT_MS): Promise<void> {
    const net = require("node:net") as typeof import("node:net");
    const { host, port } = parseEndpoint(endpoint);
    await new Promise<void>((resolve, reject) => {
        const socket = net.connect({ host, port });
        const done = () => {
            socket.destroy();
            resolve();
        };
        socket.setTimeout(timeoutMs, done);
        socket.once("connect", done);
        socket.once("error", (error: NodeJS.ErrnoException) => {
            socket.destroy();
            reject(
                new Error(
                    `Cannot reach the KMS emulator at ${endpoint} (${error.code ?? error.message}). Start it ` +
                        "(`npm run local` starts it on the stack's kmsEndpoint; or `npm run kms-emulator -- --port " +
                        `${port} --state .local/kms-emulator.json\`), or point kmsEndpoint at the one running.`,
                ),
            );
        });
    });
}

/**
 * Runs `use` with a fresh client and closes it afterwards, so a provider method leaves no gRPC channel open to keep
 * the provider process alive. An emulator endpoint is checked first ({@link checkEmulatorReachable}).
 */
export async function withKmsClient<T>(
    endpoint: string | undefined,
    use: (client: KeyManagementServiceClient) => Promise<T>,
): Promise<T> {
    if (endpoint) await checkEmulatorReachable(endpoint);
    const client = createKmsClient(endpoint);
    try {
        return await use(client);
    } finally {
        await client.close();
    }
}
