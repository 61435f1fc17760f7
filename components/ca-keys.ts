import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { KeyNamingArgs, keyNames } from "./key-names";

/** Inputs of {@link CaKeys}. */
export interface CaKeysArgs extends KeyNamingArgs {
    /** The GCP project; pass {@link ProjectServices.project} so the keys wait for the Cloud KMS API. */
    project: pulumi.Input<string>;
    /** Plain: it sets a resource option. Guards the root key against `pulumi destroy`. */
    protectRootKey: boolean;
}

/**
 * The root and intermediate CA keys in Cloud KMS: asymmetric-signing keys whose private halves never leave KMS.
 *
 * The keys are deleted with deletionPolicy DELETE, which makes `pulumi destroy` schedule every key version for
 * destruction (GCP keeps the key ring and key shells forever). `protectRootKey` switches the root key to PREVENT
 * and Pulumi's `protect`, so a production root survives a mistaken destroy.
 */
export class CaKeys extends pulumi.ComponentResource {
    readonly rootKeyRing: gcp.kms.KeyRing;
    /** The same ring as {@link rootKeyRing} when the rings are merged. */
    readonly intermediateKeyRing: gcp.kms.KeyRing;
    readonly rootKey: gcp.kms.CryptoKey;
    readonly intermediateKey: gcp.kms.CryptoKey;
    /** Full key-version name, as step-ca and the signing providers want it. */
    readonly rootKeyVersion: pulumi.Output<string>;
    readonly intermediateKeyVersion: pulumi.Output<string>;

    constructor(name: string, args: CaKeysArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:kms:CaKeys", name, {}, opts);
        const names = keyNames(name, args, this);

        const keyRing = (role: string, ringName: pulumi.Input<string>) =>
            new gcp.kms.KeyRing(
                `${name}-${role}`,
                { project: args.project, location: args.location, name: ringName },
                { parent: this },
            );
        this.rootKeyRing = keyRing(args.separateKeyRings ? "root" : "ring", names.rootKeyRing);
        this.intermediateKeyRing = args.separateKeyRings
            ? keyRing("intermediate", names.intermediateKeyRing)
            : this.rootKeyRing;

        const cryptoKey = (
            role: "root" | "intermediate",
            ring: gcp.kms.KeyRing,
            keyName: pulumi.Input<string>,
            algorithm: pulumi.Input<string>,
            protect: boolean,
        ) =>
            new gcp.kms.CryptoKey(
                `${name}-${role}`,
                {
                    keyRing: ring.id,
                    name: keyName,
                    purpose: "ASYMMETRIC_SIGN",
                    versionTemplate: { algorithm, protectionLevel: args.protectionLevel },
                    destroyScheduledDuration: args.destroyScheduledDuration,
                    deletionPolicy: protect ? "PREVENT" : "DELETE",
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

        // A new key gets version 1 and never rotates (asymmetric keys have no rotation schedule).
        this.rootKeyVersion = pulumi.interpolate`${this.rootKey.id}/cryptoKeyVersions/1`;
        this.intermediateKeyVersion = pulumi.interpolate`${this.intermediateKey.id}/cryptoKeyVersions/1`;

        this.registerOutputs({
            rootKeyVersion: this.rootKeyVersion,
            intermediateKeyVersion: this.intermediateKeyVersion,
        });
    }
}
