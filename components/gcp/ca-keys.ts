import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { type CaKeyBackend, type CaKeySetArgs, CaKeySet, KEY_IGNORE_CHANGES } from "../ca-key-set";

/** Inputs of {@link CaKeys}. */
export interface CaKeysArgs extends CaKeySetArgs {
    /** The GCP project; pass {@link ProjectServices.project} so the keys wait for the Cloud KMS API. */
    project: pulumi.Input<string>;
}

/**
 * The root and intermediate CA keys in Cloud KMS: asymmetric-signing keys whose private halves never leave KMS.
 *
 * The keys are deleted with deletionPolicy DELETE, which makes `pulumi destroy` schedule every key version for
 * destruction (GCP keeps the key ring and key shells forever). `protectRootKey` switches the root key to PREVENT
 * and Pulumi's `protect`, so a production root survives a mistaken destroy.
 */
export class CaKeys extends CaKeySet<gcp.kms.KeyRing, gcp.kms.CryptoKey> {
    constructor(name: string, args: CaKeysArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stepca:kms:CaKeys", name, args, cloudKms(args), opts);
    }
}

/** Key rings and keys as Cloud KMS resources. */
function cloudKms(args: CaKeysArgs): CaKeyBackend<gcp.kms.KeyRing, gcp.kms.CryptoKey> {
    return {
        keyRing: (resourceName, keyRingId, parent) =>
            new gcp.kms.KeyRing(
                resourceName,
                { project: args.project, location: args.location, name: keyRingId },
                { parent },
            ),
        cryptoKey: (resourceName, key, parent) =>
            new gcp.kms.CryptoKey(
                resourceName,
                {
                    keyRing: key.ring.id,
                    name: key.keyId,
                    purpose: "ASYMMETRIC_SIGN",
                    versionTemplate: { algorithm: key.algorithm, protectionLevel: args.protectionLevel },
                    destroyScheduledDuration: args.destroyScheduledDuration,
                    deletionPolicy: key.protect ? "PREVENT" : "DELETE",
                    labels: key.labels,
                },
                { parent, protect: key.protect, ignoreChanges: KEY_IGNORE_CHANGES },
            ),
        // A new key gets version 1 and never rotates (asymmetric keys have no rotation schedule).
        keyVersion: (key) => pulumi.interpolate`${key.id}/cryptoKeyVersions/1`,
    };
}
