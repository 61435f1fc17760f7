import * as pulumi from "@pulumi/pulumi";
import { NameSuffix } from "../dynamic-providers/name-suffix";

/** Settings that decide the names of the CA's key rings and keys. */
export interface KeyNamingArgs {
    location: pulumi.Input<string>;
    keyRingPrefix: pulumi.Input<string>;
    /** Plain: it decides how many key rings exist. */
    separateKeyRings: boolean;
    rootAlgorithm: pulumi.Input<string>;
    intermediateAlgorithm: pulumi.Input<string>;
    protectionLevel: pulumi.Input<string>;
}

/** Key ring and crypto key IDs (short names, not resource paths). */
export interface KeyNames {
    rootKeyRing: pulumi.Output<string>;
    /** The root's ring again when the rings are merged. */
    intermediateKeyRing: pulumi.Output<string>;
    rootKey: pulumi.Output<string>;
    intermediateKey: pulumi.Output<string>;
}

/**
 * Names the CA's key rings and keys, for Cloud KMS and the emulator alike.
 *
 * GCP never deletes key rings or keys, so every name carries a random suffix that changes whenever the named
 * thing must be replaced: the rings' suffix with their prefix, location and layout, each key's with its algorithm
 * and protection level (fixed at creation). A replacement therefore never asks for a name its predecessor still
 * holds, and neither does `up` after `destroy`.
 *
 * A new root key means a new root certificate and fingerprint, which every client must bootstrap again, so only
 * what really needs a new key is a keeper. `destroyScheduledDuration` is not one: it is a teardown policy, and the
 * keys ignore changes to it (`KEY_IGNORE_CHANGES` in ca-key-set.ts) rather than being replaced.
 */
export function keyNames(name: string, args: KeyNamingArgs, parent: pulumi.Resource): KeyNames {
    const rings = new NameSuffix(
        `${name}-key-rings`,
        {
            keepers: {
                location: args.location,
                keyRingPrefix: args.keyRingPrefix,
                layout: args.separateKeyRings ? "separate" : "shared",
            },
        },
        { parent },
    );
    const keySuffix = (role: string, algorithm: pulumi.Input<string>) =>
        new NameSuffix(
            `${name}-${role}-key`,
            {
                keepers: { algorithm, protectionLevel: args.protectionLevel },
            },
            { parent },
        ).hex;
    const ring = (role: string) => pulumi.interpolate`${args.keyRingPrefix}-${role}${rings.hex}`;
    const rootKeyRing = ring(args.separateKeyRings ? "root-" : "");
    return {
        rootKeyRing,
        intermediateKeyRing: args.separateKeyRings ? ring("intermediate-") : rootKeyRing,
        rootKey: pulumi.interpolate`root-${keySuffix("root", args.rootAlgorithm)}`,
        intermediateKey: pulumi.interpolate`intermediate-${keySuffix("intermediate", args.intermediateAlgorithm)}`,
    };
}
