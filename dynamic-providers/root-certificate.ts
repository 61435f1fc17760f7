import * as pulumi from "@pulumi/pulumi";
import { inspectKeyVersion } from "../lib/certificate-drift";
import { type RootCertificateRequest, rootRequestProblems } from "../lib/certificate-request";
import { withKmsClient } from "../lib/kms-client";
import { mintRootCertificate } from "../lib/mint-certificate";
import {
    type CertificateOutputs,
    type CertificateSubjectArgs,
    DRIFT_AT_CREATE,
    certificateDiff,
    certificateOutputs,
} from "./certificate-lifecycle";
import { unknownKeys } from "./provider-inputs";

export interface RootCertificateArgs {
    /** Full `projects/…/cryptoKeyVersions/N` name of the root key (ASYMMETRIC_SIGN). */
    readonly keyVersion: pulumi.Input<string>;
    readonly subject: pulumi.Input<CertificateSubjectArgs>;
    readonly validityDays: pulumi.Input<number>;
    /** `host:port` of a KMS emulator; omitted = Google Cloud KMS with Application Default Credentials. */
    readonly kmsEndpoint?: pulumi.Input<string>;
}

/** The provider's inputs, as Pulumi hands them over once resolved. */
export interface RootCertificateInputs extends RootCertificateRequest {
    readonly kmsEndpoint?: string;
}

export type RootCertificateState = RootCertificateInputs & CertificateOutputs;

const REQUEST_KEYS = ["keyVersion", "subject", "validityDays"] as const;

function inputsOf(props: RootCertificateInputs): RootCertificateInputs {
    const { keyVersion, subject, validityDays, kmsEndpoint } = props;
    return kmsEndpoint ? { keyVersion, subject, validityDays, kmsEndpoint } : { keyVersion, subject, validityDays };
}

/**
 * Mints the self-signed root with the root key in KMS (1 GetPublicKey + 1 AsymmetricSign). Replaced only when the
 * key version, subject or validity changes, or a refresh found the key version unusable: a root is never renewed
 * on a timer, because a new root changes the fingerprint every client trusts.
 */
export const rootCertificateProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: unknown, news: RootCertificateInputs) {
        const failures = rootRequestProblems(news, unknownKeys(news, REQUEST_KEYS));
        return { inputs: news, failures };
    },

    async diff(_id: string, olds: RootCertificateState, news: RootCertificateInputs) {
        return certificateDiff(olds, news, { replaceOn: REQUEST_KEYS, updateOn: ["kmsEndpoint"], renewalDue: false });
    },

    async create(news: RootCertificateInputs) {
        const inputs = inputsOf(news);
        const minted = await withKmsClient(inputs.kmsEndpoint, (client) => mintRootCertificate(client, inputs));
        const { certPem, fingerprint, notBefore, notAfter, serialNumber, keyAlgorithm } = minted;
        const outs: RootCertificateState = {
            ...inputs,
            ...{ certPem, fingerprint, notBefore, notAfter, serialNumber, keyAlgorithm },
            ...DRIFT_AT_CREATE,
        };
        return { id: fingerprint, outs };
    },

    async update(_id: string, olds: RootCertificateState, news: RootCertificateInputs) {
        return { outs: { ...certificateOutputs(olds), ...inputsOf(news) } };
    },

    async read(id: string, props: RootCertificateState) {
        const drift = await withKmsClient(props.kmsEndpoint, (client) =>
            inspectKeyVersion(client, props.keyVersion, props.certPem, props),
        );
        return { id, props: { ...certificateOutputs(props), ...inputsOf(props), ...drift } };
    },

    /** The certificate exists only in state; the key it certifies belongs to the crypto-key resource. */
    async delete() {},
};

/**
 * A self-signed root CA certificate whose key lives in Cloud KMS. Outputs: `certPem`, `fingerprint` (what
 * `step ca bootstrap` pins), validity, serial, `keyAlgorithm`, and what the last refresh saw of the key version.
 */
export class RootCertificate extends pulumi.dynamic.Resource {
    declare readonly keyVersion: pulumi.Output<string>;
    declare readonly certPem: pulumi.Output<string>;
    declare readonly fingerprint: pulumi.Output<string>;
    declare readonly notBefore: pulumi.Output<string>;
    declare readonly notAfter: pulumi.Output<string>;
    declare readonly serialNumber: pulumi.Output<string>;
    declare readonly keyAlgorithm: pulumi.Output<string>;
    declare readonly keyVersionState: pulumi.Output<string>;
    declare readonly publicKeyMatchesKeyVersion: pulumi.Output<boolean>;

    constructor(name: string, args: RootCertificateArgs, opts?: pulumi.CustomResourceOptions) {
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
        super(rootCertificateProvider, name, { ...args, ...outputs }, opts, "stepca", "RootCertificate");
    }
}
