import * as pulumi from "@pulumi/pulumi";
import { changedKeys } from "./provider-inputs";
import { DynamicResource } from "./dynamic-resource";

/** Inputs of {@link NameSuffix}. */
export interface NameSuffixArgs {
    /** Random bytes in the suffix; the suffix is twice as many hex characters. Default 4. */
    byteLength?: pulumi.Input<number>;
    /**
     * Values whose change must yield a new suffix, like the random provider's keepers: put here whatever forces
     * the named resource to be replaced, so the replacement gets a name its undeletable predecessor does not hold.
     */
    keepers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

interface SuffixInputs {
    byteLength: number;
    keepers: Record<string, string>;
}

interface SuffixOutputs extends SuffixInputs {
    hex: string;
}

/**
 * Random in `create`, stable in state ever after, new when `byteLength` or `keepers` change. The engine here has
 * no random-provider plugin, hence this dynamic provider.
 */
export const nameSuffixProvider: pulumi.dynamic.ResourceProvider<SuffixInputs, SuffixOutputs> = {
    async check(_olds, news) {
        const byteLength = news.byteLength;
        if (!Number.isInteger(byteLength) || byteLength < 1 || byteLength > 16) {
            return { failures: [{ property: "byteLength", reason: "must be a whole number from 1 to 16" }] };
        }
        return { inputs: news };
    },

    async create(inputs) {
        const { randomBytes } = require("node:crypto") as typeof import("node:crypto");
        const hex = randomBytes(inputs.byteLength).toString("hex");
        return { id: hex, outs: { ...inputs, hex } };
    },

    async diff(_id, olds, news) {
        const replaces = changedKeys(olds, news, ["byteLength", "keepers"]);
        return { changes: replaces.length > 0, replaces };
    },
};

/**
 * A random hex suffix for names that GCP never releases (KMS key rings and keys, which cannot be deleted), so that
 * `pulumi up` after `pulumi destroy`, or a replacement, does not collide with what the previous stack left behind.
 */
export class NameSuffix extends DynamicResource {
    /** The suffix, e.g. `9f2c01ab`. */
    declare readonly hex: pulumi.Output<string>;

    constructor(name: string, args: NameSuffixArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            nameSuffixProvider,
            name,
            { hex: undefined, byteLength: args.byteLength ?? 4, keepers: args.keepers ?? {} },
            opts,
            "stepca",
            "NameSuffix",
        );
    }
}
