import * as pulumi from "@pulumi/pulumi";
import { withKmsClient } from "../../lib/kms/client";
import { readEmulatorResource } from "./emulator-resource";
import { DynamicResource } from "../dynamic-resource";

/** Inputs of {@link EmulatorKeyRing}. */
export interface EmulatorKeyRingArgs {
    /** `host:port` of the KMS emulator. */
    kmsEndpoint: pulumi.Input<string>;
    project: pulumi.Input<string>;
    location: pulumi.Input<string>;
    /** The key ring ID (last part of its name). */
    keyRingId: pulumi.Input<string>;
}

interface KeyRingInputs {
    kmsEndpoint: string;
    project: string;
    location: string;
    keyRingId: string;
}

interface KeyRingOutputs extends KeyRingInputs {
    /** `projects/P/locations/L/keyRings/R`. */
    name: string;
}

/**
 * Key rings on the local KMS emulator, created through the real Cloud KMS client. Like GCP, the emulator cannot
 * delete a key ring, so `delete` only forgets it.
 */
export const emulatorKeyRingProvider: pulumi.dynamic.ResourceProvider<KeyRingInputs, KeyRingOutputs> = {
    async create(inputs) {
        const [ring] = await withKmsClient(inputs.kmsEndpoint, (client) =>
            client.createKeyRing({
                parent: `projects/${inputs.project}/locations/${inputs.location}`,
                keyRingId: inputs.keyRingId,
                keyRing: {},
            }),
        );
        const name = ring.name as string;
        return { id: name, outs: { ...inputs, name } };
    },

    async read(id, props) {
        return readEmulatorResource("EmulatorKeyRing", id, props, (client, name) => client.getKeyRing({ name }));
    },

    async diff(_id, olds, news) {
        const replaces = (["project", "location", "keyRingId"] as const).filter((k) => olds[k] !== news[k]);
        return { changes: replaces.length > 0 || olds.kmsEndpoint !== news.kmsEndpoint, replaces };
    },

    async update(_id, olds, news) {
        return { outs: { ...news, name: olds.name } };
    },

    async delete() {
        // Key rings cannot be deleted in Cloud KMS, nor on the emulator.
    },
};

/** A key ring on the local KMS emulator (local mode's stand-in for `gcp.kms.KeyRing`). */
export class EmulatorKeyRing extends DynamicResource {
    /** Full resource name, `projects/P/locations/L/keyRings/R`. */
    declare readonly name: pulumi.Output<string>;

    constructor(name: string, args: EmulatorKeyRingArgs, opts?: pulumi.CustomResourceOptions) {
        super(emulatorKeyRingProvider, name, { name: undefined, ...args }, opts, "stepca", "EmulatorKeyRing");
    }
}
