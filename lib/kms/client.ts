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

/**
 * Runs `use` with a fresh client and closes it afterwards, so a provider method leaves no gRPC channel open to keep
 * the provider process alive.
 */
export async function withKmsClient<T>(
    endpoint: string | undefined,
    use: (client: KeyManagementServiceClient) => Promise<T>,
): Promise<T> {
    const client = createKmsClient(endpoint);
    try {
        return await use(client);
    } finally {
        await client.close();
    }
}
