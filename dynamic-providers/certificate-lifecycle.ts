/**
 * Lifecycle rules both certificate providers follow: what replaces a certificate, what merely updates it, and how
 * refresh-time drift of its KMS key version feeds into the next diff. No KMS calls happen here.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { KeyVersionDrift } from "../lib/certificate-drift";
import type { CertificateSubject } from "../lib/certificate-templates";
import { changedKeys } from "./provider-inputs";

/** The subject of a CA certificate, as resource arguments. */
export type CertificateSubjectArgs = { readonly [K in keyof CertificateSubject]: pulumi.Input<CertificateSubject[K]> };

/** Outputs every certificate resource has. */
export interface CertificateOutputs extends KeyVersionDrift {
    readonly certPem: string;
    /** Lowercase hex SHA-256 of the DER. */
    readonly fingerprint: string;
    /** ISO 8601. */
    readonly notBefore: string;
    /** ISO 8601. */
    readonly notAfter: string;
    /** Lowercase hex. */
    readonly serialNumber: string;
    /** Cloud KMS algorithm of the certified key. */
    readonly keyAlgorithm: string;
}

/** A freshly minted certificate's key version is ENABLED and certified: GetPublicKey and signing just succeeded. */
export const DRIFT_AT_CREATE: KeyVersionDrift = { keyVersionState: "ENABLED", publicKeyMatchesKeyVersion: true };

/** The certificate fields of a state object, without inputs or the serialized provider. */
export function certificateOutputs(state: CertificateOutputs): CertificateOutputs {
    const { certPem, fingerprint, notBefore, notAfter, serialNumber, keyAlgorithm } = state;
    const { keyVersionState, publicKeyMatchesKeyVersion } = state;
    return {
        certPem,
        fingerprint,
        notBefore,
        notAfter,
        serialNumber,
        keyAlgorithm,
        keyVersionState,
        publicKeyMatchesKeyVersion,
    };
}

/**
 * Diff of a certificate: replaced when an input it was minted from changed, when refresh found its key version
 * unusable or no longer matching, or when `renewalDue`; updated in place when only `updateOn` inputs changed.
 */
export function certificateDiff(
    olds: CertificateOutputs,
    news: object,
    rules: { replaceOn: readonly string[]; updateOn: readonly string[]; renewalDue: boolean },
): pulumi.dynamic.DiffResult {
    const replaces = changedKeys(olds, news, rules.replaceOn);
    if (olds.keyVersionState !== "ENABLED") {
        replaces.push("keyVersionState");
    }
    if (olds.publicKeyMatchesKeyVersion === false) {
        replaces.push("publicKeyMatchesKeyVersion");
    }
    if (rules.renewalDue) {
        replaces.push("notAfter");
    }
    const updates = changedKeys(olds, news, rules.updateOn);
    return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: false };
}
