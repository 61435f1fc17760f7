import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";

/** The Google APIs the CA needs: Cloud KMS for the keys, IAM for the service account and its key. */
export const REQUIRED_SERVICES = ["cloudkms.googleapis.com", "iam.googleapis.com"] as const;

/**
 * What the gce runtime needs besides: Compute Engine (VMs, load balancer, network), Cloud SQL Admin (the database
 * and the Auth Proxy's connection), Secret Manager, Service Networking (Cloud SQL's private IP).
 */
export const GCE_SERVICES = [
    "compute.googleapis.com",
    "sqladmin.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
] as const;

/** Cloud DNS, when the gce runtime writes a record. */
export const DNS_SERVICE = "dns.googleapis.com";

/** Inputs of {@link ProjectServices}. */
export interface ProjectServicesArgs {
    project: pulumi.Input<string>;
    /** Plain. Default {@link REQUIRED_SERVICES}. */
    services?: readonly string[];
}

/**
 * Enables the APIs the CA needs. They stay enabled on destroy: other workloads in the project may use them, and
 * disabling Cloud KMS would not delete the key rings anyway.
 */
export class ProjectServices extends pulumi.ComponentResource {
    readonly services: gcp.projects.Service[];
    /**
     * The project ID, resolved once every API is enabled. Resources that take their project from here wait for
     * the APIs without an explicit `dependsOn`.
     */
    readonly project: pulumi.Output<string>;

    constructor(name: string, args: ProjectServicesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:gcp:ProjectServices", name, {}, opts);
        this.services = (args.services ?? REQUIRED_SERVICES).map(
            (service) =>
                new gcp.projects.Service(
                    `${name}-${service.split(".")[0]}`,
                    { project: args.project, service, disableOnDestroy: false },
                    { parent: this },
                ),
        );
        this.project = pulumi
            .all([args.project, ...this.services.map((s) => s.service)])
            .apply(([project]) => project);
        this.registerOutputs({ project: this.project });
    }
}
