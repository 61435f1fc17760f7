import * as pulumi from "@pulumi/pulumi";
import type { KeyManagementServiceClient, protos } from "@google-cloud/kms";
import type * as Grpc from "@grpc/grpc-js";
import { parseKmsDuration } from "../../lib/config/values";
import { type FoundCryptoKey, cryptoKeyDifferences, firstVersionProblem, notAdoptableMessage } from "../../lib/kms/adoption";
import { withKmsClient } from "../../lib/kms/client";
import { readEmulatorResource } from "./emulator-resource";
import { configureFromStack, kmsEndpointOf } from "../stack-settings";
import { DynamicResource } from "../dynamic-resource";

type KmsCryptoKey = protos.google.cloud.kms.v1.ICryptoKey;

/** Inputs of {@link EmulatorCryptoKey}. */
export interface EmulatorCryptoKeyArgs {
    /** Full key ring name, `projects/P/locations/L/keyRings/R`. */
    keyRing: pulumi.Input<string>;
    /** The crypto key ID (last part of its name). */
    cryptoKeyId: pulumi.Input<string>;
    /** Cloud KMS algorithm name, e.g. `EC_SIGN_P256_SHA256`. */
    algorithm: pulumi.Input<string>;
    protectionLevel: pulumi.Input<string>;
    /** Seconds as Cloud KMS writes durations, e.g. `"86400s"`. */
    destroyScheduledDuration: pulumi.Input<string>;
    labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

interface CryptoKeyInputs {
    /** Providers called directly (tests) and older state; the program configures the endpoint instead. */
    kmsEndpoint?: string;
    keyRing: string;
    cryptoKeyId: string;
    algorithm: string;
    protectionLevel: string;
    destroyScheduledDuration: string;
    labels?: Record<string, string>;
}

interface CryptoKeyOutputs extends CryptoKeyInputs {
    /** `…/cryptoKeys/K`. */
    name: string;
    /** The version created with the key, `…/cryptoKeyVersions/1`: the one the CA signs with. */
    keyVersion: string;
}

/** Everything fixed when a key is created; changing any of it needs a new key. */
const IMMUTABLE = ["keyRing", "cryptoKeyId", "algorithm", "protectionLevel", "destroyScheduledDuration"] as const;

/**
 * Asymmetric-signing keys on the local KMS emulator, created through the real Cloud KMS client.
 *
 * `delete` destroys every version still alive, as the GCP provider's deletionPolicy DELETE does; the key itself,
 * as in Cloud KMS, stays. A create that finds the key already there adopts it when it is the key this program would
 * have created (an interrupted run's), with its first version still usable; otherwise it fails saying what differs
 * ({@link adoptCryptoKey}).
 */
export const emulatorCryptoKeyProvider: pulumi.dynamic.ResourceProvider<CryptoKeyInputs, CryptoKeyOutputs> = {
    async configure(req) {
        configureFromStack(this, req.config);
    },

    async check(_olds, news) {
        return parseKmsDuration(news.destroyScheduledDuration)
            ? { inputs: news }
            : { failures: [{ property: "destroyScheduledDuration", reason: 'must be seconds such as "86400s"' }] };
    },

    async create(inputs) {
        const cryptoKey = {
            purpose: "ASYMMETRIC_SIGN",
            versionTemplate: { algorithm: inputs.algorithm, protectionLevel: inputs.protectionLevel },
            destroyScheduledDuration: parseKmsDuration(inputs.destroyScheduledDuration), // check ran: well-formed
            labels: inputs.labels ?? {},
        } as KmsCryptoKey;
        const name = await withKmsClient(kmsEndpointOf(this, inputs), (client) =>
            client.createCryptoKey({ parent: inputs.keyRing, cryptoKeyId: inputs.cryptoKeyId, cryptoKey }).then(
                ([key]) => key.name as string,
                (error: unknown) => adoptCryptoKey(client, error, inputs),
            ),
        );
        return { id: name, outs: { ...inputs, name, keyVersion: `${name}/cryptoKeyVersions/1` } };
    },

    async read(id, props) {
        return readEmulatorResource("EmulatorCryptoKey", id, props, kmsEndpointOf(this, props), (client, name) => client.getCryptoKey({ name }));
    },

    async diff(_id, olds, news) {
        const replaces = IMMUTABLE.filter((k) => olds[k] !== news[k]);
        const changed = JSON.stringify(olds.labels ?? {}) !== JSON.stringify(news.labels ?? {});
        return { changes: replaces.length > 0 || changed, replaces };
    },

    async update(_id, olds, news) {
        await withKmsClient(kmsEndpointOf(this, news), (client) =>
            client.updateCryptoKey({
                cryptoKey: { name: olds.name, labels: news.labels ?? {} },
                updateMask: { paths: ["labels"] },
            }),
        );
        return { outs: { ...olds, ...news } };
    },

    async delete(_id, props) {
        await withKmsClient(kmsEndpointOf(this, props), async (client) => {
            const [versions] = await client.listCryptoKeyVersions({ parent: props.name });
            for (const version of versions) {
                if (version.state !== "DESTROYED" && version.state !== "DESTROY_SCHEDULED") {
                    await client.destroyCryptoKeyVersion({ name: version.name });
                }
            }
        });
    },
};

/**
 * After a failed CreateCryptoKey: on ALREADY_EXISTS, the key's name when it is the one `inputs` describe (purpose,
 * algorithm, protection level) and its version 1 is still usable, its labels set to the wanted ones; otherwise the
 * original error, or one naming what differs and what to do.
 */
async function adoptCryptoKey(client: KeyManagementServiceClient, error: unknown, inputs: CryptoKeyInputs): Promise<string> {
    const { status } = require("@grpc/grpc-js") as typeof Grpc;
    if ((error as { code?: number }).code !== status.ALREADY_EXISTS) throw error;
    const name = `${inputs.keyRing}/cryptoKeys/${inputs.cryptoKeyId}`;
    const [found] = await client.getCryptoKey({ name });
    const wanted = { purpose: "ASYMMETRIC_SIGN", algorithm: inputs.algorithm, protectionLevel: inputs.protectionLevel };
    const differences = cryptoKeyDifferences(found as FoundCryptoKey, wanted);
    const version = `${name}/cryptoKeyVersions/1`;
    const state = await client.getCryptoKeyVersion({ name: version }).then(
        ([v]) => String(v.state),
        (e: unknown) => {
            if ((e as { code?: number }).code === status.NOT_FOUND) return undefined;
            throw e;
        },
    );
    const versionProblem = firstVersionProblem(version, state);
    if (differences.length > 0 || versionProblem) {
        throw new Error(notAdoptableMessage("CryptoKey", name, versionProblem ? [...differences, versionProblem] : differences));
    }
    const labels = inputs.labels ?? {};
    const sorted = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());
    if (sorted(found.labels ?? {}) !== sorted(labels)) {
        await client.updateCryptoKey({ cryptoKey: { name, labels }, updateMask: { paths: ["labels"] } });
    }
    return name;
}

/** An asymmetric-signing key on the local KMS emulator (local mode's stand-in for `gcp.kms.CryptoKey`). */
export class EmulatorCryptoKey extends DynamicResource {
    /** Full resource name, `projects/P/locations/L/keyRings/R/cryptoKeys/K`. */
    declare readonly name: pulumi.Output<string>;
    /** Full name of the key's first version, the one the CA uses. */
    declare readonly keyVersion: pulumi.Output<string>;

    constructor(name: string, args: EmulatorCryptoKeyArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            emulatorCryptoKeyProvider,
            name,
            { name: undefined, keyVersion: undefined, ...args },
            opts,
            "stepca",
            "EmulatorCryptoKey",
        );
    }
}
