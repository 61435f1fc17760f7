import * as pulumi from "@pulumi/pulumi";
import { inspectKeyVersion } from "../lib/certificate-drift";
import { type IntermediateCertificateRequest, intermediateRequestProblems } from "../lib/certificate-request";
import { isRenewalDue } from "../lib/certificate-validity";
import { withKmsClient } from "../lib/kms-client";
import { mintIntermediateCertificate } from "../lib/mint-certificate";
import {
    type CertificateOutputs,
    type CertificateSubjectArgs,
    DRIFT_AT_CREATE,
    certificateDiff,
    certificateOutputs,
} from "./certificate-lifecycle";
import { containsUnknown, unknownKeys } from "./provider-inputs";

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
    /** `host:port` of a KMS emulator; omitted = Google Cloud KMS with Application Default Credentials. */
    readonly kmsEndpoint?: pulumi.Input<string>;
}

/** The provider's inputs, as Pulumi hands them over once resolved. */
export interface IntermediateCertificateInputs extends IntermediateCertificateRequest {
    readonly kmsEndpoint?: string;
}

export type IntermediateCertificateState = IntermediateCertificateInputs & CertificateOutputs;

const REQUEST_KEYS = [
    "keyVersion",
    "issuerKeyVersion",
    "issuerCertPem",
    "subject",
    "validityDays",
    "renewBeforeDays",
] as const;
const REPLACE_ON = ["keyVersion", "issuerKeyVersion", "issuerCertPem", "subject", "validityDays"] as const;

function inputsOf(props: IntermediateCertificateInputs): IntermediateCertificateInputs {
    const { keyVersion, issuerKeyVersion, issuerCertPem, subject, validityDays, renewBeforeDays, kmsEndpoint } = props;
    const request = { keyVersion, issuerKeyVersion, issuerCertPem, subject, validityDays, renewBeforeDays };
    return kmsEndpoint ? { ...request, kmsEndpoint } : request;
}

/**
 * Mints the intermediate for the intermediate key, signed by the root key (1 GetPublicKey + 1 AsymmetricSign).
 * Replaced when an input it was minted from changes (a new root included), when it enters its renewal window, or
 * when a refresh found its key version unusable; `renewBeforeDays` and `kmsEndpoint` update in place.
 */
export const intermediateCertificateProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: unknown, news: IntermediateCertificateInputs) {
        const failures = intermediateRequestProblems(news, unknownKeys(news, REQUEST_KEYS));
        return { inputs: news, failures };
    },

    async diff(_id: string, olds: IntermediateCertificateState, news: IntermediateCertificateInputs) {
        const renewalDue = !containsUnknown(news.renewBeforeDays) && isRenewalDue(olds.notAfter, news.renewBeforeDays);
        return certificateDiff(olds, news, {
            replaceOn: REPLACE_ON,
            updateOn: ["renewBeforeDays", "kmsEndpoint"],
            renewalDue,
        });
    },

    async create(news: IntermediateCertificateInputs) {
        const inputs = inputsOf(news);
        const minted = await withKmsClient(inputs.kmsEndpoint, (client) => mintIntermediateCertificate(client, inputs));
        const { certPem, fingerprint, notBefore, notAfter, serialNumber, keyAlgorithm } = minted;
        const outs: IntermediateCertificateState = {
            ...inputs,
            ...{ certPem, fingerprint, notBefore, notAfter, serialNumber, keyAlgorithm },
            ...DRIFT_AT_CREATE,
        };
        return { id: fingerprint, outs };
    },

    async update(_id: string, olds: IntermediateCertificateState, news: IntermediateCertificateInputs) {
        return { outs: { ...certificateOutputs(olds), ...inputsOf(news) } };
    },

    async read(id: string, props: IntermediateCertificateState) {
        const drift = await withKmsClient(props.kmsEndpoint, (client) =>
            inspectKeyVersion(client, props.keyVersion, props.certPem, props),
        );
        return { id, props: { ...certificateOutputs(props), ...inputsOf(props), ...drift } };
    },

    /** The certificate exists only in state; the key it certifies belongs to the crypto-key resource. */
    async delete() {},
};

/**
 * An intermediate CA certificate (path length 0) for a Cloud KMS key, signed by the root's Cloud KMS key. Outputs:
 * `certPem`, validity, serial, `keyAlgorithm`, `fingerprint`, and what the last refresh saw of the key version.
 */
export class IntermediateCertificate extends pulumi.dynamic.Resource {
    declare readonly keyVersion: pulumi.Output<string>;
    declare readonly certPem: pulumi.Output<string>;
    declare readonly fingerprint: pulumi.Output<string>;
    declare readonly notBefore: pulumi.Output<string>;
    declare readonly notAfter: pulumi.Output<string>;
    declare readonly serialNumber: pulumi.Output<string>;
    declare readonly keyAlgorithm: pulumi.Output<string>;
    declare readonly keyVersionState: pulumi.Output<string>;
    declare readonly publicKeyMatchesKeyVersion: pulumi.Output<boolean>;

    constructor(name: string, args: IntermediateCertificateArgs, opts?: pulumi.CustomResourceOptions) {
        const outputs = {
            certPem: undefined,
            fingerprint: undefined,
            notBefore: undefined,
            notAfter: undefined,
            serialNumber: undefined,
            keyAlgorithm: undefined,
            keyVersionState: undefined,
            publicKeyMatchesKeyVersion: undefined,
        };
        super(intermediateCertificateProvider, name, { ...args, ...outputs }, opts, "stepca", "IntermediateCertificate");
    }
}
