import * as pulumi from "@pulumi/pulumi";
import { EmulatorCryptoKey } from "../dynamic-providers/emulator-crypto-key";
import { EmulatorKeyRing } from "../dynamic-providers/emulator-key-ring";
import { KeyNamingArgs, keyNames } from "./key-names";

/** Inputs of {@link LocalCaKeys}. */
export interface LocalCaKeysArgs extends KeyNamingArgs {
    /** `host:port` of the KMS emulator. */
    kmsEndpoint: pulumi.Input<string>;
    /** Project part of the key names on the emulator. */
    project: pulumi.Input<string>;
    /** Plain: it sets a resource option. Same meaning as in gcp mode. */
    protectRootKey: boolean;
}

/**
 * Local mode's {@link CaKeys}: the same key rings and keys, named the same way, created on the local KMS emulator
 * instead of Cloud KMS. Destroying a key destroys its versions, as in GCP.
 */
export class LocalCaKeys extends pulumi.ComponentResource {
    readonly rootKeyRing: EmulatorKeyRing;
    /** The same ring as {@link rootKeyRing} when the rings are merged. */
    readonly intermediateKeyRing: EmulatorKeyRing;
    readonly rootKey: EmulatorCryptoKey;
    readonly intermediateKey: EmulatorCryptoKey;
    readonly rootKeyVersion: pulumi.Output<string>;
    readonly intermediateKeyVersion: pulumi.Output<string>;

    constructor(name: string, args: LocalCaKeysArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:local:CaKeys", name, {}, opts);
        const names = keyNames(name, args, this);

        const keyRing = (role: string, keyRingId: pulumi.Input<string>) =>
            new EmulatorKeyRing(
                `${name}-${role}`,
                { kmsEndpoint: args.kmsEndpoint, project: args.project, location: args.location, keyRingId },
                { parent: this },
            );
        this.rootKeyRing = keyRing(args.separateKeyRings ? "root" : "ring", names.rootKeyRing);
        this.intermediateKeyRing = args.separateKeyRings
            ? keyRing("intermediate", names.intermediateKeyRing)
            : this.rootKeyRing;

        const cryptoKey = (
            role: "root" | "intermediate",
            ring: EmulatorKeyRing,
            cryptoKeyId: pulumi.Input<string>,
            algorithm: pulumi.Input<string>,
            protect: boolean,
        ) =>
            new EmulatorCryptoKey(
                `${name}-${role}`,
                {
                    kmsEndpoint: args.kmsEndpoint,
                    keyRing: ring.name,
                    cryptoKeyId,
                    algorithm,
                    protectionLevel: args.protectionLevel,
                    destroyScheduledDuration: args.destroyScheduledDuration,
                    labels: { app: "step-ca", role },
                },
                { parent: this, protect },
            );
        this.rootKey = cryptoKey("root", this.rootKeyRing, names.rootKey, args.rootAlgorithm, args.protectRootKey);
        this.intermediateKey = cryptoKey(
            "intermediate",
            this.intermediateKeyRing,
            names.intermediateKey,
            args.intermediateAlgorithm,
            false,
        );
        this.rootKeyVersion = this.rootKey.keyVersion;
        this.intermediateKeyVersion = this.intermediateKey.keyVersion;

        this.registerOutputs({
            rootKeyVersion: this.rootKeyVersion,
            intermediateKeyVersion: this.intermediateKeyVersion,
        });
    }
}
