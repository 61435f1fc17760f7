/**
 * The lifecycle both certificate providers share: checking a request, what replaces a certificate and what merely
 * updates it, minting through one KMS client, and how refresh-time drift of its KMS key version feeds into the next
 * diff. Each provider states only what sets its certificate apart ({@link CertificateKind}).
 */
import type * as Grpc from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import { certifiesPublicKey } from "../../lib/pki/certificate-facts";
import { type KeyVersionDrift, inspectKeyVersion } from "../../lib/pki/certificate-drift";
import type { CertificateSubject } from "../../lib/pki/certificate-templates";
import type { InputProblem } from "../../lib/config/input-problems";
import { withKmsClient } from "../../lib/kms/client";
import { KmsCallError } from "../../lib/kms/errors";
import { type KmsClient, getPublicKey } from "../../lib/kms/signer";
import type { MintedCertificate } from "../../lib/pki/mint-certificate";
import { changedKeys, unknownKeys } from "../provider-inputs";
import { DynamicResource } from "../dynamic-resource";
import { configureFromStack, kmsEndpointOf, offlineRootKeyOf } from "../stack-settings";
import { withKeyVersionOnline } from "../../lib/kms/offline-key";

/** The subject of a CA certificate, as resource arguments. */
export type CertificateSubjectArgs = { readonly [K in keyof CertificateSubject]: pulumi.Input<CertificateSubject[K]> };

/** Outputs every certificate resource has. */
export interface CertificateOutputs extends KeyVersionDrift {
    readonly certPem: string;
    /** Lowercase hex SHA-256 of the DER. */
    readonly fingerprint: string;
    /** ISO 8601. */
    readonly notBefore: string;
    /** ISO 8601. */
    readonly notAfter: string;
    /** Lowercase hex. */
    readonly serialNumber: string;
    /** Cloud KMS algorithm of the certified key. */
    readonly keyAlgorithm: string;
}

/** Inputs every certificate provider has: the certified key version and where KMS is. */
export interface CertificateInputs {
    /** Full `projects/…/cryptoKeyVersions/N` name of the certified key. */
    readonly keyVersion: string;
    /**
     * `host:port` of a KMS emulator, for providers called directly (tests) and older state; the program configures the
     * endpoint instead (dynamic-providers/stack-settings.ts). Omitted = Google Cloud KMS with Application Default Credentials.
     */
    readonly kmsEndpoint?: string;
    /** For providers called directly (tests); the program configures `offlineRootKey` instead (stack-settings.ts). */
    readonly offlineRootKey?: boolean;
}

/** What sets one kind of CA certificate apart; {@link certificateProvider} supplies the rest. */
export interface CertificateKind<I extends CertificateInputs> {
    /** The inputs the certificate is requested with (all but `kmsEndpoint`), in the order state records them. */
    readonly requestKeys: readonly (keyof I & string)[];
    /** Request inputs that change how the certificate is managed, not the certificate: updated in place. */
    readonly updatableKeys: readonly (keyof I & string)[];
    /** Problems with a request; `skip` names inputs not known yet (preview). */
    readonly requestProblems: (request: I, skip: ReadonlySet<string>) => InputProblem[];
    /** Mints the certificate (1 GetPublicKey + 1 AsymmetricSign). */
    readonly mint: (client: KmsClient, request: I) => Promise<MintedCertificate>;
    /** The root key version that signs the certificate: enabled just for the mint when the root key is offline. */
    readonly rootKeyVersion: (request: I) => string;
    /** Whether the certificate in state is due to be re-minted; omitted = never on a timer. */
    readonly renewalDue?: (olds: I & CertificateOutputs, news: I) => boolean;
    /**
     * The key is used only when minting, so it may be DISABLED in between (an offline root): a refresh that finds it
     * DISABLED records that, but it is no drift to act on. Any other state that is not ENABLED still is.
     */
    readonly offlineKey?: boolean;
}

/**
 * A key version that is ENABLED and whose public key the certificate certifies: true right after minting
 * (GetPublicKey and signing just succeeded), and after an update found a stale flag healed.
 */
const KEY_VERSION_IN_SYNC: KeyVersionDrift = { keyVersionState: "ENABLED", publicKeyMatchesKeyVersion: true };

const OUTPUT_KEYS = [
    "certPem",
    "fingerprint",
    "notBefore",
    "notAfter",
    "serialNumber",
    "keyAlgorithm",
    "keyVersionState",
    "publicKeyMatchesKeyVersion",
] as const satisfies readonly (keyof CertificateOutputs)[];

/** The certificate fields of a state object, without inputs or the serialized provider. */
function certificateOutputs(state: CertificateOutputs): CertificateOutputs {
    return pickKeys(state, OUTPUT_KEYS);
}

/**
 * Diff of a certificate. Replaced only when the certificate itself must change: an input it was minted from
 * changed, `renewalDue`, or refresh found that the key version's public key is no longer the one the certificate
 * certifies (the key material really changed). Updated in place when only `updateOn` inputs changed, or when the
 * last refresh saw the key version in a state other than ENABLED (DISABLED is fine for an `offlineKey`): that flag
 * may be stale (it changes only on refresh), and re-minting on the same key would change the certificate (a root's
 * fingerprint!) for nothing, so the update re-reads the key version instead ({@link recheckKeyVersion}). Makes no
 * KMS call.
 */
function certificateDiff(
    olds: CertificateOutputs,
    news: object,
    rules: { replaceOn: readonly string[]; updateOn: readonly string[]; renewalDue: boolean; offlineKey: boolean },
): pulumi.dynamic.DiffResult {
    const replaces = changedKeys(olds, news, rules.replaceOn);
    if (olds.publicKeyMatchesKeyVersion === false) {
        replaces.push("publicKeyMatchesKeyVersion");
    }
    if (rules.renewalDue) {
        replaces.push("notAfter");
    }
    const updates = changedKeys(olds, news, rules.updateOn);
    return {
        changes: replaces.length + updates.length > 0 || needsRecheck(olds, rules.offlineKey),
        replaces,
        deleteBeforeReplace: false,
    };
}

/** Whether the last refresh saw the key version in a state `update` must re-check before keeping the certificate. */
function needsRecheck(state: KeyVersionDrift, offlineKey: boolean): boolean {
    return state.keyVersionState !== "ENABLED" && !(offlineKey && state.keyVersionState === "DISABLED");
}

/**
 * Re-reads the key version of a certificate whose state says it was not ENABLED at the last refresh (1 GetPublicKey
 * when it is ENABLED now). ENABLED and still certified: the flags are healed, the certificate kept. Otherwise fails
 * with one error naming the key version, its state and the gcloud command that fixes it (or, when the key material
 * changed, how to get a new certificate); nothing is re-minted either way.
 */
async function recheckKeyVersion(client: KmsClient, keyVersion: string, certPem: string): Promise<KeyVersionDrift> {
    // Required here, not imported: dynamic providers require SDKs inside their methods.
    const { status } = require("@grpc/grpc-js") as typeof Grpc;
    let publicKeyPem: string;
    try {
        publicKeyPem = (await getPublicKey(client, keyVersion)).pem;
    } catch (error) {
        if (error instanceof KmsCallError && error.code === status.FAILED_PRECONDITION) {
            // "Cloud KMS key version … is DISABLED; only ENABLED versions can be used: enable it (gcloud …)".
            throw new KmsCallError(
                error.method,
                keyVersion,
                error.code,
                `${error.message.replace(/\.$/, "")}. The certificate was left as it is (nothing re-minted); ` +
                    "run `pulumi up` again once the key version is ENABLED.",
            );
        }
        throw error;
    }
    if (!certifiesPublicKey(certPem, publicKeyPem)) {
        throw new Error(
            `Cloud KMS key version ${keyVersion} is ENABLED, but its public key is not the one the certificate ` +
                "certifies: the key material changed under the same name. Run `pulumi refresh`; the next " +
                "`pulumi up` then replaces the certificate.",
        );
    }
    return KEY_VERSION_IN_SYNC;
}

/**
 * A certificate provider: `check` validates the request, `diff` follows {@link certificateDiff}, `create` mints
 * with one KMS client, `update` keeps the certificate and takes the new inputs (re-reading the key version only
 * when refresh last saw it in a state to act on; no KMS call otherwise), `read` (refresh) re-inspects the key version, and
 * `delete` only forgets the certificate (the key it certifies belongs to the crypto-key resource).
 *
 * Serialized into Pulumi state with everything it captures: no module-level clients, no `@pulumi/pulumi` value.
 */
export function certificateProvider<I extends CertificateInputs>(kind: CertificateKind<I>): pulumi.dynamic.ResourceProvider {
    type State = I & CertificateOutputs;
    const replaceOn = kind.requestKeys.filter((key) => !kind.updatableKeys.includes(key));
    // Not kmsEndpoint: where KMS is says nothing about the certificate (and it is no longer an input of the program's).
    const updateOn = kind.updatableKeys;
    const offlineKey = kind.offlineKey ?? false;
    /**
     * The known inputs (no `__provider`, no outputs); optional ones (`kmsEndpoint`, `nameConstraints`) only when set:
     * the engine cannot serialize an undefined output ("Unexpected struct type").
     */
    const inputsOf = (props: I): I => {
        const request = Object.fromEntries(
            Object.entries(pickKeys(props, kind.requestKeys)).filter(([, value]) => value !== undefined),
        ) as Pick<I, keyof I & string>;
        return (props.kmsEndpoint ? { ...request, kmsEndpoint: props.kmsEndpoint } : request) as I;
    };
    return {
        async configure(req: pulumi.dynamic.ConfigureRequest) {
            configureFromStack(this, req.config);
        },

        async check(_olds: unknown, news: I) {
            const failures = kind.requestProblems(news, unknownKeys(news, kind.requestKeys));
            return { inputs: news, failures };
        },

        async diff(_id: string, olds: State, news: I) {
            const renewalDue = kind.renewalDue ? kind.renewalDue(olds, news) : false;
            return certificateDiff(olds, news, { replaceOn, updateOn, renewalDue, offlineKey });
        },

        async create(news: I) {
            const inputs = inputsOf(news);
            const offline = offlineRootKeyOf(this, news);
            const root = kind.rootKeyVersion(inputs);
            const minted = await withKmsClient(kmsEndpointOf(this, inputs), (client) =>
                offline ? withKeyVersionOnline(client, root, () => kind.mint(client, inputs)) : kind.mint(client, inputs),
            );
            // An offline root's own version is DISABLED again by now: what a refresh will find, so no drift.
            const drift = offline && root === inputs.keyVersion ? { ...KEY_VERSION_IN_SYNC, keyVersionState: "DISABLED" } : KEY_VERSION_IN_SYNC;
            const outs = { ...inputs, ...certificateOutputs({ ...minted, ...drift }) };
            return { id: minted.fingerprint, outs };
        },

        async update(_id: string, olds: State, news: I) {
            const inputs = inputsOf(news);
            if (!needsRecheck(olds, offlineKey)) {
                return { outs: { ...certificateOutputs(olds), ...inputs } };
            }
            // `keyVersion` is a replace-on input: olds and news name the same key version.
            const drift = await withKmsClient(kmsEndpointOf(this, inputs), (client) =>
                recheckKeyVersion(client, olds.keyVersion, olds.certPem),
            );
            return { outs: { ...certificateOutputs(olds), ...inputs, ...drift } };
        },

        async read(id: string, props: State) {
            const drift = await withKmsClient(kmsEndpointOf(this, props), (client) =>
                inspectKeyVersion(client, props.keyVersion, props.certPem, props),
            );
            return { id, props: { ...certificateOutputs(props), ...inputsOf(props), ...drift } };
        },

        async delete() {},
    };
}

// Not named after an Object.prototype member: Pulumi's closure serializer would drop it.
function pickKeys<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Pick<T, K> {
    return Object.fromEntries(keys.map((key) => [key, source[key]])) as Pick<T, K>;
}

/**
 * A CA certificate whose key lives in Cloud KMS. Outputs: `certPem`, `fingerprint`, validity, serial,
 * `keyAlgorithm`, and what the last refresh saw of the key version.
 */
export abstract class CaCertificate extends DynamicResource {
    declare readonly keyVersion: pulumi.Output<string>;
    declare readonly certPem: pulumi.Output<string>;
    declare readonly fingerprint: pulumi.Output<string>;
    declare readonly notBefore: pulumi.Output<string>;
    declare readonly notAfter: pulumi.Output<string>;
    declare readonly serialNumber: pulumi.Output<string>;
    declare readonly keyAlgorithm: pulumi.Output<string>;
    declare readonly keyVersionState: pulumi.Output<string>;
    declare readonly publicKeyMatchesKeyVersion: pulumi.Output<boolean>;

    protected constructor(
        provider: pulumi.dynamic.ResourceProvider,
        type: string,
        name: string,
        args: object,
        opts?: pulumi.CustomResourceOptions,
    ) {
        // Every output needs a (still undefined) prop for the resource to expose it.
        const outputs = Object.fromEntries(OUTPUT_KEYS.map((key) => [key, undefined]));
        super(provider, name, { ...args, ...outputs }, opts, "stepca", type);
    }
}
