/**
 * Certificate lifetimes step-ca allows ("claims"): ca.json `authority.claims` for every provisioner, and a
 * provisioner's own `claims` over them, field by field. step-ca refuses to start when, after that merge, the default
 * is outside min–max, so the same merge runs at preview ({@link claimsProblems}).
 */
import { formatGoDuration, parseGoDuration } from "./go-duration";

/** The TLS claims this program sets, named as in ca.json; durations in Go syntax ("24h"). */
export interface Claims {
    readonly minTLSCertDuration?: string;
    readonly maxTLSCertDuration?: string;
    readonly defaultTLSCertDuration?: string;
    /** Refuse `step ca renew` (and every renewal through the provisioner). */
    readonly disableRenewal?: boolean;
}

export const CLAIM_DURATION_FIELDS = ["minTLSCertDuration", "maxTLSCertDuration", "defaultTLSCertDuration"] as const;
export const CLAIM_FIELDS = [...CLAIM_DURATION_FIELDS, "disableRenewal"] as const;

/** step-ca's built-in claims (authority/config GlobalProvisionerClaims), what applies where nothing is set. */
export const STEP_CA_DEFAULT_CLAIMS = {
    minTLSCertDuration: "5m",
    maxTLSCertDuration: "24h",
    defaultTLSCertDuration: "24h",
    disableRenewal: false,
} as const satisfies Required<Claims>;

/** Effective TLS lifetimes in seconds. */
export interface EffectiveLifetimes {
    readonly min: number;
    readonly max: number;
    readonly default: number;
}

/**
 * The lifetimes in effect when `own` claims sit over `inherited` ones, merged as step-ca's Claimer does: each field
 * from `own` when set, else inherited, except that an own default below the inherited minimum (above the inherited
 * maximum) lowers (raises) that bound when the bound itself is not set.
 */
export function effectiveLifetimes(own: Claims | undefined, inherited: EffectiveLifetimes): EffectiveLifetimes {
    const seconds = (value: string | undefined) => (value === undefined ? undefined : parseGoDuration(value));
    const ownDefault = seconds(own?.defaultTLSCertDuration);
    const ownMin = seconds(own?.minTLSCertDuration);
    const ownMax = seconds(own?.maxTLSCertDuration);
    return {
        min: ownMin ?? (ownDefault !== undefined && ownDefault < inherited.min ? ownDefault : inherited.min),
        max: ownMax ?? (ownDefault !== undefined && ownDefault > inherited.max ? ownDefault : inherited.max),
        default: ownDefault ?? inherited.default,
    };
}

/** step-ca's built-in lifetimes, in seconds. */
export const STEP_CA_DEFAULT_LIFETIMES: EffectiveLifetimes = effectiveLifetimes(STEP_CA_DEFAULT_CLAIMS, {
    min: 0,
    max: 0,
    default: 0,
});

/**
 * What step-ca would refuse in `claims` over `inherited`, each a phrase that follows the claims' name; empty when
 * it would start. Durations must parse (Go syntax) and be positive, and min ≤ default ≤ max after the merge.
 */
export function claimsProblems(claims: Claims, inherited: EffectiveLifetimes): string[] {
    const problems: string[] = [];
    for (const field of CLAIM_DURATION_FIELDS) {
        const value = claims[field];
        if (value === undefined) {
            continue;
        }
        const seconds = typeof value === "string" ? parseGoDuration(value) : undefined;
        if (seconds === undefined) {
            problems.push(
                `${field} ${JSON.stringify(value)} is not a duration step-ca can read (Go syntax: a number and a ` +
                    'unit, such as "30m", "24h" or "2160h" for 90 days; units ns, us, ms, s, m, h)',
            );
        } else if (seconds <= 0) {
            problems.push(`${field} "${value}" must be longer than 0`);
        }
    }
    if (problems.length > 0) {
        return problems;
    }
    const effective = effectiveLifetimes(claims, inherited);
    const show = (field: (typeof CLAIM_DURATION_FIELDS)[number], seconds: number) =>
        claims[field] !== undefined ? `${field} "${claims[field]}"` : `the inherited ${field} (${formatGoDuration(seconds)})`;
    if (effective.max < effective.min) {
        problems.push(
            `${show("maxTLSCertDuration", effective.max)} is shorter than ${show("minTLSCertDuration", effective.min)}`,
        );
    }
    if (effective.default < effective.min || effective.default > effective.max) {
        problems.push(
            `${show("defaultTLSCertDuration", effective.default)} is outside ` +
                `${show("minTLSCertDuration", effective.min)} – ${show("maxTLSCertDuration", effective.max)}`,
        );
    }
    return problems;
}
