import * as pulumi from "@pulumi/pulumi";
import type * as Grpc from "@grpc/grpc-js";
import { withKmsClient } from "../../lib/kms/client";
import { readEmulatorResource } from "./emulator-resource";
import { configureFromStack, kmsEndpointOf } from "../stack-settings";
import { DynamicResource } from "../dynamic-resource";

/** Inputs of {@link EmulatorKeyRing}. */
export interface EmulatorKeyRingArgs {
    project: pulumi.Input<string>;
    location: pulumi.Input<string>;
    /** The key ring ID (last part of its name). */
    keyRingId: pulumi.Input<string>;
}

interface KeyRingInputs {
    /** Providers called directly (tests) and older state; the program configures the endpoint instead. */
    kmsEndpoint?: string;
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
 * delete a key ring, so `delete` only forgets it. A create that finds the ring already there adopts it: a key ring
 * has nothing but its name, and the name carries this stack's random suffix, so it is the ring an interrupted run
 * created (see lib/kms/adoption.ts).
 */
export const emulatorKeyRingProvider: pulumi.dynamic.ResourceProvider<KeyRingInputs, KeyRingOutputs> = {
    async configure(req) {
        configureFromStack(this, req.config);
    },

    async create(inputs) {
        // Required here, not imported: dynamic providers require SDKs inside their methods.
        const { status } = require("@grpc/grpc-js") as typeof Grpc;
        const parent = `projects/${inputs.project}/locations/${inputs.location}`;
        const name = await withKmsClient(kmsEndpointOf(this, inputs), async (client) => {
            try {
                const [ring] = await client.createKeyRing({ parent, keyRingId: inputs.keyRingId, keyRing: {} });
                return ring.name as string;
            } catch (error) {
                if ((error as { code?: number }).code !== status.ALREADY_EXISTS) throw error;
                const [ring] = await client.getKeyRing({ name: `${parent}/keyRings/${inputs.keyRingId}` });
                return ring.name as string;
            }
        });
        return { id: name, outs: { ...inputs, name } };
    },

    async read(id, props) {
        return readEmulatorResource("EmulatorKeyRing", id, props, kmsEndpointOf(this, props), (client, name) => client.getKeyRing({ name }));
    },

    async diff(_id, olds, news) {
        const replaces = (["project", "location", "keyRingId"] as const).filter((k) => olds[k] !== news[k]);
        return { changes: replaces.length > 0, replaces };
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
