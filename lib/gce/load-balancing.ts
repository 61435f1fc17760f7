/**
 * The values the gce runtime's load balancing is made of: health checks, the firewall rules that let only probes
 * and clients reach the CA port, and the instance group's rolling update policy. Plain data, so tests read them
 * without Pulumi.
 */

/** step-ca answers `{"status":"ok"}` here without client authentication. */
export const HEALTH_CHECK_PATH = "/health";

/** Which passthrough load balancer fronts the CA. */
export type LoadBalancerScheme = "internal" | "external";

/**
 * Source ranges of Google's health-check probes, per Google's "Firewall rules" page for load balancing
 * (https://cloud.google.com/load-balancing/docs/firewall-rules, and health-check-concepts#ip-ranges): internal
 * passthrough Network Load Balancers and managed-instance-group autohealing probe from 35.191.0.0/16 and
 * 130.211.0.0/22; backend-service-based external passthrough Network Load Balancers from 35.191.0.0/16,
 * 209.85.152.0/22 and 209.85.204.0/22.
 */
export const HEALTH_CHECK_RANGES = {
    internal: ["35.191.0.0/16", "130.211.0.0/22"],
    external: ["35.191.0.0/16", "209.85.152.0/22", "209.85.204.0/22"],
} as const;

/** Ranges that must reach the CA port for the load balancer's checks and for autohealing (which probes like internal). */
export function probeSourceRanges(scheme: LoadBalancerScheme): string[] {
    return [...new Set<string>([...HEALTH_CHECK_RANGES[scheme], ...HEALTH_CHECK_RANGES.internal])].sort();
}

/** An HTTPS health check on step-ca's own TLS port (the probe does not verify the certificate). */
export interface HttpsHealthCheck {
    readonly checkIntervalSec: number;
    readonly timeoutSec: number;
    readonly healthyThreshold: number;
    readonly unhealthyThreshold: number;
    readonly httpsHealthCheck: { readonly port: number; readonly requestPath: string };
}

/** The load balancer's check: quick to take a failing replica out of rotation (about 10 s). */
export function loadBalancerHealthCheck(port: number): HttpsHealthCheck {
    return {
        checkIntervalSec: 5,
        timeoutSec: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
        httpsHealthCheck: { port, requestPath: HEALTH_CHECK_PATH },
    };
}

/**
 * Autohealing's check: slower to condemn than the load balancer's, so a replica busy for a moment is not recreated
 * (about 30 s of failures), per Google's advice to keep the two separate.
 */
export function autohealingHealthCheck(port: number): HttpsHealthCheck {
    return {
        checkIntervalSec: 10,
        timeoutSec: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        httpsHealthCheck: { port, requestPath: HEALTH_CHECK_PATH },
    };
}

/** Time a new VM gets to boot, pull the images and start step-ca before autohealing judges it. */
export const AUTOHEALING_INITIAL_DELAY_SEC = 300;

/** One ingress allow rule to the CA port on the VMs carrying the CA's network tag. */
export interface CaFirewallRule {
    /** Suffix of the rule's name. */
    readonly purpose: "health-checks" | "clients";
    readonly sourceRanges: readonly string[];
    readonly port: number;
    readonly description: string;
}

/**
 * The only ingress the VMs accept: probes from Google's health-check ranges, and the configured client ranges,
 * both to the CA port alone. Everything else is refused by the VPC's implied deny-ingress rule (no SSH rule).
 */
export function caFirewallRules(args: {
    port: number;
    clientCidrs: readonly string[];
    loadBalancer: LoadBalancerScheme;
}): CaFirewallRule[] {
    return [
        {
            purpose: "health-checks",
            sourceRanges: probeSourceRanges(args.loadBalancer),
            port: args.port,
            description: "Google health-check probes (load balancer and autohealing) to step-ca's port.",
        },
        {
            purpose: "clients",
            sourceRanges: [...new Set(args.clientCidrs)],
            port: args.port,
            description: "Configured client ranges (clientCidrs) to step-ca's port, through the passthrough load balancer.",
        },
    ];
}

/** A regional managed instance group's update policy. */
export interface RollingUpdatePolicy {
    readonly type: "PROACTIVE";
    readonly minimalAction: "REPLACE";
    readonly replacementMethod: "SUBSTITUTE";
    readonly maxSurgeFixed: number;
    readonly maxUnavailableFixed: number;
}

/** Zones a regional instance group uses when none are given: Compute Engine picks three. */
export const DEFAULT_ZONE_COUNT = 3;

/**
 * Replace VMs (a new instance template: a new intermediate, config or image) without ever dropping below the
 * configured capacity: no instance is taken down before its replacement is up (maxUnavailable 0). A regional group
 * requires a fixed maxSurge of 0 or at least its number of zones, so it surges one VM per zone.
 */
export function rollingUpdatePolicy(zoneCount: number): RollingUpdatePolicy {
    return {
        type: "PROACTIVE",
        minimalAction: "REPLACE",
        replacementMethod: "SUBSTITUTE",
        maxSurgeFixed: Math.max(1, zoneCount || DEFAULT_ZONE_COUNT),
        maxUnavailableFixed: 0,
    };
}
