import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { STEP_USER, healthCheck, stepCaCommand, stepCaEnvs } from "../../lib/step-ca/container";
import { CONTAINER_LAYOUT } from "../../lib/step-ca/layout";

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
}

/**
 * step-ca in Docker. Files travel through the Docker API as uploads: Pulumi writes no file of them on the machine
 * running it. Docker keeps them in the container's filesystem (the secrets under /run/secrets/step-ca in its
 * writable layer, the rest on the data volume), i.e. in the Docker engine's data directory on the Docker host —
 * the machine running Pulumi when the engine is local — until the container (or volume) is removed. Uploads are
 * immutable in the Docker provider, so a new intermediate or config replaces the container, deleting the old one
 * first because both would claim the same name and host port. The database lives on a named volume that outlives
 * replacements.
 */
export class StepCaContainer extends pulumi.ComponentResource {
    readonly image: docker.RemoteImage;
    readonly volume: docker.Volume;
    readonly container: docker.Container;

    constructor(name: string, args: StepCaContainerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:docker:StepCaContainer", name, {}, opts);
        const dockerName = `${pulumi.getProject()}-${pulumi.getStack()}`;

        this.image = new docker.RemoteImage(name, { name: args.image, keepLocally: true }, { parent: this });
        this.volume = new docker.Volume(name, { name: `${dockerName}-data` }, { parent: this });

        const paths = CONTAINER_LAYOUT;
        const upload = (file: string, content: pulumi.Input<string>, permissions: string) => ({
            file,
            content,
            owner: STEP_USER,
            group: STEP_USER,
            permissions,
        });
        const health = pulumi.all([args.dnsNames, args.port]).apply(([dnsNames, port]) => healthCheck(dnsNames, port));

        this.container = new docker.Container(
            name,
            {
                name: dockerName,
                image: this.image.imageId,
                command: stepCaCommand(),
                envs: stepCaEnvs(),
                volumes: [{ volumeName: this.volume.name, containerPath: paths.stepPath }],
                uploads: [
                    upload(paths.caJson, args.caJson, "0444"),
                    upload(paths.defaultsJson, args.defaultsJson, "0444"),
                    upload(paths.rootCert, args.rootCertPem, "0444"),
                    upload(paths.intermediateCert, args.intermediateCertPem, "0444"),
                    upload(paths.password, pulumi.secret(args.password), "0400"),
                    ...(args.kmsCredentialsJsonBase64 === undefined
                        ? []
                        : [
                              {
                                  file: paths.kmsCredentials,
                                  contentBase64: pulumi.secret(args.kmsCredentialsJsonBase64),
                                  owner: STEP_USER,
                                  group: STEP_USER,
                                  permissions: "0400",
                              },
                          ]),
                ],
                ports: [{ internal: args.port, external: args.port }],
                hosts: health.hosts,
                healthcheck: {
                    tests: health.tests,
                    interval: "10s",
                    timeout: "5s",
                    startPeriod: "10s",
                    retries: 5,
                },
                restart: "unless-stopped",
                // `pulumi up` fails unless step-ca becomes healthy, e.g. with a key it may not use.
                wait: true,
                waitTimeout: 180,
            },
            // The component's dependsOn (the IAM grants, when no key output carries them) applies to step-ca itself.
            { parent: this, deleteBeforeReplace: true, dependsOn: opts?.dependsOn },
        );

        this.registerOutputs({ containerName: this.container.name });
    }
}
