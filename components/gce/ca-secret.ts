import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";

/** Inputs of {@link CaSecret}. */
export interface CaSecretArgs {
    project: pulumi.Input<string>;
    /** The secret's ID in Secret Manager (unique in the project). */
    secretId: pulumi.Input<string>;
    /** The value (pass a secret). */
    value: pulumi.Input<string>;
    /** `serviceAccount:…` of the CA; the only principal granted access. */
    accessor: pulumi.Input<string>;
}

/**
 * One secret for the step-ca VMs in Secret Manager: the value as a version (secret in Pulumi state too), and
 * `secretmanager.secretAccessor` on this secret alone for the CA's service account. A new value is a new version,
 * whose name the VMs' boot config carries, so it rolls out like any config change.
 */
export class CaSecret extends pulumi.ComponentResource {
    readonly secret: gcp.secretmanager.Secret;
    readonly version: gcp.secretmanager.SecretVersion;
    readonly access: gcp.secretmanager.SecretIamMember;
    /** `projects/…/secrets/…/versions/N`, what the VM fetches. Resolves once access is granted. */
    readonly versionName: pulumi.Output<string>;

    constructor(name: string, args: CaSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:gce:CaSecret", name, {}, opts);
        const parent = { parent: this };
        this.secret = new gcp.secretmanager.Secret(
            name,
            { project: args.project, secretId: args.secretId, replication: { auto: {} }, labels: { app: "step-ca" } },
            parent,
        );
        this.version = new gcp.secretmanager.SecretVersion(
            name,
            { secret: this.secret.id, secretData: pulumi.secret(args.value) },
            parent,
        );
        this.access = new gcp.secretmanager.SecretIamMember(
            name,
            { project: args.project, secretId: this.secret.secretId, role: "roles/secretmanager.secretAccessor", member: args.accessor },
            parent,
        );
        this.versionName = pulumi.all([this.version.name, this.access.etag]).apply(([version]) => version);
        this.registerOutputs({ versionName: this.versionName });
    }
}
