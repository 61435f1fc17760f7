/**
 * Cloud KMS resource names. step-ca, IAM and gcloud each want a different part of a key-version name; parsing it
 * once keeps error messages able to print the exact command that fixes a problem.
 */

export interface KeyVersionName {
    readonly project: string;
    readonly location: string;
    readonly keyRing: string;
    readonly cryptoKey: string;
    readonly version: string;
}

const KEY_VERSION_PATTERN =
    /^projects\/([^/]+)\/locations\/([^/]+)\/keyRings\/([^/]+)\/cryptoKeys\/([^/]+)\/cryptoKeyVersions\/([^/]+)$/;

/** Parses `projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N`, or fails saying what is expected. */
export function parseKeyVersionName(name: string): KeyVersionName {
    const match = KEY_VERSION_PATTERN.exec(name);
    if (!match) {
        throw new Error(
            `"${name}" is not a Cloud KMS key-version name ` +
                `(projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N)`,
        );
    }
    const [, project, location, keyRing, cryptoKey, version] = match;
    return { project, location, keyRing, cryptoKey, version };
}

/** The crypto key a version belongs to: IAM bindings and the emulator's permission faults live at this level. */
export function cryptoKeyNameOf(keyVersion: string): string {
    const { project, location, keyRing, cryptoKey } = parseKeyVersionName(keyVersion);
    return `projects/${project}/locations/${location}/keyRings/${keyRing}/cryptoKeys/${cryptoKey}`;
}
