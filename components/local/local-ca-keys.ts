import * as pulumi from "@pulumi/pulumi";
import { EmulatorCryptoKey } from "../../dynamic-providers/emulator/emulator-crypto-key";
import { EmulatorKeyRing } from "../../dynamic-providers/emulator/emulator-key-ring";
import { type CaKeyBackend, type CaKeySetArgs, CaKeySet, KEY_IGNORE_CHANGES } from "../ca-key-set";

/** Inputs of {@link LocalCaKeys}. */
export interface LocalCaKeysArgs extends CaKeySetArgs {
    /** Project part of the key names on the emulator. */
    project: pulumi.Input<string>;
}

/**
 * Local mode's {@link CaKeys}: the same key rings and keys, named the same way, created on the local KMS emulator
 * instead of Cloud KMS. Destroying a key destroys its versions, as in GCP.
 */
export class LocalCaKeys extends CaKeySet<EmulatorKeyRing, EmulatorCryptoKey> {
    constructor(name: string, args: LocalCaKeysArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:local:CaKeys", name, args, kmsEmulator(args), opts);
    }
}

/** Key rings and keys on the local KMS emulator (the stack's kmsEndpoint, see dynamic-providers/stack-settings.ts). */
function kmsEmulator(args: LocalCaKeysArgs): CaKeyBackend<EmulatorKeyRing, EmulatorCryptoKey> {
    return {
        keyRing: (resourceName, keyRingId, parent) =>
            new EmulatorKeyRing(
                resourceName,
                { project: args.project, location: args.location, keyRingId },
                { parent },
            ),
        cryptoKey: (resourceName, key, parent) =>
            new EmulatorCryptoKey(
                resourceName,
                {
                    keyRing: key.ring.name,
                    cryptoKeyId: key.keyId,
                    algorithm: key.algorithm,
                    protectionLevel: args.protectionLevel,
                    destroyScheduledDuration: args.destroyScheduledDuration,
                    labels: key.labels,
                },
                { parent, protect: key.protect, ignoreChanges: KEY_IGNORE_CHANGES },
            ),
        // The emulator provider reports the key's first version.
        keyVersion: (key) => key.keyVersion,
    };
}
