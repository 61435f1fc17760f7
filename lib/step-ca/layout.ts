/**
 * Where step-ca finds its files. ca.json names these paths, so the config renderer and whatever delivers the
 * files (the container's uploads, the local bundle) must agree on them.
 */
export interface StepCaLayout {
    /** The STEPPATH: `step` and `step-ca` look for config/defaults.json below it. */
    readonly stepPath: string;
    readonly caJson: string;
    readonly defaultsJson: string;
    readonly rootCert: string;
    readonly intermediateCert: string;
    /** Badger database directory, created by step-ca. */
    readonly db: string;
    readonly password: string;
    /** Service-account JSON key for Cloud KMS (gcp mode only). */
    readonly kmsCredentials: string;
}

/** Written into a local bundle directory, so the program can tell a directory it made from one it must not touch. */
export const BUNDLE_MARKER = ".stepca-cloudkms-bundle";

/**
 * The layout `step ca init` uses below a STEPPATH, with secrets in `secretsDir` (by default `secrets/` inside it).
 */
export function stepCaLayout(stepPath: string, secretsDir = `${stepPath}/secrets`): StepCaLayout {
    return {
        stepPath,
        caJson: `${stepPath}/config/ca.json`,
        defaultsJson: `${stepPath}/config/defaults.json`,
        rootCert: `${stepPath}/certs/root_ca.crt`,
        intermediateCert: `${stepPath}/certs/intermediate_ca.crt`,
        db: `${stepPath}/db`,
        password: `${secretsDir}/password`,
        kmsCredentials: `${secretsDir}/kms-credentials.json`,
    };
}

/**
 * Paths inside the smallstep/step-ca container. STEPPATH and HOME are /home/step, the image's volume, which holds
 * the database; secrets go to /run/secrets outside the volume, so they leave with the container.
 */
export const CONTAINER_LAYOUT: StepCaLayout = stepCaLayout("/home/step", "/run/secrets/step-ca");
