/**
 * step-ca's X.509 issuance policy (ca.json `authority.policy.x509`): names a certificate may or may not carry. The
 * matching here mirrors step-ca's policy engine (policy/validate.go) for DNS names and IPs, enough to tell at preview
 * whether a policy would forbid the CA's own names.
 */
import { BlockList, isIP } from "node:net";

export const POLICY_NAME_KINDS = ["dns", "ip", "email", "uri"] as const;
export type PolicyNameKind = (typeof POLICY_NAME_KINDS)[number];

/** One allow or deny list, keyed as in ca.json. */
export type PolicyNames = { readonly [K in PolicyNameKind]?: readonly string[] };

/** ca.json `authority.policy.x509`. */
export interface X509Policy {
    readonly allow?: PolicyNames;
    readonly deny?: PolicyNames;
    /** Allow literal wildcard names (`*.example.com`) in certificates; step-ca refuses them by default. */
    readonly allowWildcardNames?: boolean;
}

/**
 * Why step-ca's policy refuses `name` (a DNS name or an IP address), or undefined when it allows it. Deny rules
 * win; once any allow rule exists, a name is refused unless an allow rule of its own kind matches it.
 */
export function policyRefusal(policy: X509Policy, name: string): string | undefined {
    const kind: PolicyNameKind = isIP(name) === 0 ? "dns" : "ip";
    const matches = (rule: string) => (kind === "dns" ? dnsRuleMatches(rule, name) : ipRuleMatches(rule, name));
    const denied = (policy.deny?.[kind] ?? []).find(matches);
    if (denied !== undefined) {
        return `deny.${kind} "${denied}" matches it`;
    }
    const anyAllow = POLICY_NAME_KINDS.some((k) => (policy.allow?.[k]?.length ?? 0) > 0);
    if (anyAllow && !(policy.allow?.[kind] ?? []).some(matches)) {
        return `no allow.${kind} rule matches it (with allow rules set, step-ca refuses every name no rule allows)`;
    }
    return undefined;
}

/** step-ca DNS rules: "example.com" matches that name only; "*.example.com" exactly one label more. */
export function dnsRuleMatches(rule: string, name: string): boolean {
    const lower = name.toLowerCase();
    const r = rule.toLowerCase();
    if (r.startsWith("*.")) {
        const suffix = r.slice(1);
        return lower.endsWith(suffix) && !lower.slice(0, -suffix.length).includes(".") && lower.length > suffix.length;
    }
    return lower === r;
}

/** step-ca IP rules: an address or a CIDR range. */
export function ipRuleMatches(rule: string, ip: string): boolean {
    const family = isIP(ip) === 6 ? "ipv6" : "ipv4";
    const [address, prefix] = rule.split("/");
    if (isIP(address) !== (family === "ipv6" ? 6 : 4)) {
        return false;
    }
    const list = new BlockList();
    if (prefix === undefined) {
        list.addAddress(address, family);
    } else {
        list.addSubnet(address, Number(prefix), family);
    }
    return list.check(ip, family);
}
