import * as fs from "node:fs";
import * as path from "node:path";
import { createServiceAccountJson } from "./service-account";
import { createTlsIdentity } from "./tls-identity";

/** Files in the directory, and who uses them (scripts/local.sh names them too). */
const CREDENTIAL_FILES = {
    /** The client's SSL_CERT_FILE. */
    caCert: "tls-ca.crt",
    /** The emulator's --tls-cert and --tls-key. */
    cert: "tls.crt",
    key: "tls.key",
    /** The client's GOOGLE_APPLICATION_CREDENTIALS. */
    serviceAccount: "service-account.json",
} as const;

// The CA key is discarded after signing, so the CA vouches for this one certificate only: a long life is harmless
// and spares renewing files that a running emulator and step-ca hold.
const VALIDITY_DAYS = 3650;

/**
 * `node --import tsx kms-emulator/credentials-cli.ts DIR`: writes, where missing, the throwaway files an unmodified
 * Cloud KMS client (step-ca) needs to reach the emulator: a TLS identity for cloudkms.googleapis.com and a
 * service-account key. Existing files are kept, so the emulator and its clients stay in step across runs.
 */
async function main(dir: string | undefined): Promise<void> {
    if (!dir) throw new Error("usage: kms-emulator/credentials-cli.ts DIR");
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = (name: string) => path.join(dir, name);
    const write = (name: string, content: string, mode: number) => {
        fs.writeFileSync(file(name), content, { mode });
        console.log(`wrote ${file(name)}`);
    };
    const { caCert, cert, key, serviceAccount } = CREDENTIAL_FILES;
    if (![caCert, cert, key].every((name) => fs.existsSync(file(name)))) {
        const identity = await createTlsIdentity(undefined, VALIDITY_DAYS);
        write(key, identity.keyPem, 0o600);
        write(cert, identity.certPem, 0o644);
        write(caCert, identity.caCertPem, 0o644);
    }
    if (!fs.existsSync(file(serviceAccount))) write(serviceAccount, createServiceAccountJson("stepca-local"), 0o600);
}

main(process.argv[2]).catch((error: unknown) => {
    console.error(`kms-emulator credentials: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
});
