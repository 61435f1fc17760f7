import type * as pulumi from "@pulumi/pulumi";
import { type RootCertificateRequest, rootRequestProblems } from "../../lib/pki/certificate-request";
import { mintRootCertificate } from "../../lib/pki/mint-certificate";
import {
    CaCertificate,
    type CertificateOutputs,
    type CertificateSubjectArgs,
    certificateProvider,
} from "./certificate-lifecycle";

export interface RootCertificateArgs {
    /** Full `projects/…/cryptoKeyVersions/N` name of the root key (ASYMMETRIC_SIGN). */
    readonly keyVersion: pulumi.Input<string>;
    readonly subject: pulumi.Input<CertificateSubjectArgs>;
    readonly validityDays: pulumi.Input<number>;
}

/** The provider's inputs, as Pulumi hands them over once resolved. */
export interface RootCertificateInputs extends RootCertificateRequest {
    readonly kmsEndpoint?: string;
}

export type RootCertificateState = RootCertificateInputs & CertificateOutputs;

/**
 * Mints the self-signed root with the root key in KMS (1 GetPublicKey + 1 AsymmetricSign). Replaced only when the
 * key version, subject or validity changes, or a refresh found that the key version's public key changed: a root is
 * never renewed on a timer, nor re-minted because its key version was found disabled, because a new root changes the
 * fingerprint every client trusts. Its key version may stay DISABLED between mints (an offline root).
 */
export const rootCertificateProvider: pulumi.dynamic.ResourceProvider = certificateProvider<RootCertificateInputs>({
    requestKeys: ["keyVersion", "subject", "validityDays"],
    updatableKeys: [],
    requestProblems: rootRequestProblems,
    mint: mintRootCertificate,
    rootKeyVersion: (request) => request.keyVersion,
    // The root key signs only when `pulumi up` mints; operators may keep its version DISABLED in between.
    offlineKey: true,
});

/**
 * A self-signed root CA certificate whose key lives in Cloud KMS. Outputs: `certPem`, `fingerprint` (what
 * `step ca bootstrap` pins), validity, serial, `keyAlgorithm`, and what the last refresh saw of the key version.
 */
export class RootCertificate extends CaCertificate {
    constructor(name: string, args: RootCertificateArgs, opts?: pulumi.CustomResourceOptions) {
        super(rootCertificateProvider, "RootCertificate", name, args, opts);
    }
}
