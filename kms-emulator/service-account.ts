import { createHash, generateKeyPairSync } from "node:crypto";

/**
 * A throwaway service-account key file for clients of the emulator that insist on credentials (step-ca). Shaped like
 * the one Google issues (what `gcp.serviceaccount.Key.privateKey` decodes to and what the program uploads to the
 * container), with a freshly generated real RSA-2048 key: the Google Go auth library parses it and signs
 * self-signed JWTs with it (Cloud KMS enables "JWT with scope"), so no token endpoint is ever contacted. The
 * emulator models no IAM and checks none of it.
 */
export function createServiceAccountJson(projectId: string, accountId = "step-ca"): string {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const email = `${accountId}@${projectId}.iam.gserviceaccount.com`;
    return (
        JSON.stringify(
            {
                type: "service_account",
                project_id: projectId,
                private_key_id: createHash("sha1").update(pem).digest("hex"),
                private_key: pem,
                client_email: email,
                client_id: "100000000000000000001",
                auth_uri: "https://accounts.google.com/o/oauth2/auth",
                token_uri: "https://oauth2.googleapis.com/token",
                auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
                client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
                universe_domain: "googleapis.com",
            },
            null,
            2,
        ) + "\n"
    );
}
