import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { type LoadBalancerScheme, caFirewallRules } from "../../lib/gce/load-balancing";

/** Network tag on the step-ca VMs; the firewall rules target it. */
export const CA_NETWORK_TAG = "step-ca";

/** Inputs of {@link CaNetwork}. */
export interface CaNetworkArgs {
    project: pulumi.Input<string>;
    region: string;
    /** IPv4 range of the subnet for the VMs (and an internal load balancer's address). */
    subnetCidr: string;
    port: number;
    clientCidrs: readonly string[];
    /** Plain: it decides the kind of address reserved. */
    loadBalancer: LoadBalancerScheme;
}

/**
 * The CA's own VPC: one subnet with Private Google Access (Cloud KMS, Secret Manager and Cloud SQL's API without
 * a public IP), Cloud NAT (the VMs have no external IPs but must pull the step-ca and proxy images), a private
 * services range peered with Google for Cloud SQL's private IP, firewall rules that let only health-check probes and
 * the client ranges reach the CA port, and the load balancer's reserved static address — reserved here, before
 * step-ca's config is rendered, so the CA's TLS certificate can name it.
 */
export class CaNetwork extends pulumi.ComponentResource {
    readonly network: gcp.compute.Network;
    readonly subnetwork: gcp.compute.Subnetwork;
    readonly router: gcp.compute.Router;
    readonly nat: gcp.compute.RouterNat;
    readonly privateServicesRange: gcp.compute.GlobalAddress;
    /** Cloud SQL's private IP needs this peering first. */
    readonly privateServicesConnection: gcp.servicenetworking.Connection;
    readonly firewalls: gcp.compute.Firewall[];
    readonly address: gcp.compute.Address;
    /** The load balancer's IP. */
    readonly ipAddress: pulumi.Output<string>;

    constructor(name: string, args: CaNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:gce:CaNetwork", name, {}, opts);
        const parent = { parent: this };
        const { project, region } = args;

        this.network = new gcp.compute.Network(
            name,
            { project, autoCreateSubnetworks: false, description: "step-ca: VMs, load balancer, Cloud SQL peering" },
            parent,
        );
        this.subnetwork = new gcp.compute.Subnetwork(
            name,
            {
                project,
                region,
                network: this.network.id,
                ipCidrRange: args.subnetCidr,
                privateIpGoogleAccess: true,
            },
            parent,
        );
        this.router = new gcp.compute.Router(name, { project, region, network: this.network.id }, parent);
        this.nat = new gcp.compute.RouterNat(
            name,
            {
                project,
                region,
                router: this.router.name,
                natIpAllocateOption: "AUTO_ONLY",
                sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES",
                logConfig: { enable: true, filter: "ERRORS_ONLY" },
            },
            parent,
        );
        this.privateServicesRange = new gcp.compute.GlobalAddress(
            `${name}-private-services`,
            { project, network: this.network.id, purpose: "VPC_PEERING", addressType: "INTERNAL", prefixLength: 20 },
            parent,
        );
        this.privateServicesConnection = new gcp.servicenetworking.Connection(
            name,
            {
                network: this.network.id,
                service: "servicenetworking.googleapis.com",
                reservedPeeringRanges: [this.privateServicesRange.name],
            },
            parent,
        );
        this.firewalls = caFirewallRules(args).map(
            (rule) =>
                new gcp.compute.Firewall(
                    `${name}-${rule.purpose}`,
                    {
                        project,
                        network: this.network.id,
                        direction: "INGRESS",
                        description: rule.description,
                        sourceRanges: [...rule.sourceRanges],
                        targetTags: [CA_NETWORK_TAG],
                        allows: [{ protocol: "tcp", ports: [String(rule.port)] }],
                    },
                    parent,
                ),
        );
        this.address = new gcp.compute.Address(
            name,
            args.loadBalancer === "internal"
                ? { project, region, addressType: "INTERNAL", subnetwork: this.subnetwork.id, purpose: "GCE_ENDPOINT" }
                : { project, region, addressType: "EXTERNAL", networkTier: "PREMIUM" },
            parent,
        );
        this.ipAddress = this.address.address;

        this.registerOutputs({ network: this.network.id, ipAddress: this.ipAddress });
    }
}
