/**
 * Name constraints in the intermediate certificate (RFC 5280 §4.2.1.10): a bound on what the intermediate key can
 * ever vouch for that relying parties enforce themselves, so it holds even if the key is misused outside step-ca.
 * Field names are those of step's certificate templates (x509util.NameConstraints).
 */
import { BlockList, isIP } from "node:net";
import type * as X509 from "@peculiar/x509";
import { loadX509 } from "./x509";

/** Permitted and excluded subtrees; DNS domains as RFC 5280 reads them, IP ranges in CIDR notation. */
export interface NameConstraints {
    readonly permittedDNSDomains?: readonly string[];
    readonly excludedDNSDomains?: readonly string[];
    readonly permittedIPRanges?: readonly string[];
    readonly excludedIPRanges?: readonly string[];
}

export const NAME_CONSTRAINT_FIELDS = [
    "permittedDNSDomains",
    "excludedDNSDomains",
    "permittedIPRanges",
    "excludedIPRanges",
] as const;

/** Whether any subtree is listed; an empty NameConstraints extension is invalid (RFC 5280 requires one subtree). */
export function hasNameConstraints(constraints: NameConstraints | undefined): constraints is NameConstraints {
    return NAME_CONSTRAINT_FIELDS.some((field) => (constraints?.[field]?.length ?? 0) > 0);
}

/** The critical NameConstraints extension, encoded by @peculiar/asn1-x509. */
export function nameConstraintsExtension(constraints: NameConstraints): X509.Extension {
    const x509 = loadX509();
    const asn1 = require("@peculiar/asn1-x509") as typeof import("@peculiar/asn1-x509");
    const { AsnConvert } = require("@peculiar/asn1-schema") as typeof import("@peculiar/asn1-schema");
    const subtrees = (dns: readonly string[] = [], ips: readonly string[] = []) => {
        const names = [
            ...dns.map((dNSName) => new asn1.GeneralName({ dNSName })),
            ...ips.map((iPAddress) => new asn1.GeneralName({ iPAddress })),
        ];
        return names.length === 0
            ? undefined
            : new asn1.GeneralSubtrees(names.map((base) => new asn1.GeneralSubtree({ base })));
    };
    const value = new asn1.NameConstraints({
        permittedSubtrees: subtrees(constraints.permittedDNSDomains, constraints.permittedIPRanges),
        excludedSubtrees: subtrees(constraints.excludedDNSDomains, constraints.excludedIPRanges),
    });
    return new x509.Extension(asn1.id_ce_nameConstraints, true, AsnConvert.serialize(value));
}

/**
 * Why the constraints exclude `name` (a DNS name or IP address), or undefined when a certificate for it verifies
 * under them. DNS per RFC 5280 as Go and OpenSSL apply it: "example.com" covers that name and every name below it,
 * ".example.com" only names below it. Names of a kind no permitted subtree lists are not constrained.
 */
export function nameConstraintRefusal(constraints: NameConstraints, name: string): string | undefined {
    if (isIP(name) === 0) {
        const excluded = (constraints.excludedDNSDomains ?? []).find((domain) => dnsWithin(name, domain));
        if (excluded !== undefined) {
            return `excludedDNSDomains "${excluded}" covers it`;
        }
        const permitted = constraints.permittedDNSDomains ?? [];
        if (permitted.length > 0 && !permitted.some((domain) => dnsWithin(name, domain))) {
            return "no permittedDNSDomains entry covers it";
        }
        return undefined;
    }
    const excluded = (constraints.excludedIPRanges ?? []).find((range) => ipWithin(name, range));
    if (excluded !== undefined) {
        return `excludedIPRanges "${excluded}" covers it`;
    }
    const permitted = constraints.permittedIPRanges ?? [];
    if (permitted.length > 0 && !permitted.some((range) => ipWithin(name, range))) {
        return "no permittedIPRanges entry covers it";
    }
    return undefined;
}

function dnsWithin(name: string, domain: string): boolean {
    const n = name.toLowerCase();
    const d = domain.toLowerCase();
    if (d.startsWith(".")) {
        return n.endsWith(d) && n.length > d.length;
    }
    return n === d || n.endsWith(`.${d}`);
}

/** Whether `ip` lies in `range` (CIDR); an address of the other family never does. */
export function ipWithin(ip: string, range: string): boolean {
    const [address, prefix] = range.split("/");
    const family = isIP(address);
    if (family === 0 || family !== isIP(ip) || prefix === undefined) {
        return false;
    }
    const list = new BlockList();
    list.addSubnet(address, Number(prefix), family === 6 ? "ipv6" : "ipv4");
    return list.check(ip, family === 6 ? "ipv6" : "ipv4");
}

/**
 * What is wrong with the constraints as written, each a phrase naming the field; empty when they encode. DNS domains
 * are host names, optionally with a leading "." (subdomains only); IP ranges are CIDR with the host bits clear.
 */
export function nameConstraintsProblems(constraints: NameConstraints): string[] {
    const problems: string[] = [];
    for (const field of NAME_CONSTRAINT_FIELDS) {
        const list = constraints[field];
        if (list === undefined) {
            continue;
        }
        if (!Array.isArray(list) || !list.every((entry) => typeof entry === "string")) {
            problems.push(`${field} must be a list of strings`);
            continue;
        }
        for (const entry of list) {
            const reason = field.endsWith("DNSDomains") ? dnsDomainProblem(entry) : ipRangeProblem(entry);
            if (reason) {
                problems.push(`${field} entry "${entry}" ${reason}`);
            }
        }
    }
    return problems;
}

function dnsDomainProblem(domain: string): string | undefined {
    const name = domain.startsWith(".") ? domain.slice(1) : domain;
    const labels = name.split(".");
    const valid =
        name.length > 0 &&
        name.length <= 253 &&
        labels.every((label) => /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(label));
    return valid
        ? undefined
        : 'is not a DNS domain ("example.com" for it and every name below, ".example.com" for names below only)';
}

function ipRangeProblem(range: string): string | undefined {
    const match = /^([^/]+)\/(\d{1,3})$/.exec(range);
    const family = match ? isIP(match[1]) : 0;
    const prefix = match ? Number(match[2]) : NaN;
    if (!match || family === 0 || prefix > (family === 4 ? 32 : 128)) {
        return 'is not an IP range in CIDR notation, such as "10.0.0.0/8" or "fd00::/8"';
    }
    // Host bits set would encode a different range than the one written.
    const bytes = ipBytes(match[1]);
    const hostBitsSet = bytes.some((byte, i) => (byte & (0xff >> Math.min(8, Math.max(0, prefix - i * 8)))) !== 0);
    return hostBitsSet ? "has host bits set; write the network address of the range" : undefined;
}

/** The address's bytes (4 for IPv4, 16 for IPv6); `ip` must be valid (net.isIP). */
function ipBytes(ip: string): number[] {
    if (isIP(ip) === 4) {
        return ip.split(".").map(Number);
    }
    const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
    const groups = (text: string | undefined) => (text ? text.split(":") : []);
    const missing = 8 - groups(head).length - groups(tail).length;
    const all = tail === undefined ? groups(head) : [...groups(head), ...Array(missing).fill("0"), ...groups(tail)];
    return all.flatMap((group) => [parseInt(group, 16) >> 8, parseInt(group, 16) & 0xff]);
}
