/**
 * What the CA may issue, from the stack settings `claims` (lifetimes), `policy` (step-ca's X.509 issuance policy)
 * and `nameConstraints` (the intermediate's NameConstraints extension). Besides the shape of each, the checks step-ca
 * and relying parties would only apply later: lifetimes step-ca would refuse at start, and a policy or constraint
 * that rules out the CA's own names (its TLS certificate comes from the same intermediate).
 */
import {
    CLAIM_FIELDS,
    type Claims,
    type EffectiveLifetimes,
    STEP_CA_DEFAULT_LIFETIMES,
    claimsProblems,
    effectiveLifetimes,
} from "../step-ca/claims";
import { POLICY_NAME_KINDS, type PolicyNames, type X509Policy, policyRefusal } from "../step-ca/x509-policy";
import {
    NAME_CONSTRAINT_FIELDS,
    type NameConstraints,
    hasNameConstraints,
    nameConstraintRefusal,
    nameConstraintsProblems,
} from "../pki/name-constraints";
import { booleanField, isRecord, parseStructured, stringList, unknownFields } from "./structured";
import { isIP } from "node:net";

/**
 * Claims at `path` (authority-wide or a provisioner's), over `inherited`; undefined when empty or invalid (each
 * problem recorded).
 */
export function readClaims(
    path: string,
    value: unknown,
    inherited: EffectiveLifetimes,
    problems: string[],
): Claims | undefined {
    if (!isRecord(value)) {
        problems.push(
            `${path} must be an object such as {"defaultTLSCertDuration": "24h", "maxTLSCertDuration": "168h"}, ` +
                `got ${JSON.stringify(value)}.`,
        );
        return undefined;
    }
    const before = problems.length;
    unknownFields(path, value, CLAIM_FIELDS, problems);
    const claims: Record<string, string | boolean> = {};
    for (const field of CLAIM_FIELDS) {
        const v = value[field];
        if (v === undefined) continue;
        if (field === "disableRenewal") {
            const b = booleanField(`${path}.${field}`, v, problems);
            if (b !== undefined) claims[field] = b;
        } else {
            claims[field] = v as string;
        }
    }
    for (const reason of claimsProblems(claims as Claims, inherited)) {
        problems.push(`${path}: ${reason}. step-ca would refuse to start.`);
    }
    return problems.length === before && Object.keys(claims).length > 0 ? (claims as Claims) : undefined;
}

/** The authority-wide claims setting and the lifetimes every provisioner inherits from it. */
export function readAuthorityClaims(
    key: string,
    text: string,
    problems: string[],
): { claims?: Claims; lifetimes: EffectiveLifetimes } {
    const fix = "Example: `pulumi config set --path 'claims.maxTLSCertDuration' 168h`.";
    const value = parseStructured(key, text, "object", fix, problems);
    const claims = value === undefined ? undefined : readClaims(key, value, STEP_CA_DEFAULT_LIFETIMES, problems);
    return { claims, lifetimes: effectiveLifetimes(claims, STEP_CA_DEFAULT_LIFETIMES) };
}

/** The `policy` setting: `{x509: {allow: {dns, ip, email, uri}, deny: {…}, allowWildcardNames}}`. */
export function readPolicy(
    key: string,
    text: string,
    dnsNames: readonly string[],
    problems: string[],
): X509Policy | undefined {
    const fix = "Example: `pulumi config set --path 'policy.x509.allow.dns[0]' '*.internal.example.com'`.";
    const value = parseStructured(key, text, "object", fix, problems);
    if (value === undefined || Object.keys(value).length === 0) {
        return undefined;
    }
    const before = problems.length;
    unknownFields(key, value as Record<string, unknown>, ["x509"], problems);
    const x509 = (value as Record<string, unknown>).x509;
    if (!isRecord(x509)) {
        problems.push(`${key}.x509 must be an object with allow and/or deny lists. ${fix}`);
        return undefined;
    }
    unknownFields(`${key}.x509`, x509, ["allow", "deny", "allowWildcardNames"], problems);
    const names = (list: "allow" | "deny"): PolicyNames | undefined => {
        const raw = x509[list];
        if (raw === undefined) return undefined;
        const path = `${key}.x509.${list}`;
        if (!isRecord(raw)) {
            problems.push(`${path} must be an object of name lists (${POLICY_NAME_KINDS.join(", ")}). ${fix}`);
            return undefined;
        }
        unknownFields(path, raw, POLICY_NAME_KINDS, problems);
        const out: Record<string, string[]> = {};
        for (const kind of POLICY_NAME_KINDS) {
            if (raw[kind] === undefined) continue;
            const entries = stringList(`${path}.${kind}`, raw[kind], problems);
            if (!entries) continue;
            for (const entry of entries) {
                const reason = policyEntryProblem(kind, entry);
                if (reason) problems.push(`${path}.${kind} entry "${entry}" ${reason}.`);
            }
            out[kind] = entries;
        }
        return out;
    };
    const policy: X509Policy = {
        ...(x509.allow !== undefined && { allow: names("allow") }),
        ...(x509.deny !== undefined && { deny: names("deny") }),
        ...(x509.allowWildcardNames !== undefined && {
            allowWildcardNames: booleanField(`${key}.x509.allowWildcardNames`, x509.allowWildcardNames, problems),
        }),
    };
    if (problems.length > before) {
        return undefined;
    }
    for (const name of dnsNames) {
        const refusal = policyRefusal(policy, name);
        if (refusal) {
            const kind = isIP(name) ? "ip" : "dns";
            problems.push(
                `${key} refuses the CA's own name "${name}" (dnsNames): ${refusal}. Clients reach step-ca by that ` +
                    `name; allow it in policy.x509.allow.${kind} (and take it out of deny.${kind}).`,
            );
        }
    }
    return policy;
}

function policyEntryProblem(kind: (typeof POLICY_NAME_KINDS)[number], entry: string): string | undefined {
    const domain = /^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
    switch (kind) {
        case "dns":
        case "uri":
            return domain.test(entry) ? undefined : 'is not a domain or "*.domain" (one label more)';
        case "ip": {
            const [address, prefix, extra] = entry.split("/");
            const max = isIP(address) === 4 ? 32 : 128;
            const ok = isIP(address) !== 0 && extra === undefined && (prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= max));
            return ok ? undefined : 'is not an IP address or CIDR range ("10.0.0.0/8")';
        }
        case "email":
            return /^([^@\s]+@)?@?[a-zA-Z0-9.-]+$/.test(entry) ? undefined : 'is not an email address or "@domain"';
    }
}

/** The `nameConstraints` setting; undefined when unset or empty (no extension). */
export function readNameConstraints(
    key: string,
    text: string,
    dnsNames: readonly string[],
    problems: string[],
): NameConstraints | undefined {
    const fix = "Example: `pulumi config set --path 'nameConstraints.permittedDNSDomains[0]' internal.example.com`.";
    const value = parseStructured(key, text, "object", fix, problems);
    if (value === undefined) {
        return undefined;
    }
    const before = problems.length;
    unknownFields(key, value as Record<string, unknown>, NAME_CONSTRAINT_FIELDS, problems);
    const constraints = value as NameConstraints;
    for (const reason of nameConstraintsProblems(constraints)) {
        problems.push(`${key}.${reason}. ${fix}`);
    }
    if (problems.length > before || !hasNameConstraints(constraints)) {
        return undefined;
    }
    for (const name of dnsNames) {
        const refusal = nameConstraintRefusal(constraints, name);
        if (refusal) {
            problems.push(
                `${key} excludes the CA's own name "${name}" (dnsNames): ${refusal}. Clients would reject step-ca's ` +
                    "own TLS certificate, which the same intermediate signs; permit it in " +
                    `${isIP(name) ? "permittedIPRanges" : "permittedDNSDomains"}.`,
            );
        }
    }
    return Object.fromEntries(NAME_CONSTRAINT_FIELDS.filter((f) => constraints[f]?.length).map((f) => [f, constraints[f]]));
}
