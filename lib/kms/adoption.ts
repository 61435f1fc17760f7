/**
 * Whether a key ring or crypto key found already there (ALREADY_EXISTS on create) is the one this program would have
 * created, so that a create interrupted after Cloud KMS completed it (a crash, or an answer after the client's
 * deadline) is adopted on the next `up` instead of wedging the stack: names cannot be reused, so without adoption the
 * only way out would be new names and orphan keys left ENABLED.
 */

/** What this program creates a crypto key with: the fields compared when adopting one. */
export interface WantedCryptoKey {
    readonly purpose: string;
    readonly algorithm: string;
    readonly protectionLevel: string;
}

/** The fields of a CryptoKey as the client library returns them (enums as names). */
export interface FoundCryptoKey {
    readonly purpose?: string | null;
    readonly versionTemplate?: { readonly algorithm?: string | null; readonly protectionLevel?: string | null } | null;
}

/** The version this program signs with; states in which an adopted key is still usable (DISABLED: an offline root). */
const USABLE_VERSION_STATES: readonly string[] = ["ENABLED", "PENDING_GENERATION", "DISABLED"];

/** What differs between a found key and the wanted one, one phrase each; empty when it may be adopted. */
export function cryptoKeyDifferences(found: FoundCryptoKey, wanted: WantedCryptoKey): string[] {
    const fields: [string, unknown, string][] = [
        ["purpose", found.purpose, wanted.purpose],
        ["algorithm", found.versionTemplate?.algorithm, wanted.algorithm],
        ["protection level", found.versionTemplate?.protectionLevel, wanted.protectionLevel],
    ];
    return fields.filter(([, is, want]) => is !== want).map(([what, is, want]) => `${what} is ${String(is ?? "unset")}, not ${want}`);
}

/** The problem with adopting a key whose first version is in `state` (undefined: no version 1), or undefined. */
export function firstVersionProblem(version: string, state: string | undefined): string | undefined {
    if (state !== undefined && USABLE_VERSION_STATES.includes(state)) return undefined;
    return state === undefined ? `${version} does not exist` : `${version} is ${state}`;
}

/** The error for a key ring or key that exists but is not this program's, saying what differs and what to do. */
export function notAdoptableMessage(kind: "KeyRing" | "CryptoKey", name: string, differences: readonly string[]): string {
    return (
        `${kind} ${name} already exists but is not the one this program would create (${differences.join("; ")}), ` +
        "so it was not adopted. Cloud KMS names can never be reused: give the stack new names with " +
        "`pulumi config set keyRingPrefix <new prefix>` and, if that key is an orphan of this stack, destroy its versions " +
        "(`gcloud kms keys versions destroy`)."
    );
}
