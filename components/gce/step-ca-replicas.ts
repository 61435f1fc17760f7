import * as pulumi from "@pulumi/pulumi";
import type { GceSettings } from "../../lib/config/config";
import { renderCloudConfig } from "../../lib/gce/vm-boot";
import type { CaDatabase } from "./ca-database";
import type { CaNetwork } from "./ca-network";
import { CaSecret } from "./ca-secret";
import { PassthroughLoadBalancer } from "./passthrough-load-balancer";
import { StepCaInstanceGroup } from "./step-ca-instance-group";

/** Inputs of {@link StepCaReplicas}. */
export interface StepCaReplicasArgs {
    project: pulumi.Input<string>;
    /** Plain: they decide which resources exist. */
    settings: GceSettings;
    image: string;
    port: number;
    dnsNames: readonly string[];
    network: CaNetwork;
    database: CaDatabase;
    serviceAccountEmail: pulumi.Input<string>;
    /** Resources the VMs need before they boot: the KMS grants and the database client grant. */
    grants: pulumi.Resource[];
    /** Prefix of the Secret Manager secret IDs, unique per stack (the service account's ID). */
    secretIdPrefix: pulumi.Input<string>;
    /** Secret when it holds an OIDC client secret; it reaches the VMs through Secret Manager either way. */
    caJson: pulumi.Input<string>;
    defaultsJson: pulumi.Input<string>;
    rootCertPem: pulumi.Input<string>;
    intermediateCertPem: pulumi.Input<string>;
    /** The provisioner password (secret). */
    password: pulumi.Input<string>;
}

/**
 * step-ca on Compute Engine: the secrets in Secret Manager, readable by the CA's service account only (the
 * provisioner password, pgpass, and ca.json — always, so that an OIDC client secret in it never reaches instance
 * metadata, with one path whether or not it has one); the VMs' cloud-config naming them; the managed instance group
 * and the passthrough load balancer in front of it.
 */
export class StepCaReplicas extends pulumi.ComponentResource {
    readonly secrets: CaSecret[];
    readonly cloudConfig: pulumi.Output<string>;
    readonly group: StepCaInstanceGroup;
    readonly loadBalancer: PassthroughLoadBalancer;

    constructor(name: string, args: StepCaReplicasArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:gce:StepCaReplicas", name, {}, opts);
        const parent = { parent: this };
        const { project, settings } = args;
        const accessor = pulumi.interpolate`serviceAccount:${args.serviceAccountEmail}`;

        const secret = (id: string, value: pulumi.Input<string>) =>
            new CaSecret(
                `${name}-${id}`,
                { project, secretId: pulumi.interpolate`${args.secretIdPrefix}-${id}`, value, accessor },
                parent,
            );
        const password = secret("password", args.password);
        const pgpass = secret("pgpass", args.database.pgpass);
        const caJson = secret("ca-json", args.caJson);
        this.secrets = [password, pgpass, caJson];

        this.cloudConfig = pulumi
            .all([
                args.defaultsJson,
                args.rootCertPem,
                args.intermediateCertPem,
                password.versionName,
                pgpass.versionName,
                caJson.versionName,
                args.database.connectionName,
            ])
            .apply(([defaultsJson, rootCertPem, intermediateCertPem, passwordVersion, pgpassVersion, caJsonVersion, instance]) =>
                renderCloudConfig({
                    image: args.image,
                    port: args.port,
                    dnsNames: args.dnsNames,
                    defaultsJson,
                    rootCertPem,
                    intermediateCertPem,
                    secrets: { password: passwordVersion, pgpass: pgpassVersion, caJson: caJsonVersion },
                    cloudSqlInstance: instance,
                }),
            );

        this.group = new StepCaInstanceGroup(
            name,
            {
                project,
                region: settings.region,
                zones: settings.zones,
                replicas: settings.replicas,
                machineType: settings.machineType,
                port: args.port,
                subnetwork: args.network.subnetwork.id,
                serviceAccountEmail: args.serviceAccountEmail,
                cloudConfig: this.cloudConfig,
            },
            { parent: this, dependsOn: [...args.grants, args.network.nat] },
        );
        this.loadBalancer = new PassthroughLoadBalancer(
            name,
            {
                project,
                region: settings.region,
                scheme: settings.loadBalancer,
                instanceGroup: this.group.instanceGroup,
                port: args.port,
                address: args.network.address.id,
                network: args.network.network.id,
                subnetwork: args.network.subnetwork.id,
                dnsZone: settings.dnsZone,
                dnsName: args.dnsNames[0],
                ipAddress: args.network.ipAddress,
            },
            parent,
        );
        this.registerOutputs({ instanceGroup: this.group.instanceGroup });
    }
}
