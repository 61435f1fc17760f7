import type { KeyManagementServiceClient } from "@google-cloud/kms";

/**
 * The real Cloud KMS Node client talking TLS to the emulator's TLS port, verifying the emulator's
 * cloudkms.googleapis.com certificate against the throwaway test CA (the name is checked as step-ca checks it,
 * while the socket goes to 127.0.0.1). The test uses it to disable and re-enable key versions while step-ca runs.
 * (lib/kms-client.ts's createKmsClient speaks plaintext only; the emulator serves one or the other.)
 */
export function createKmsClientOverTls(port: number, caCertPem: string, serverName = "cloudkms.googleapis.com"): KeyManagementServiceClient {
    const kms = require("@google-cloud/kms") as typeof import("@google-cloud/kms");
    const gax = require("google-gax") as typeof import("google-gax");
    return new kms.KeyManagementServiceClient({
        apiEndpoint: "127.0.0.1",
        port,
        sslCreds: gax.grpc.credentials.createSsl(Buffer.from(caCertPem)),
        universeDomain: "googleapis.com",
        "grpc.ssl_target_name_override": serverName,
        "grpc.default_authority": serverName,
    } as ConstructorParameters<typeof kms.KeyManagementServiceClient>[0]);
}
