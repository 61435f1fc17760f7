import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { RunError } from "@pulumi/pulumi/errors";
import { stepCaPaths } from "../lib/step-ca/ca-json";
import { type CaConfig, listenAddress, subjectOf } from "../lib/config/config";
import { CONTAINER_LAYOUT, StepCaLayout, stepCaLayout } from "../lib/step-ca/layout";
import { IntermediateCertificate } from "../dynamic-providers/certificates/intermediate-certificate";
import { RootCertificate } from "../dynamic-providers/certificates/root-certificate";
import { OfflineKeyVersion } from "../dynamic-providers/offline-key-version";
import { StepCaConfig } from "../dynamic-providers/step-ca-config";
import type * as DockerEdge from "./docker";
import type * as GceEdge from "./gce";
import type * as GcpEdge from "./gcp";
import type * as LocalEdge from "./local";

/**
 * The runtime edges, one module each (a folder's index.ts), required when the stack's mode uses them instead of
 * imported: @pulumi/gcp and @pulumi/docker take about a second to load on every `pulumi preview`/`up`, and a local
 * stack needs neither. A new edge gets its folder, an index.ts and a loader here; import only its types above.
 */
const edges = {
    gcp: () => require("./gcp") as typeof GcpEdge,
    docker: () => require("./docker") as typeof DockerEdge,
    gce: () => require("./gce") as typeof GceEdge,
    local: () => require("./local") as typeof LocalEdge,
};

/** Inputs of {@link StepCa}. */
export interface StepCaArgs {
    /** The validated stack configuration. Plain values: they decide which resources exist. */
    config: CaConfig;
    /** Provisioner password (secret) of the single JWK provisioner; a password is generated when omitted. */
    provisionerPassword?: pulumi.Input<string>;
    /**
     * The secrets of `config.provisioners` by provisioner name (pass a secret): JWK passwords and OIDC client
     * secrets, as `provisionerSecretsOf` reads them from the setting.
     */
    provisionerSecrets?: pulumi.Input<{ passwords: Record<string, string>; clientSecrets: Record<string, string> }>;
}

/**
 * A step-ca certificate authority whose root and intermediate keys live in Cloud KMS.
 *
 * gcp mode: APIs, key rings and keys in Cloud KMS, a service account that may sign with the intermediate key only,
 * and step-ca in Docker (runtime docker) or on a managed instance group behind a passthrough load balancer with
 * Cloud SQL (runtime gce). local mode swaps the edges, not the middle: keys on the local KMS emulator, no IAM, and
 * the step-ca files written to a local directory. Certificates and step-ca's configuration come from the same
 * providers in both modes.
 */
export class StepCa extends pulumi.ComponentResource {
    /** The URL clients use, `https://<first DNS name>:<port>`. */
    readonly caUrl: pulumi.Output<string>;
    /** SHA-256 of the root certificate (lowercase hex), what `step ca bootstrap` pins. */
    readonly rootFingerprint: pulumi.Output<string>;
    readonly rootCertPem: pulumi.Output<string>;
    readonly intermediateCertPem: pulumi.Output<string>;
    readonly rootKeyVersion: pulumi.Output<string>;
    readonly intermediateKeyVersion: pulumi.Output<string>;
    /** The CA's service account (gcp mode). */
    readonly serviceAccountEmail?: pulumi.Output<string>;
    /** The load balancer's IP address (gce runtime). */
    readonly address?: pulumi.Output<string>;
    /** The STEPPATH the bundle was written to (local mode). */
    readonly localBundleDir?: string;
    /** `step ca bootstrap …` for clients. */
    readonly bootstrapCommand: pulumi.Output<string>;
    /** The (first) JWK provisioner's password (secret); empty without a JWK provisioner. */
    readonly provisionerPassword: pulumi.Output<string>;
    /** Every JWK provisioner's password by name (secret), given or generated. */
    readonly provisionerPasswords: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: StepCaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:index:StepCa", name, {}, opts);
        const { config } = args;
        const local = config.mode === "local";
        // The local stack's docker flavour: keys on the emulator, step-ca in the production container.
        const localDocker = local ? config.localDocker : undefined;
        const parent = { parent: this };

        const gce = config.mode === "gcp" ? config.gce : undefined;
        let keys: GcpEdge.CaKeys | LocalEdge.LocalCaKeys;
        let serviceAccount: GcpEdge.CaServiceAccount | undefined;
        let network: GceEdge.CaNetwork | undefined;
        let database: GceEdge.CaDatabase | undefined;
        if (local) {
            const { LocalCaKeys } = edges.local();
            keys = new LocalCaKeys(
                `${name}-keys`,
                { ...config.kms, project: config.project },
                parent,
            );
        } else {
            const gcpEdge = edges.gcp();
            const { CaKeys, CaServiceAccount, ProjectServices } = gcpEdge;
            const services = gce
                ? [...gcpEdge.REQUIRED_SERVICES, ...gcpEdge.GCE_SERVICES, ...(gce.dnsZone ? [gcpEdge.DNS_SERVICE] : [])]
                : gcpEdge.REQUIRED_SERVICES;
            const apis = new ProjectServices(`${name}-apis`, { project: config.project, services }, parent);
            keys = new CaKeys(`${name}-keys`, { ...config.kms, project: apis.project }, parent);
            serviceAccount = new CaServiceAccount(
                `${name}-account`,
                {
                    project: apis.project,
                    signingKeyId: keys.intermediateKey.id,
                    createKey: !gce && config.kmsCredentials === "serviceAccountKey",
                },
                parent,
            );
            if (gce) {
                const { CaDatabase, CaNetwork } = edges.gce();
                network = new CaNetwork(`${name}-network`, { ...gce, project: apis.project, port: config.port }, parent);
                database = new CaDatabase(
                    `${name}-database`,
                    {
                        project: apis.project,
                        region: gce.region,
                        tier: gce.databaseTier,
                        network: network.network.id,
                        privateServicesConnection: network.privateServicesConnection,
                        client: pulumi.interpolate`serviceAccount:${serviceAccount.email}`,
                    },
                    parent,
                );
            }
        }

        const root = new RootCertificate(
            `${name}-root`,
            {
                keyVersion: keys.rootKeyVersion,
                subject: subjectOf(config.root),
                validityDays: config.root.validityDays,
            },
            parent,
        );
        const intermediate = new IntermediateCertificate(
            `${name}-intermediate`,
            {
                keyVersion: keys.intermediateKeyVersion,
                issuerKeyVersion: keys.rootKeyVersion,
                issuerCertPem: root.certPem,
                subject: subjectOf(config.intermediate),
                validityDays: config.intermediate.validityDays,
                renewBeforeDays: config.intermediate.renewBeforeDays,
                nameConstraints: config.nameConstraints,
            },
            parent,
        );

        if (config.kms.offlineRootKey) {
            // After the certificates: they enable the root's version for as long as they sign (offlineRootKey in the
            // providers' configuration), this keeps it DISABLED in between.
            new OfflineKeyVersion(
                `${name}-root-offline`,
                { keyVersion: keys.rootKeyVersion },
                { parent: this, dependsOn: [root, intermediate] },
            );
        }

        const secrets = pulumi.output(args.provisionerSecrets ?? { passwords: {}, clientSecrets: {} });
        const layout: StepCaLayout =
            local && !localDocker ? stepCaLayout(path.resolve(config.localBundleDir)) : CONTAINER_LAYOUT;
        const stepCaConfig = new StepCaConfig(
            `${name}-config`,
            {
                intermediateKeyVersion: keys.intermediateKeyVersion,
                rootCertPem: root.certPem,
                // On gce the CA's certificate also names the load balancer's address, so clients may use the IP.
                dnsNames: network
                    ? network.ipAddress.apply((ip) => [...new Set([...config.dnsNames, ip])])
                    : [...config.dnsNames],
                address: listenAddress(config.mode, config.port),
                database: database?.stepCaDatabase,
                provisionerName: config.provisionerName,
                provisionerPassword: args.provisionerPassword,
                provisioners: config.provisioners && [...config.provisioners],
                provisionerPasswords:
                    config.provisionerSecretsGiven.passwords.length > 0 ? secrets.apply((s) => s.passwords) : undefined,
                // Given only when there are some: a client secret makes the caJson output secret.
                clientSecrets:
                    config.provisionerSecretsGiven.clientSecrets.length > 0
                        ? secrets.apply((s) => s.clientSecrets)
                        : undefined,
                claims: config.claims,
                policy: config.policy,
                // The emulator takes no credentials; in GCP a service-account key, or Application Default Credentials.
                paths: stepCaPaths(layout, !local && !gce && config.kmsCredentials === "serviceAccountKey"),
            },
            parent,
        );
        this.provisionerPassword = pulumi.secret(stepCaConfig.provisionerPassword);
        this.provisionerPasswords = pulumi.secret(stepCaConfig.jwkPasswords);

        const files = {
            // Secret with a client secret inside; marked here too, so consumers see it secret whatever the engine does
            // with the provider's additionalSecretOutputs.
            caJson: config.provisionerSecretsGiven.clientSecrets.length > 0 ? pulumi.secret(stepCaConfig.caJson) : stepCaConfig.caJson,
            defaultsJson: stepCaConfig.defaultsJson,
            rootCertPem: root.certPem,
            intermediateCertPem: intermediate.certPem,
            password: this.provisionerPassword,
        };
        if (serviceAccount && gce && network && database) {
            const { StepCaReplicas } = edges.gce();
            new StepCaReplicas(
                `${name}-replicas`,
                {
                    ...files,
                    project: config.project,
                    settings: gce,
                    image: config.image,
                    port: config.port,
                    dnsNames: config.dnsNames,
                    network,
                    database,
                    serviceAccountEmail: serviceAccount.email,
                    grants: [...serviceAccount.grants, database.clientGrant],
                    secretIdPrefix: serviceAccount.account.accountId,
                },
                parent,
            );
            this.serviceAccountEmail = serviceAccount.email;
            this.address = network.ipAddress;
        } else if (serviceAccount || localDocker) {
            const { StepCaContainer } = edges.docker();
            // gcp: Cloud KMS with the service account's key, if any. local: host networking, the emulator via its proxy.
            const kmsAccess = serviceAccount
                ? { kmsCredentialsJsonBase64: serviceAccount.credentialsJsonBase64 }
                : {
                      network: "host" as const,
                      kmsEmulator: {
                          proxyUrl: `http://127.0.0.1:${localDocker!.kmsProxyPort}`,
                          ...emulatorCredentials(localDocker!.kmsCredentialsDir),
                      },
                  };
            new StepCaContainer(
                `${name}-container`,
                { ...files, image: config.image, port: config.port, dnsNames: [...config.dnsNames], ...kmsAccess },
                // Without a key (whose output waits for the grants) the container waits for the grants directly.
                { parent: this, dependsOn: serviceAccount?.grants },
            );
            this.serviceAccountEmail = serviceAccount?.email;
        } else {
            const { StepCaBundle } = edges.local();
            new StepCaBundle(`${name}-bundle`, { ...files, paths: layout }, parent);
            this.localBundleDir = layout.stepPath;
        }

        this.caUrl = stepCaConfig.caUrl;
        this.rootFingerprint = root.fingerprint;
        this.rootCertPem = root.certPem;
        this.intermediateCertPem = intermediate.certPem;
        this.rootKeyVersion = keys.rootKeyVersion;
        this.intermediateKeyVersion = keys.intermediateKeyVersion;
        this.bootstrapCommand = pulumi.interpolate`step ca bootstrap --ca-url ${this.caUrl} --fingerprint ${this.rootFingerprint}`;

        this.registerOutputs({
            caUrl: this.caUrl,
            rootFingerprint: this.rootFingerprint,
            rootKeyVersion: this.rootKeyVersion,
            intermediateKeyVersion: this.intermediateKeyVersion,
        });
    }
}

/**
 * The KMS emulator's throwaway TLS CA and service account, as kms-emulator/credentials-cli.ts writes them (and
 * `npm run local` does before `up`). Read at every run: they are inputs of the container.
 */
function emulatorCredentials(dir: string): { tlsCaCertPem: string; serviceAccountJson: pulumi.Output<string> } {
    const read = (file: string) => {
        const where = path.resolve(dir, file);
        try {
            return fs.readFileSync(where, "utf8");
        } catch (e) {
            throw new RunError(
                `localRuntime docker: cannot read ${where} (${(e as Error).message}). It holds the KMS emulator's ` +
                    "throwaway credentials for step-ca: `npm run local` writes them, or run " +
                    `\`node --import tsx kms-emulator/credentials-cli.ts ${dir}\` and start the emulator with them.`,
            );
        }
    };
    return { tlsCaCertPem: read("tls-ca.crt"), serviceAccountJson: pulumi.secret(read("service-account.json")) };
}
