import { createHash, X509Certificate } from "node:crypto";

/**
 * The root fingerprint `step ca bootstrap --fingerprint` and defaults.json expect: lowercase hex SHA-256 of the
 * certificate's DER.
 */
export function certificateFingerprint(certPem: string): string {
    return createHash("sha256").update(new X509Certificate(certPem).raw).digest("hex");
}
