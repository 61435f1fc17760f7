import * as pulumi from "@pulumi/pulumi";
import { withKmsClient } from "../lib/kms/client";
import { getKeyVersion, setKeyVersionState } from "../lib/kms/signer";
import { containsUnknown } from "./provider-inputs";
import { configureFromStack, kmsEndpointOf } from "./stack-settings";
import { DynamicResource } from "./dynamic-resource";

/** Inputs of {@link OfflineKeyVersion}. */
export interface OfflineKeyVersionArgs {
    /** Full `projects/…/cryptoKeyVersions/N` name of the key version to keep DISABLED. */
    readonly keyVersion: pulumi.Input<string>;
}

interface OfflineInputs {
    keyVersion: string;
    /** The version's state when this run checked it (added by `check`; absent while the name is unknown). */
    observedState?: string;
    /** For providers called directly (tests) and endpoints in older state; see stack-settings.ts. */
    kmsEndpoint?: string;
}

interface OfflineOutputs {
    keyVersion: string;
    kmsEndpoint?: string;
    /** What the version was left in, or what the last refresh found. */
    state: string;
}

/**
 * Keeps a key version DISABLED between signings (the root key under `offlineRootKey`; the certificate providers
 * enable it only while they mint). `check` reads the version's state on every preview and `up` (one
 * GetCryptoKeyVersion), so one left ENABLED (a run killed while minting, or an operator) shows as an update in the
 * preview and `up` disables it. `read` reports the state for refresh; `delete` (the setting turned off) enables the
 * version again unless it is being destroyed. A leaf: nothing consumes its outputs, so its updates cascade nowhere.
 */
export const offlineKeyVersionProvider: pulumi.dynamic.ResourceProvider<OfflineInputs, OfflineOutputs> = {
    async configure(req) {
        configureFromStack(this, req.config);
    },

    async check(_olds, news) {
        if (containsUnknown(news.keyVersion)) return { inputs: news };
        const { state } = await withKmsClient(kmsEndpointOf(this, news), (client) => getKeyVersion(client, news.keyVersion));
        return { inputs: { ...news, observedState: state } };
    },

    async diff(_id, olds, news) {
        const found = news.observedState;
        const changes = olds.keyVersion !== news.keyVersion || (found !== undefined && found !== "DISABLED");
        return { changes };
    },

    async create(inputs) {
        await withKmsClient(kmsEndpointOf(this, inputs), (client) => setKeyVersionState(client, inputs.keyVersion, "DISABLED"));
        return { id: inputs.keyVersion, outs: disabled(inputs) };
    },

    async update(_id, _olds, news) {
        await withKmsClient(kmsEndpointOf(this, news), (client) => setKeyVersionState(client, news.keyVersion, "DISABLED"));
        return { outs: disabled(news) };
    },

    async read(id, props) {
        if (!props) throw new Error("OfflineKeyVersion cannot be imported");
        const { state } = await withKmsClient(kmsEndpointOf(this, props), (client) => getKeyVersion(client, props.keyVersion));
        return { id, props: { ...props, state } };
    },

    async delete(_id, props) {
        await withKmsClient(kmsEndpointOf(this, props), async (client) => {
            const { state } = await getKeyVersion(client, props.keyVersion);
            if (state === "DISABLED") await setKeyVersionState(client, props.keyVersion, "ENABLED");
        });
    },
};

/** The outputs after disabling: the inputs but what `check` observed (an endpoint only when one was given). */
function disabled(inputs: OfflineInputs): OfflineOutputs {
    return { keyVersion: inputs.keyVersion, ...(inputs.kmsEndpoint && { kmsEndpoint: inputs.kmsEndpoint }), state: "DISABLED" };
}

/**
 * The root key version kept offline (`offlineRootKey`): DISABLED except while `pulumi up` signs with it. Give it
 * `dependsOn` the certificates that sign with the key, so it acts after they minted.
 */
export class OfflineKeyVersion extends DynamicResource {
    declare readonly state: pulumi.Output<string>;

    constructor(name: string, args: OfflineKeyVersionArgs, opts?: pulumi.CustomResourceOptions) {
        super(offlineKeyVersionProvider, name, { state: undefined, ...args }, opts, "stepca", "OfflineKeyVersion");
    }
}
