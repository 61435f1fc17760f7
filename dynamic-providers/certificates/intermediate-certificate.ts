import type * as pulumi from "@pulumi/pulumi";
import { type IntermediateCertificateRequest, intermediateRequestProblems } from "../../lib/pki/certificate-request";
import { isRenewalDue } from "../../lib/pki/certificate-validity";
import { mintIntermediateCertificate } from "../../lib/pki/mint-certificate";
import {
    CaCertificate,
    type CertificateOutputs,
    type CertificateSubjectArgs,
    certificateProvider,
} from "./certificate-lifecycle";
import { containsUnknown } from "../provider-inputs";
import type { NameConstraints } from "../../lib/pki/name-constraints";

export interface IntermediateCertificateArgs {
    /** Full `projects/…/cryptoKeyVersions/N` name of the intermediate key: the key step-ca signs with. */
    readonly keyVersion: pulumi.Input<string>;
    /** Full `projects/…/cryptoKeyVersions/N` name of the root key, which signs this certificate. */
    readonly issuerKeyVersion: pulumi.Input<string>;
    /** The root certificate (`RootCertificate.certPem`). */
    readonly issuerCertPem: pulumi.Input<string>;
    readonly subject: pulumi.Input<CertificateSubjectArgs>;
    /** Requested lifetime; clamped so the intermediate never outlives the root. */
    readonly validityDays: pulumi.Input<number>;
    /** The next deployment after `notAfter − renewBeforeDays` mints a new intermediate. */
    readonly renewBeforeDays: pulumi.Input<number>;
    /** Critical NameConstraints extension; omitted = none. Changing it re-mints the intermediate. */
    readonly nameConstraints?: pulumi.Input<NameConstraints>;
}

/** The provider's inputs, as Pulumi hands them over once resolved. */
export interface IntermediateCertificateInputs extends IntermediateCertificateRequest {
    readonly kmsEndpoint?: string;
}

export type IntermediateCertificateState = IntermediateCertificateInputs & CertificateOutputs;

/**
 * Mints the intermediate for the intermediate key, signed by the root key (1 GetPublicKey + 1 AsymmetricSign).
 * Replaced when an input it was minted from changes (a new root included), when it enters its renewal window, or
 * when a refresh found that its key version's public key changed; `renewBeforeDays` updates in
 * place, and so does a key version refresh found not ENABLED (the update re-checks it and fails until it is).
 */
export const intermediateCertificateProvider: pulumi.dynamic.ResourceProvider =
    certificateProvider<IntermediateCertificateInputs>({
        requestKeys: [
            "keyVersion",
            "issuerKeyVersion",
            "issuerCertPem",
            "subject",
            "validityDays",
            "renewBeforeDays",
            "nameConstraints",
        ],
        updatableKeys: ["renewBeforeDays"],
        requestProblems: intermediateRequestProblems,
        mint: mintIntermediateCertificate,
        rootKeyVersion: (request) => request.issuerKeyVersion,
        renewalDue: (olds, news) =>
            !containsUnknown(news.renewBeforeDays) && isRenewalDue(olds.notAfter, news.renewBeforeDays),
    });

/**
 * An intermediate CA certificate (path length 0) for a Cloud KMS key, signed by the root's Cloud KMS key. Outputs:
 * `certPem`, validity, serial, `keyAlgorithm`, `fingerprint`, and what the last refresh saw of the key version.
 */
export class IntermediateCertificate extends CaCertificate {
    constructor(name: string, args: IntermediateCertificateArgs, opts?: pulumi.CustomResourceOptions) {
        super(intermediateCertificateProvider, "IntermediateCertificate", name, args, opts);
    }
}
