import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { type LoadBalancerScheme, loadBalancerHealthCheck } from "../../lib/gce/load-balancing";

/** Inputs of {@link PassthroughLoadBalancer}. */
export interface PassthroughLoadBalancerArgs {
    project: pulumi.Input<string>;
    region: string;
    /** Plain: internal and external balancers take different arguments. */
    scheme: LoadBalancerScheme;
    instanceGroup: pulumi.Input<string>;
    port: number;
    /** The reserved static address (its self link or ID). */
    address: pulumi.Input<string>;
    /** Internal only: the VPC and subnet the forwarding rule lives in. */
    network: pulumi.Input<string>;
    subnetwork: pulumi.Input<string>;
    /** Cloud DNS managed zone and the name to point at the address; no record when the zone is empty. */
    dnsZone: string;
    dnsName: string;
    ipAddress: pulumi.Input<string>;
}

/**
 * A regional TCP passthrough Network Load Balancer in front of the replicas. Passthrough, not a proxy: step-ca
 * terminates TLS itself (clients pin its root, mTLS renewal needs the client's certificate), so the connection
 * must reach it unopened. Internal by default (clients in the VPC or connected networks); external on request.
 * Its own health check takes a failing replica out within seconds.
 */
export class PassthroughLoadBalancer extends pulumi.ComponentResource {
    readonly healthCheck: gcp.compute.RegionHealthCheck;
    readonly backendService: gcp.compute.RegionBackendService;
    readonly forwardingRule: gcp.compute.ForwardingRule;
    readonly dnsRecord?: gcp.dns.RecordSet;

    constructor(name: string, args: PassthroughLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:gce:PassthroughLoadBalancer", name, {}, opts);
        const parent = { parent: this };
        const { project, region } = args;
        const scheme = args.scheme === "internal" ? "INTERNAL" : "EXTERNAL";

        this.healthCheck = new gcp.compute.RegionHealthCheck(
            name,
            { project, region, ...loadBalancerHealthCheck(args.port) },
            parent,
        );
        this.backendService = new gcp.compute.RegionBackendService(
            name,
            {
                project,
                region,
                loadBalancingScheme: scheme,
                protocol: "TCP",
                healthChecks: this.healthCheck.id,
                backends: [{ group: args.instanceGroup, balancingMode: "CONNECTION" }],
                connectionDrainingTimeoutSec: 30,
            },
            parent,
        );
        this.forwardingRule = new gcp.compute.ForwardingRule(
            name,
            {
                project,
                region,
                loadBalancingScheme: scheme,
                backendService: this.backendService.id,
                ipAddress: args.address,
                ipProtocol: "TCP",
                ports: [String(args.port)],
                ...(args.scheme === "internal"
                    ? { network: args.network, subnetwork: args.subnetwork }
                    : { networkTier: "PREMIUM" }),
            },
            parent,
        );
        if (args.dnsZone) {
            this.dnsRecord = new gcp.dns.RecordSet(
                name,
                { project, managedZone: args.dnsZone, name: `${args.dnsName}.`, type: "A", ttl: 300, rrdatas: [args.ipAddress] },
                parent,
            );
        }
        this.registerOutputs({ forwardingRule: this.forwardingRule.id });
    }
}
