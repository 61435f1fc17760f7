/**
 * Validity windows: how long a CA certificate lives, when it is due for renewal, and the rule that an intermediate
 * never outlives the root that signs it.
 */

export interface Validity {
    readonly notBefore: Date;
    readonly notAfter: Date;
}

export const DAY_MS = 86_400_000;

/** Backdating absorbs clock skew between the machine running Pulumi and the CA host (step-ca backdates by 1 min). */
export const BACKDATE_MS = 60_000;

/** `validityDays` from now, on whole seconds (X.509 times have no fractions, so outputs match the certificate). */
export function validityFromNow(validityDays: number, now: Date = new Date()): Validity {
    const start = Math.floor(now.getTime() / 1000) * 1000;
    return { notBefore: new Date(start - BACKDATE_MS), notAfter: new Date(start + validityDays * DAY_MS) };
}

/** True once `now` is past `notAfter − renewBeforeDays`: the certificate should be re-minted. */
export function isRenewalDue(notAfter: Date | string, renewBeforeDays: number, now: Date = new Date()): boolean {
    return now.getTime() > new Date(notAfter).getTime() - renewBeforeDays * DAY_MS;
}

/**
 * Clamps a validity to end with the issuer's, as step-ca does for the certificates it signs. Fails when the clamped
 * certificate would already be due for renewal: it would be re-minted on every deployment, so the root needs
 * attention first.
 */
export function clampToIssuer(
    validity: Validity,
    issuerNotAfter: Date,
    renewBeforeDays: number,
    now: Date = new Date(),
): Validity {
    const notAfter = validity.notAfter > issuerNotAfter ? issuerNotAfter : validity.notAfter;
    if (isRenewalDue(notAfter, renewBeforeDays, now)) {
        throw new Error(
            `the issuer expires ${issuerNotAfter.toISOString()}, so an intermediate minted now would end inside its ` +
                `${renewBeforeDays}-day renewal window at once; renew the root (or lower renewBeforeDays) first`,
        );
    }
    return { notBefore: validity.notBefore, notAfter };
}
