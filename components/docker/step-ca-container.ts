import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { ContainerHealth } from "../../dynamic-providers/docker/container-health";
import { CONTAINER_USER, UPLOAD_MODES, healthCheck, stepCaCommand, stepCaEnvs } from "../../lib/step-ca/container";
import { CONTAINER_LAYOUT } from "../../lib/step-ca/layout";

/**
 * How step-ca in the container reaches the local KMS emulator (the local stack's docker flavour), as
 * `npm run local` starts it outside Docker: Cloud KMS's TLS name through the emulator's CONNECT proxy, that
 * emulator's throwaway CA trusted, and its throwaway service account as Application Default Credentials.
 */
export interface KmsEmulatorRoute {
    /** `http://127.0.0.1:<port>`: step-ca's HTTPS_PROXY (host networking, so the Docker host's loopback). */
    proxyUrl: string;
    /** The CA of the emulator's `cloudkms.googleapis.com` certificate. */
    tlsCaCertPem: pulumi.Input<string>;
    /** The emulator's throwaway service-account JSON (passed as a secret all the same). */
    serviceAccountJson: pulumi.Input<string>;
}

/** Inputs of {@link StepCaContainer}. */
export interface StepCaContainerArgs {
    /** Pinned smallstep/step-ca image reference. */
    image: pulumi.Input<string>;
    /** Port step-ca listens on inside the container and is published on. */
    port: pulumi.Input<number>;
    /** The CA's DNS names; the health check reaches step-ca through one of them. */
    dnsNames: pulumi.Input<pulumi.Input<string>[]>;
    caJson: pulumi.Input<string>;
    defaultsJson: pulumi.Input<string>;
    rootCertPem: pulumi.Input<string>;
    intermediateCertPem: pulumi.Input<string>;
    /**
     * Service-account JSON key, base64 (secret). Omitted with `kmsCredentials: applicationDefault`: the container
     * then gets no credentials file and step-ca uses Application Default Credentials of the Docker host.
     */
    kmsCredentialsJsonBase64?: pulumi.Input<string>;
    /** step-ca's password file content (secret). */
    password: pulumi.Input<string>;
    /**
     * "host": the container shares the Docker host's network and step-ca listens on the host's `port` itself (no
     * port publishing); what an engine without a bridge needs, and the local flavour. Default "bridge".
     */
    network?: "bridge" | "host";
    /** The local stack's docker flavour: the way to the KMS emulator. */
    kmsEmulator?: KmsEmulatorRoute;
    /** How long `up` waits for step-ca to be healthy, in seconds (default 180). */
    healthTimeoutSeconds?: number;
}

/** Where the emulator route's files go in the container (outside the data volume, like the other secrets). */
const EMULATOR_FILES = {
    tlsCaCert: "/run/secrets/step-ca/kms-emulator-ca.crt",
    serviceAccount: "/run/secrets/step-ca/kms-emulator-account.json",
} as const;

/**
 * step-ca in Docker. Files travel through the Docker API as uploads: Pulumi writes no file of them on the machine
 * running it. Docker keeps them in the container's filesystem (the secrets under /run/secrets/step-ca in its
 * writable layer, the rest on the data volume), i.e. in the Docker engine's data directory on the Docker host —
 * the machine running Pulumi when the engine is local — until the container (or volume) is removed. Uploads are
 * root-owned (see UPLOAD_MODES: an owner breaks Engine 20.10), the secrets readable by group root, step-ca's
 * group in the container (CONTAINER_USER). Uploads are immutable in the Docker provider, so a new intermediate or
 * config replaces the container, deleting the old one first because both would claim the same name and port. The
 * database lives on a named volume that outlives replacements. `up` waits for step-ca to be healthy through
 * {@link ContainerHealth}, which fails as soon as step-ca exits and quotes its log.
 */
export class StepCaContainer extends pulumi.ComponentResource {
    readonly image: docker.RemoteImage;
    readonly volume: docker.Volume;
    readonly container: docker.Container;
    readonly health: ContainerHealth;

    constructor(name: string, args: StepCaContainerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:docker:StepCaContainer", name, {}, opts);
        const dockerName = `${pulumi.getProject()}-${pulumi.getStack()}`;

        this.image = new docker.RemoteImage(name, { name: args.image, keepLocally: true }, { parent: this });
        this.volume = new docker.Volume(name, { name: `${dockerName}-data` }, { parent: this });

        const paths = CONTAINER_LAYOUT;
        const file = (path: string, content: pulumi.Input<string>) => ({ file: path, content, permissions: UPLOAD_MODES.file });
        const secret = (path: string, content: pulumi.Input<string>) => ({
            file: path,
            content: pulumi.secret(content),
            permissions: UPLOAD_MODES.secret,
        });
        const health = pulumi.all([args.dnsNames, args.port]).apply(([dnsNames, port]) => healthCheck(dnsNames, port));
        const emulator = args.kmsEmulator;
        const hostNetwork = args.network === "host";

        this.container = new docker.Container(
            name,
            {
                name: dockerName,
                image: this.image.imageId,
                command: stepCaCommand(),
                envs: [
                    ...stepCaEnvs(),
                    ...(emulator
                        ? [
                              `HTTPS_PROXY=${emulator.proxyUrl}`,
                              `SSL_CERT_FILE=${EMULATOR_FILES.tlsCaCert}`,
                              `GOOGLE_APPLICATION_CREDENTIALS=${EMULATOR_FILES.serviceAccount}`,
                          ]
                        : []),
                ],
                user: CONTAINER_USER,
                volumes: [{ volumeName: this.volume.name, containerPath: paths.stepPath }],
                uploads: [
                    file(paths.caJson, args.caJson),
                    file(paths.defaultsJson, args.defaultsJson),
                    file(paths.rootCert, args.rootCertPem),
                    file(paths.intermediateCert, args.intermediateCertPem),
                    secret(paths.password, args.password),
                    ...(args.kmsCredentialsJsonBase64 === undefined
                        ? []
                        : [
                              {
                                  file: paths.kmsCredentials,
                                  contentBase64: pulumi.secret(args.kmsCredentialsJsonBase64),
                                  permissions: UPLOAD_MODES.secret,
                              },
                          ]),
                    ...(emulator
                        ? [
                              file(EMULATOR_FILES.tlsCaCert, emulator.tlsCaCertPem),
                              secret(EMULATOR_FILES.serviceAccount, emulator.serviceAccountJson),
                          ]
                        : []),
                ],
                ...(hostNetwork ? { networkMode: "host" } : { ports: [{ internal: args.port, external: args.port }] }),
                hosts: health.hosts,
                healthcheck: {
                    tests: health.tests,
                    interval: "5s",
                    timeout: "5s",
                    startPeriod: "10s",
                    retries: 5,
                },
                restart: "unless-stopped",
            },
            // The component's dependsOn (the IAM grants, when no key output carries them) applies to step-ca itself.
            { parent: this, deleteBeforeReplace: true, dependsOn: opts?.dependsOn },
        );

        // Instead of the provider's `wait`, which stops only on healthy: a step-ca that exits would cost the whole
        // timeout and end in a bare "failed to be in healthy state".
        this.health = new ContainerHealth(
            name,
            { containerId: this.container.id, service: "step-ca", timeoutSeconds: args.healthTimeoutSeconds ?? 180 },
            { parent: this },
        );

        this.registerOutputs({ containerName: this.container.name, secondsToHealthy: this.health.secondsToHealthy });
    }
}
