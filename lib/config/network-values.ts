/**
 * Parsers for the gce runtime's network settings: IPv4 CIDR ranges and Compute Engine zones. Leaf module, plain
 * functions, like values.ts.
 */
import { isIPv4 } from "node:net";

/** An IPv4 range in CIDR notation. */
export interface Ipv4Cidr {
    readonly address: string;
    readonly prefixLength: number;
}

/** Parses `a.b.c.d/n`; undefined when the text is not one. Host bits may be set (see {@link cidrProblem}). */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
    const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
    if (!match || !isIPv4(match[1]) || Number(match[2]) > 32) {
        return undefined;
    }
    return { address: match[1], prefixLength: Number(match[2]) };
}

/** The range's network address: `10.1.2.3/8` → `10.0.0.0`. */
export function networkAddress(cidr: Ipv4Cidr): string {
    const value = cidr.address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
    const size = 2 ** (32 - cidr.prefixLength);
    const network = Math.floor(value / size) * size;
    return [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
}

/**
 * What is wrong with `text` as an IPv4 CIDR range (a phrase following the value), or undefined. A range with host
 * bits set is refused with its network address: firewall rules would silently widen or narrow it.
 */
export function cidrProblem(text: string): string | undefined {
    const cidr = parseIpv4Cidr(text);
    if (!cidr) {
        return "is not an IPv4 range in CIDR notation, such as 10.0.0.0/8";
    }
    const network = networkAddress(cidr);
    if (network !== cidr.address) {
        return `has host bits set; the range is ${network}/${cidr.prefixLength}`;
    }
    return undefined;
}

/** Whether `zone` is a zone of `region` as Compute Engine names them (`europe-west1-b` of `europe-west1`). */
export function isZoneOf(zone: string, region: string): boolean {
    return zone.startsWith(`${region}-`) && /^[a-z]$/.test(zone.slice(region.length + 1));
}
