import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { NameSuffix } from "../../dynamic-providers/name-suffix";

/**
 * The narrowest predefined roles for what step-ca does with its key: `cloudkms.signer` holds
 * `cryptoKeyVersions.useToSign` (AsymmetricSign) and `cloudkms.publicKeyViewer` holds
 * `cryptoKeyVersions.viewPublicKey` (GetPublicKey, called at start). Neither can create, disable or destroy keys.
 */
export const CA_SIGNING_ROLES = ["roles/cloudkms.signer", "roles/cloudkms.publicKeyViewer"] as const;

/** Inputs of {@link CaServiceAccount}. */
export interface CaServiceAccountArgs {
    /** The GCP project; pass {@link ProjectServices.project} so the account waits for the IAM API. */
    project: pulumi.Input<string>;
    /** ID of the crypto key step-ca signs with (the intermediate key). The only resource the account may use. */
    signingKeyId: pulumi.Input<string>;
    /**
     * Plain: it decides whether a resource exists. Create a JSON key for step-ca (docker runtime with
     * `kmsCredentials: serviceAccountKey`). Without one the account is used through Application Default
     * Credentials: attached to a VM, or impersonated through Workload Identity Federation.
     */
    createKey: boolean;
}

/**
 * The identity the running CA calls Cloud KMS with. It is granted {@link CA_SIGNING_ROLES} on the intermediate
 * crypto key alone; it gets nothing on the root key or on any key ring, so a compromised CA host can issue leaf
 * certificates until revoked but can never sign with the root. Its JSON key, when there is one, is a Pulumi secret;
 * organizations created since May 2024 refuse keys by default (`iam.disableServiceAccountKeyCreation`), so the
 * keyless choice needs no exception to that policy.
 */
export class CaServiceAccount extends pulumi.ComponentResource {
    readonly account: gcp.serviceaccount.Account;
    readonly grants: gcp.kms.CryptoKeyIAMMember[];
    readonly key?: gcp.serviceaccount.Key;
    readonly email: pulumi.Output<string>;
    /**
     * The service-account JSON key, base64-encoded (secret), when {@link CaServiceAccountArgs.createKey}. Resolves
     * only once the grants exist, so whatever starts step-ca with it waits for them.
     */
    readonly credentialsJsonBase64?: pulumi.Output<string>;

    constructor(name: string, args: CaServiceAccountArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:iam:CaServiceAccount", name, {}, opts);

        // Account IDs are unique per project and 6-30 characters; the suffix keeps stacks apart.
        const suffix = new NameSuffix(`${name}-id`, {}, { parent: this });
        this.account = new gcp.serviceaccount.Account(
            name,
            {
                project: args.project,
                accountId: pulumi.interpolate`step-ca-${suffix.hex}`,
                displayName: `step-ca (${pulumi.getProject()}/${pulumi.getStack()})`,
                description: "Runs step-ca: signs with the intermediate CA key in Cloud KMS, nothing else.",
            },
            { parent: this },
        );
        this.email = this.account.email;
        const member = pulumi.interpolate`serviceAccount:${this.account.email}`;
        this.grants = CA_SIGNING_ROLES.map(
            (role) =>
                new gcp.kms.CryptoKeyIAMMember(
                    `${name}-${role.split(".").pop()}`,
                    { cryptoKeyId: args.signingKeyId, role, member },
                    { parent: this },
                ),
        );
        if (args.createKey) {
            const key = new gcp.serviceaccount.Key(name, { serviceAccountId: this.account.name }, { parent: this });
            this.key = key;
            this.credentialsJsonBase64 = pulumi.secret(
                pulumi.all([key.privateKey, ...this.grants.map((g) => g.etag)]).apply(([privateKey]) => privateKey),
            );
        }

        this.registerOutputs({ email: this.email });
    }
}
