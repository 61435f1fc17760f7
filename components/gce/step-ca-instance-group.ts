import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { AUTOHEALING_INITIAL_DELAY_SEC, autohealingHealthCheck, rollingUpdatePolicy } from "../../lib/gce/load-balancing";
import { CA_NETWORK_TAG } from "./ca-network";

/** Container-Optimized OS, stable channel: runs Docker and cloud-init, read-only root, auto-updating. */
export const VM_IMAGE = "projects/cos-cloud/global/images/family/cos-stable";

/** Named port the load balancer's backend uses. */
export const CA_PORT_NAME = "step-ca";

/** Inputs of {@link StepCaInstanceGroup}. */
export interface StepCaInstanceGroupArgs {
    project: pulumi.Input<string>;
    region: string;
    /** Zones to spread over; empty lets Compute Engine pick. Plain: it sizes the rolling update. */
    zones: readonly string[];
    replicas: number;
    machineType: string;
    port: number;
    subnetwork: pulumi.Input<string>;
    /** The CA's service account, attached to every VM (its tokens come from the metadata server; no key). */
    serviceAccountEmail: pulumi.Input<string>;
    /** The VM's cloud-config (not secret: it names secrets, never holds them). */
    cloudConfig: pulumi.Input<string>;
}

/**
 * The step-ca replicas: a regional managed instance group of Container-Optimized OS VMs, spread evenly over zones,
 * with no external IP, Shielded VM, OS Login and no project SSH keys. Each boots from the cloud-config in its
 * instance template. A change to it (new intermediate, config, image or secret version) makes a new template,
 * which the group rolls out proactively without dropping below `replicas` (maxUnavailable 0, surge one VM per
 * zone). Autohealing recreates a VM whose `/health` fails.
 */
export class StepCaInstanceGroup extends pulumi.ComponentResource {
    readonly logWriter: gcp.projects.IAMMember;
    readonly template: gcp.compute.InstanceTemplate;
    readonly healthCheck: gcp.compute.RegionHealthCheck;
    readonly manager: gcp.compute.RegionInstanceGroupManager;
    /** The group's instance group URL, for the load balancer's backend. */
    readonly instanceGroup: pulumi.Output<string>;

    constructor(name: string, args: StepCaInstanceGroupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:gce:StepCaInstanceGroup", name, {}, opts);
        const { project, region } = args;

        // The VMs' logging agent writes step-ca's container log to Cloud Logging as the CA's service account.
        this.logWriter = new gcp.projects.IAMMember(
            `${name}-log-writer`,
            { project, role: "roles/logging.logWriter", member: pulumi.interpolate`serviceAccount:${args.serviceAccountEmail}` },
            { parent: this },
        );
        this.template = new gcp.compute.InstanceTemplate(
            name,
            {
                project,
                region,
                namePrefix: "step-ca-",
                machineType: args.machineType,
                disks: [{ sourceImage: VM_IMAGE, boot: true, autoDelete: true, diskSizeGb: 10, diskType: "pd-balanced" }],
                // No accessConfigs: no external IP. Egress goes through Cloud NAT, Google APIs through Private Google Access.
                networkInterfaces: [{ subnetwork: args.subnetwork }],
                serviceAccount: { email: args.serviceAccountEmail, scopes: ["cloud-platform"] },
                metadata: {
                    "user-data": args.cloudConfig,
                    "google-logging-enabled": "true",
                    "enable-oslogin": "TRUE",
                    "block-project-ssh-keys": "true",
                },
                shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
                tags: [CA_NETWORK_TAG],
                labels: { app: "step-ca" },
            },
            // Templates are immutable: a change creates the new one (under a new name) before the old goes.
            { parent: this, deleteBeforeReplace: false },
        );
        this.healthCheck = new gcp.compute.RegionHealthCheck(
            `${name}-autohealing`,
            { project, region, ...autohealingHealthCheck(args.port) },
            { parent: this },
        );
        this.manager = new gcp.compute.RegionInstanceGroupManager(
            name,
            {
                project,
                region,
                baseInstanceName: "step-ca",
                versions: [{ name: "step-ca", instanceTemplate: this.template.selfLinkUnique }],
                targetSize: args.replicas,
                ...(args.zones.length > 0 && { distributionPolicyZones: [...args.zones] }),
                distributionPolicyTargetShape: "EVEN",
                namedPorts: [{ name: CA_PORT_NAME, port: args.port }],
                autoHealingPolicies: { healthCheck: this.healthCheck.id, initialDelaySec: AUTOHEALING_INITIAL_DELAY_SEC },
                updatePolicy: rollingUpdatePolicy(args.zones.length),
                waitForInstances: true,
                waitForInstancesStatus: "STABLE",
            },
            // The component's dependsOn (IAM grants, NAT) must hold before any VM boots and fetches its secrets.
            { parent: this, dependsOn: [this.logWriter, ...dependencies(opts?.dependsOn)] },
        );
        this.instanceGroup = this.manager.instanceGroup;

        this.registerOutputs({ instanceGroup: this.instanceGroup });
    }
}

function dependencies(dependsOn: pulumi.ComponentResourceOptions["dependsOn"]): pulumi.Input<pulumi.Resource>[] {
    return dependsOn === undefined ? [] : Array.isArray(dependsOn) ? dependsOn : [dependsOn as pulumi.Input<pulumi.Resource>];
}
