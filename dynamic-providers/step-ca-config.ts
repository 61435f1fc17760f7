import { randomUUID } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import {
    type PostgresDatabase,
    type StepCaPaths,
    type StepCaSettings,
    defaultCaUrl,
    renderCaJson,
    renderDefaultsJson,
    stepCaSettingsProblems,
} from "../lib/step-ca/ca-json";
import { certificateFingerprint } from "../lib/pki/fingerprint";
import { type JwkProvisioner, createJwkProvisioner, generateProvisionerPassword } from "../lib/step-ca/jwk-provisioner";
import { changedKeys, containsUnknown, unknownKeys } from "./provider-inputs";
import { DynamicResource } from "./dynamic-resource";

export interface StepCaConfigArgs {
    /** Full `projects/…/cryptoKeyVersions/N` name of the intermediate key; ca.json `key`. */
    readonly intermediateKeyVersion: pulumi.Input<string>;
    /** The root certificate, for the fingerprint in defaults.json. */
    readonly rootCertPem: pulumi.Input<string>;
    /** Names (and IPs) in the CA's TLS certificate; the first is the default CA URL host. */
    readonly dnsNames: pulumi.Input<pulumi.Input<string>[]>;
    /** Listen address with port; default ":9000". */
    readonly address?: pulumi.Input<string>;
    /** defaults.json `ca-url`; default `https://<dnsNames[0]>:<port>`. */
    readonly caUrl?: pulumi.Input<string>;
    /** Name of the JWK provisioner; default "admin". */
    readonly provisionerName?: pulumi.Input<string>;
    /**
     * Password encrypting the provisioner key (pass a secret). Omitted when the resource is created: one is generated
     * and kept in state. Set to a different value later: the provisioner is regenerated under it. Omitted later
     * (`pulumi config rm provisionerPassword` on an existing stack): the current password, given or generated, is
     * kept; removing it never rotates the provisioner or its password. To get a new generated password instead,
     * replace the resource (`pulumi up --replace <urn of this StepCaConfig>`).
     */
    readonly provisionerPassword?: pulumi.Input<string>;
    /** File locations; default the smallstep/step-ca container layout. `kmsCredentialsFile: null` = ADC. */
    readonly paths?: pulumi.Input<{ readonly [K in keyof StepCaPaths]?: pulumi.Input<StepCaPaths[K]> }>;
    /** step-ca log format; default "text". */
    readonly logFormat?: pulumi.Input<"text" | "json">;
    /** A shared PostgreSQL database (replicas); default badger at `paths.db`. */
    readonly database?: pulumi.Input<{ readonly [K in keyof PostgresDatabase]: pulumi.Input<PostgresDatabase[K]> }>;
}

/** The provider's inputs, as Pulumi hands them over once resolved. */
export interface StepCaConfigInputs {
    readonly intermediateKeyVersion: string;
    readonly rootCertPem: string;
    readonly dnsNames: string[];
    readonly address?: string;
    readonly caUrl?: string;
    readonly provisionerName?: string;
    readonly provisionerPassword?: string;
    readonly paths?: Partial<StepCaPaths>;
    readonly logFormat?: "text" | "json";
    readonly database?: PostgresDatabase;
}

/** Inputs with their defaults applied: what state records and what diffs compare. */
export interface ResolvedStepCaConfigInputs extends StepCaConfigInputs {
    readonly address: string;
    readonly caUrl: string;
    readonly provisionerName: string;
}

export interface StepCaConfigState extends ResolvedStepCaConfigInputs {
    readonly caJson: string;
    readonly defaultsJson: string;
    /** Secret. The password in use: the given one, or the one generated at create; kept when a given one is removed. */
    readonly provisionerPassword: string;
    readonly provisionerKid: string;
    /** Root fingerprint, lowercase hex SHA-256. */
    readonly fingerprint: string;
    /** The provisioner as written into ca.json (its key encrypted); kept so re-renders reuse it. */
    readonly provisioner: JwkProvisioner;
}

const DEFAULT_ADDRESS = ":9000";
const DEFAULT_PROVISIONER_NAME = "admin";
/** Inputs that only change the rendered files; the provisioner survives them. */
const RENDER_KEYS = [
    "intermediateKeyVersion",
    "rootCertPem",
    "dnsNames",
    "address",
    "caUrl",
    "paths",
    "logFormat",
    "database",
];

/** The known inputs (no `__provider`), defaults applied. */
function resolveInputs(props: StepCaConfigInputs): ResolvedStepCaConfigInputs {
    const { intermediateKeyVersion, rootCertPem, dnsNames, provisionerPassword, paths, logFormat, database } = props;
    const address = props.address ?? DEFAULT_ADDRESS;
    const resolved = {
        intermediateKeyVersion,
        rootCertPem,
        dnsNames,
        address,
        caUrl: props.caUrl ?? defaultCaUrl(dnsNames[0], address),
        provisionerName: props.provisionerName ?? DEFAULT_PROVISIONER_NAME,
        provisionerPassword,
        paths,
        logFormat,
        database,
    };
    return Object.fromEntries(
        Object.entries(resolved).filter(([, value]) => value !== undefined),
    ) as unknown as ResolvedStepCaConfigInputs;
}

function settingsOf(inputs: StepCaConfigInputs): StepCaSettings {
    return {
        intermediateKeyVersion: inputs.intermediateKeyVersion,
        address: inputs.address ?? DEFAULT_ADDRESS,
        dnsNames: inputs.dnsNames,
        paths: inputs.paths,
        logFormat: inputs.logFormat,
        database: inputs.database,
    };
}

/**
 * A new provisioner is needed when its name changes or a different password is given. No password given (again) is
 * not a change: the one in state stays, whether it was given before or generated.
 */
function provisionerChanged(olds: StepCaConfigState, news: ResolvedStepCaConfigInputs): boolean {
    const passwordChanged = news.provisionerPassword !== undefined && news.provisionerPassword !== olds.provisionerPassword;
    return news.provisionerName !== olds.provisioner.name || passwordChanged;
}

function render(inputs: ResolvedStepCaConfigInputs, provisioner: JwkProvisioner, password: string): StepCaConfigState {
    const fingerprint = certificateFingerprint(inputs.rootCertPem);
    return {
        ...inputs,
        caJson: renderCaJson(settingsOf(inputs), provisioner),
        defaultsJson: renderDefaultsJson({ caUrl: inputs.caUrl, fingerprint, paths: inputs.paths }),
        provisionerPassword: password,
        provisionerKid: provisioner.key.kid,
        fingerprint,
        provisioner,
    };
}

/**
 * Renders ca.json and defaults.json. The JWK provisioner is generated once and kept in state (its JWE has a random
 * salt and IV, so re-encrypting would change ca.json on every run); it is regenerated only when the provisioner name
 * changes or a password different from the current one is given. Removing a given password keeps the current one
 * (see {@link StepCaConfigArgs.provisionerPassword}). Makes no KMS calls.
 */
export const stepCaConfigProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: unknown, news: StepCaConfigInputs) {
        const keys = ["intermediateKeyVersion", "address", "dnsNames", "paths", "database"];
        const unknown = unknownKeys(news, keys);
        const failures = unknown.size > 0 ? [] : stepCaSettingsProblems(settingsOf(news));
        return { inputs: news, failures };
    },

    async diff(_id: string, olds: StepCaConfigState, news: StepCaConfigInputs) {
        if (containsUnknown(news)) {
            return { changes: true, replaces: [], deleteBeforeReplace: false };
        }
        const resolved = resolveInputs(news);
        const changes = changedKeys(olds, resolved, RENDER_KEYS).length > 0 || provisionerChanged(olds, resolved);
        return { changes, replaces: [], deleteBeforeReplace: false };
    },

    async create(news: StepCaConfigInputs) {
        const inputs = resolveInputs(news);
        const password = inputs.provisionerPassword ?? generateProvisionerPassword();
        const provisioner = await createJwkProvisioner(inputs.provisionerName, password);
        return { id: randomUUID(), outs: render(inputs, provisioner, password) };
    },

    async update(_id: string, olds: StepCaConfigState, news: StepCaConfigInputs) {
        const inputs = resolveInputs(news);
        const password = inputs.provisionerPassword ?? olds.provisionerPassword;
        const provisioner = provisionerChanged(olds, inputs)
            ? await createJwkProvisioner(inputs.provisionerName, password)
            : olds.provisioner;
        return { outs: render(inputs, provisioner, password) };
    },

    async delete() {},
};

/**
 * step-ca's ca.json and defaults.json for a CA whose keys live in Cloud KMS, with a JWK provisioner. Outputs:
 * `caJson`, `defaultsJson`, `provisionerPassword` (secret), `provisionerKid`, `fingerprint`, `caUrl`.
 */
export class StepCaConfig extends DynamicResource {
    declare readonly caJson: pulumi.Output<string>;
    declare readonly defaultsJson: pulumi.Output<string>;
    declare readonly provisionerPassword: pulumi.Output<string>;
    declare readonly provisionerKid: pulumi.Output<string>;
    declare readonly fingerprint: pulumi.Output<string>;
    declare readonly caUrl: pulumi.Output<string>;

    constructor(name: string, args: StepCaConfigArgs, opts?: pulumi.CustomResourceOptions) {
        // Every output needs a (possibly undefined) prop for the resource to expose it.
        const outputs = {
            caJson: undefined,
            defaultsJson: undefined,
            provisionerPassword: args.provisionerPassword,
            provisionerKid: undefined,
            fingerprint: undefined,
            caUrl: args.caUrl,
            provisioner: undefined,
        };
        super(
            stepCaConfigProvider,
            name,
            { ...args, ...outputs },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["provisionerPassword"] }),
            "stepca",
            "StepCaConfig",
        );
    }
}
