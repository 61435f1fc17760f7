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
import type { Claims } from "../lib/step-ca/claims";
import { certificateFingerprint } from "../lib/pki/fingerprint";
import { type JwkProvisioner, createJwkProvisioner, generateProvisionerPassword } from "../lib/step-ca/jwk-provisioner";
import { type ProvisionerSpec, renderProvisioner } from "../lib/step-ca/provisioners";
import type { X509Policy } from "../lib/step-ca/x509-policy";
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
    /**
     * The provisioners, without their secrets. Omitted: one JWK provisioner named `provisionerName` with
     * `provisionerPassword` (the behaviour before provisioners were configurable).
     */
    readonly provisioners?: pulumi.Input<ProvisionerSpec[]>;
    /**
     * Passwords of JWK provisioners in `provisioners`, by name (pass a secret). A JWK provisioner without one gets a
     * generated password, kept in state like `provisionerPassword`'s.
     */
    readonly provisionerPasswords?: pulumi.Input<Record<string, string>>;
    /**
     * OIDC client secrets by provisioner name (pass a secret). ca.json holds them in clear, so when this is given
     * the `caJson` output is secret too.
     */
    readonly clientSecrets?: pulumi.Input<Record<string, string>>;
    /** ca.json `authority.claims`. */
    readonly claims?: pulumi.Input<Claims>;
    /** ca.json `authority.policy.x509`. */
    readonly policy?: pulumi.Input<X509Policy>;
    /** Name of the JWK provisioner when `provisioners` is omitted; default "admin". */
    readonly provisionerName?: pulumi.Input<string>;
    /**
     * Password encrypting the provisioner key when `provisioners` is omitted (pass a secret). Omitted when the
     * resource is created: one is generated and kept in state. Set to a different value later: the provisioner is
     * regenerated under it. Omitted later (`pulumi config rm provisionerPassword` on an existing stack): the current
     * password, given or generated, is kept; removing it never rotates the provisioner or its password. To get a new
     * generated password instead, replace the resource (`pulumi up --replace <urn of this StepCaConfig>`). The same
     * rules hold for each entry of `provisionerPasswords`.
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
    readonly provisioners?: ProvisionerSpec[];
    readonly provisionerPasswords?: Record<string, string>;
    readonly clientSecrets?: Record<string, string>;
    readonly claims?: Claims;
    readonly policy?: X509Policy;
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
    /** Secret. The first JWK provisioner's password ("" without one): the given one, or the one generated. */
    readonly provisionerPassword: string;
    /** The first JWK provisioner's key ID ("" without one). */
    readonly provisionerKid: string;
    /** Root fingerprint, lowercase hex SHA-256. */
    readonly fingerprint: string;
    /** The first JWK provisioner as written into ca.json; undefined without one. */
    readonly provisioner?: JwkProvisioner;
    /** Every JWK provisioner by name (keys encrypted), kept so re-renders reuse them. */
    readonly jwkProvisioners: Record<string, JwkProvisioner>;
    /** Secret. The password in use for each JWK provisioner, given or generated. */
    readonly jwkPasswords: Record<string, string>;
}

const DEFAULT_ADDRESS = ":9000";
const DEFAULT_PROVISIONER_NAME = "admin";
/** Inputs that only change the rendered files; JWK keys survive them. */
const RENDER_KEYS = [
    "intermediateKeyVersion",
    "rootCertPem",
    "dnsNames",
    "address",
    "caUrl",
    "paths",
    "logFormat",
    "provisioners",
    "clientSecrets",
    "claims",
    "policy",
    "database",
];

/** The known inputs (no `__provider`), defaults applied. */
function resolveInputs(props: StepCaConfigInputs): ResolvedStepCaConfigInputs {
    const address = props.address ?? DEFAULT_ADDRESS;
    const resolved = {
        intermediateKeyVersion: props.intermediateKeyVersion,
        rootCertPem: props.rootCertPem,
        dnsNames: props.dnsNames,
        address,
        caUrl: props.caUrl ?? defaultCaUrl(props.dnsNames[0], address),
        provisioners: props.provisioners,
        provisionerPasswords: props.provisionerPasswords,
        clientSecrets: props.clientSecrets,
        claims: props.claims,
        policy: props.policy,
        provisionerName: props.provisionerName ?? DEFAULT_PROVISIONER_NAME,
        provisionerPassword: props.provisionerPassword,
        paths: props.paths,
        logFormat: props.logFormat,
        database: props.database,
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
        claims: inputs.claims,
        policy: inputs.policy,
        database: inputs.database,
    };
}

/** The provisioners to render: the given ones, or the single JWK provisioner of `provisionerName`. */
function specsOf(inputs: ResolvedStepCaConfigInputs): ProvisionerSpec[] {
    return inputs.provisioners ?? [{ type: "JWK", name: inputs.provisionerName }];
}

/** JWK passwords given in the inputs, by provisioner name. */
function givenPasswords(inputs: ResolvedStepCaConfigInputs): Record<string, string> {
    if (inputs.provisioners) {
        return inputs.provisionerPasswords ?? {};
    }
    return inputs.provisionerPassword === undefined ? {} : { [inputs.provisionerName]: inputs.provisionerPassword };
}

/** The JWK provisioners and passwords in state; state written before `jwkProvisioners` has the one `provisioner`. */
function jwksInState(olds: StepCaConfigState): { keys: Record<string, JwkProvisioner>; passwords: Record<string, string> } {
    if (olds.jwkProvisioners) {
        return { keys: olds.jwkProvisioners, passwords: olds.jwkPasswords ?? {} };
    }
    return olds.provisioner
        ? { keys: { [olds.provisioner.name]: olds.provisioner }, passwords: { [olds.provisioner.name]: olds.provisionerPassword } }
        : { keys: {}, passwords: {} };
}

/**
 * JWK provisioners that need a new key: new names, and names given a password different from the one in use. No
 * password given (again) is not a change: the one in state stays, whether it was given before or generated.
 */
function jwksToGenerate(olds: StepCaConfigState | undefined, news: ResolvedStepCaConfigInputs): string[] {
    const current = olds ? jwksInState(olds) : { keys: {}, passwords: {} };
    const given = givenPasswords(news);
    return specsOf(news)
        .filter((spec) => spec.type === "JWK")
        .map((spec) => spec.name)
        .filter((name) => !current.keys[name] || (given[name] !== undefined && given[name] !== current.passwords[name]));
}

/** Every JWK provisioner of `inputs`: regenerated where {@link jwksToGenerate} says so, else kept from state. */
async function jwksFor(
    olds: StepCaConfigState | undefined,
    inputs: ResolvedStepCaConfigInputs,
): Promise<{ keys: Record<string, JwkProvisioner>; passwords: Record<string, string> }> {
    const current = olds ? jwksInState(olds) : { keys: {}, passwords: {} };
    const given = givenPasswords(inputs);
    const regenerate = new Set(jwksToGenerate(olds, inputs));
    const keys: Record<string, JwkProvisioner> = {};
    const passwords: Record<string, string> = {};
    for (const spec of specsOf(inputs)) {
        if (spec.type !== "JWK") {
            continue;
        }
        if (regenerate.has(spec.name)) {
            passwords[spec.name] = given[spec.name] ?? current.passwords[spec.name] ?? generateProvisionerPassword();
            keys[spec.name] = await createJwkProvisioner(spec.name, passwords[spec.name]);
        } else {
            passwords[spec.name] = current.passwords[spec.name];
            keys[spec.name] = current.keys[spec.name];
        }
    }
    return { keys, passwords };
}

function render(
    inputs: ResolvedStepCaConfigInputs,
    jwks: { keys: Record<string, JwkProvisioner>; passwords: Record<string, string> },
): StepCaConfigState {
    const fingerprint = certificateFingerprint(inputs.rootCertPem);
    const specs = specsOf(inputs);
    const provisioners = specs.map((spec) =>
        renderProvisioner(spec, { jwk: jwks.keys[spec.name], clientSecret: inputs.clientSecrets?.[spec.name] }),
    );
    const firstJwk = specs.find((spec) => spec.type === "JWK")?.name;
    return {
        ...inputs,
        caJson: renderCaJson(settingsOf(inputs), provisioners),
        defaultsJson: renderDefaultsJson({ caUrl: inputs.caUrl, fingerprint, paths: inputs.paths }),
        provisionerPassword: firstJwk === undefined ? "" : jwks.passwords[firstJwk],
        provisionerKid: firstJwk === undefined ? "" : jwks.keys[firstJwk].key.kid,
        fingerprint,
        ...(firstJwk === undefined ? {} : { provisioner: jwks.keys[firstJwk] }),
        jwkProvisioners: jwks.keys,
        jwkPasswords: jwks.passwords,
    };
}

/** Duplicate or unnamed provisioners, which step-ca refuses at start. */
function provisionerProblems(provisioners: ProvisionerSpec[] | undefined): { property: string; reason: string }[] {
    const seen = new Set<string>();
    const problems: { property: string; reason: string }[] = [];
    (provisioners ?? []).forEach((spec, i) => {
        if (typeof spec?.name !== "string" || spec.name === "") {
            problems.push({ property: `provisioners[${i}].name`, reason: "every provisioner needs a name" });
        } else if (seen.has(spec.name)) {
            problems.push({ property: `provisioners[${i}].name`, reason: `"${spec.name}" is used by another provisioner` });
        }
        seen.add(spec?.name);
    });
    return problems;
}

/**
 * Renders ca.json and defaults.json. Each JWK provisioner is generated once and kept in state (its JWE has a random
 * salt and IV, so re-encrypting would change ca.json on every run); it is regenerated only when its name is new or
 * a password different from the current one is given. Removing a given password keeps the current one (see
 * {@link StepCaConfigArgs.provisionerPassword}). Makes no KMS calls.
 */
export const stepCaConfigProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: unknown, news: StepCaConfigInputs) {
        const keys = ["intermediateKeyVersion", "address", "dnsNames", "paths", "database"];
        const unknown = unknownKeys(news, keys);
        const failures = unknown.size > 0 ? [] : stepCaSettingsProblems(settingsOf(news));
        if (!containsUnknown(news.provisioners)) {
            failures.push(...provisionerProblems(news.provisioners));
        }
        return { inputs: news, failures };
    },

    async diff(_id: string, olds: StepCaConfigState, news: StepCaConfigInputs) {
        if (containsUnknown(news)) {
            return { changes: true, replaces: [], deleteBeforeReplace: false };
        }
        const resolved = resolveInputs(news);
        const changes = changedKeys(olds, resolved, RENDER_KEYS).length > 0 || jwksToGenerate(olds, resolved).length > 0;
        return { changes, replaces: [], deleteBeforeReplace: false };
    },

    async create(news: StepCaConfigInputs) {
        const inputs = resolveInputs(news);
        return { id: randomUUID(), outs: render(inputs, await jwksFor(undefined, inputs)) };
    },

    async update(_id: string, olds: StepCaConfigState, news: StepCaConfigInputs) {
        const inputs = resolveInputs(news);
        return { outs: render(inputs, await jwksFor(olds, inputs)) };
    },

    async delete() {},
};

/**
 * step-ca's ca.json and defaults.json for a CA whose keys live in Cloud KMS, with its provisioners. Outputs:
 * `caJson` (secret when it carries OIDC client secrets), `defaultsJson`, `provisionerPassword` and `jwkPasswords`
 * (secret), `provisionerKid`, `fingerprint`, `caUrl`.
 */
export class StepCaConfig extends DynamicResource {
    declare readonly caJson: pulumi.Output<string>;
    declare readonly defaultsJson: pulumi.Output<string>;
    declare readonly provisionerPassword: pulumi.Output<string>;
    declare readonly jwkPasswords: pulumi.Output<Record<string, string>>;
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
            jwkProvisioners: undefined,
            jwkPasswords: undefined,
        };
        const secretOutputs = ["provisionerPassword", "jwkPasswords", "provisionerPasswords", "clientSecrets"];
        super(
            stepCaConfigProvider,
            name,
            { ...args, ...outputs },
            pulumi.mergeOptions(opts, {
                additionalSecretOutputs: args.clientSecrets === undefined ? secretOutputs : [...secretOutputs, "caJson"],
            }),
            "stepca",
            "StepCaConfig",
        );
    }
}
