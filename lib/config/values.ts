/**
 * Parsers for the values this project takes as text: durations as Cloud KMS writes them, `host:port` addresses and
 * DNS names. Stack-config validation (`lib/config/config.ts`), ca.json rendering (`lib/step-ca/ca-json.ts`), the KMS client
 * (`lib/kms/client.ts`) and the dynamic providers' `check` all use these, so a value one accepts the others accept.
 *
 * Leaf module (no project imports), plain functions, so Pulumi's closure serializer captures them cleanly when a dynamic
 * provider uses them.
 */
import { isIP } from "node:net";

/** A protobuf Duration in seconds as the Cloud KMS API writes it: `"86400s"`, `"1.5s"` (up to 9 decimals). */
export interface KmsDuration {
    readonly seconds: number;
    readonly nanos: number;
}

/** Parses `"<seconds>[.<fraction>]s"`; undefined when the text is not such a duration. */
export function parseKmsDuration(text: string): KmsDuration | undefined {
    const match = /^(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
    if (!match) {
        return undefined;
    }
    return { seconds: Number(match[1]), nanos: Number((match[2] ?? "").padEnd(9, "0")) };
}

/**
 * Splits `host:port`. The host may be a name, an IPv4 address, an IPv6 address in brackets (returned without them)
 * or empty (`":9000"`, all interfaces); callers that need a host check it. Undefined unless the port is 1-65535.
 */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
    const match = /^(\[[^\]\s]*\]|[^:[\]\s]*):(\d{1,5})$/.exec(text);
    const port = match ? Number(match[2]) : NaN;
    if (!match || !(port >= 1 && port <= 65535)) {
        return undefined;
    }
    return { host: match[1].replace(/^\[|\]$/g, ""), port };
}

/** Whether `name` is a DNS host name (letters, digits and inner hyphens per label; 253 characters at most). */
function isDnsName(name: string): boolean {
    return (
        name.length <= 253 &&
        name.split(".").every((label) => /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(label))
    );
}

/**
 * What is wrong with the names a CA serves TLS on (step-ca's `dnsNames`), each reason a phrase that follows the
 * setting's name; empty when the list is usable.
 */
export function dnsNamesProblems(names: readonly string[]): string[] {
    const problems: string[] = [];
    if (names.length === 0) {
        problems.push("is empty; step-ca needs at least one DNS name or IP for its TLS certificate");
    }
    for (const name of names) {
        if (!isDnsName(name) && isIP(name) === 0) {
            const hint = /:\/\/|:\d+$|\//.test(name) ? " (a bare host name, without scheme, port or path)" : "";
            problems.push(`entry "${name}" is not a DNS name or IP address${hint}`);
        }
    }
    if (new Set(names).size !== names.length) {
        problems.push("lists a name more than once");
    }
    return problems;
}

/**
 * The candidate a mistyped `value` most likely meant: the nearest by edit distance, ignoring case, if it is within
 * `maxDistance` edits. Ties go to the earlier candidate.
 */
export function closestMatch(value: string, candidates: Iterable<string>, maxDistance: number): string | undefined {
    let best: string | undefined;
    let bestDistance = maxDistance + 1;
    for (const candidate of candidates) {
        const d = editDistance(value.toLowerCase(), candidate.toLowerCase());
        if (d < bestDistance) {
            best = candidate;
            bestDistance = d;
        }
    }
    return best;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = current;
    }
    return previous[b.length];
}
