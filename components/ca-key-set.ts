import * as pulumi from "@pulumi/pulumi";
import { type KeyNamingArgs, keyNames } from "./key-names";

/** Inputs every {@link CaKeySet} takes, whichever KMS holds the keys. */
export interface CaKeySetArgs extends KeyNamingArgs {
    /** Plain: it sets a resource option. Guards the root key against `pulumi destroy`. */
    protectRootKey: boolean;
    /**
     * How long destroyed versions stay recoverable, e.g. `"86400s"`. Fixed when a key is created (Cloud KMS treats it
     * as immutable); a later change applies to keys created afterwards only, see {@link KEY_IGNORE_CHANGES}.
     */
    destroyScheduledDuration: pulumi.Input<string>;
}

/**
 * Key inputs every backend ignores changes to (the `ignoreChanges` resource option). `destroyScheduledDuration` is
 * immutable in Cloud KMS, so a change would otherwise replace the key: a new root key, a new root certificate and
 * fingerprint, for a teardown-policy tweak. Ignored, the value a key was created with stays in state and in KMS; a
 * new value applies to keys created afterwards: a new stack, `pulumi up` after `pulumi destroy`, or a key replaced
 * for another reason (the engine creates a replacement with the program's value; checked on the real engine with
 * the emulator, Pulumi 3.276.0).
 */
export const KEY_IGNORE_CHANGES = ["destroyScheduledDuration"];

/** One CA key, as {@link CaKeySet} asks its backend for it. */
export interface CaKeySpec<Ring> {
    readonly role: "root" | "intermediate";
    /** The ring the key goes into. */
    readonly ring: Ring;
    /** The crypto key ID (last part of its name). */
    readonly keyId: pulumi.Output<string>;
    /** Cloud KMS algorithm, e.g. `EC_SIGN_P256_SHA256`. */
    readonly algorithm: pulumi.Input<string>;
    /** True for the root key when `protectRootKey` is set: the key must survive `pulumi destroy`. */
    readonly protect: boolean;
    readonly labels: { readonly app: string; readonly role: string };
}

/** How one KMS (Cloud KMS, or the local emulator) creates the CA's key rings and keys, as children of `parent`. */
export interface CaKeyBackend<Ring, Key> {
    keyRing(resourceName: string, keyRingId: pulumi.Output<string>, parent: pulumi.Resource): Ring;
    cryptoKey(resourceName: string, key: CaKeySpec<Ring>, parent: pulumi.Resource): Key;
    /** Full name of the key's first version, the one the CA signs with. */
    keyVersion(key: Key): pulumi.Output<string>;
}

/**
 * The root and intermediate CA keys and their key rings, laid out the same way on every KMS: names from
 * {@link keyNames}, one ring or a separate ring per key (`separateKeyRings`), asymmetric-signing keys labelled with
 * their role, and `protectRootKey` applied to the root key alone. Subclasses supply the {@link CaKeyBackend}.
 */
export abstract class CaKeySet<Ring, Key> extends pulumi.ComponentResource {
    readonly rootKeyRing: Ring;
    /** The same ring as {@link rootKeyRing} when the rings are merged. */
    readonly intermediateKeyRing: Ring;
    readonly rootKey: Key;
    readonly intermediateKey: Key;
    /** Full key-version name, as step-ca and the signing providers want it. */
    readonly rootKeyVersion: pulumi.Output<string>;
    readonly intermediateKeyVersion: pulumi.Output<string>;

    protected constructor(
        type: string,
        name: string,
        args: CaKeySetArgs,
        backend: CaKeyBackend<Ring, Key>,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super(type, name, {}, opts);
        const names = keyNames(name, args, this);

        const keyRing = (role: string, keyRingId: pulumi.Output<string>) =>
            backend.keyRing(`${name}-${role}`, keyRingId, this);
        this.rootKeyRing = keyRing(args.separateKeyRings ? "root" : "ring", names.rootKeyRing);
        this.intermediateKeyRing = args.separateKeyRings
            ? keyRing("intermediate", names.intermediateKeyRing)
            : this.rootKeyRing;

        const cryptoKey = (spec: Omit<CaKeySpec<Ring>, "labels">) =>
            backend.cryptoKey(`${name}-${spec.role}`, { ...spec, labels: { app: "step-ca", role: spec.role } }, this);
        this.rootKey = cryptoKey({
            role: "root",
            ring: this.rootKeyRing,
            keyId: names.rootKey,
            algorithm: args.rootAlgorithm,
            protect: args.protectRootKey,
        });
        this.intermediateKey = cryptoKey({
            role: "intermediate",
            ring: this.intermediateKeyRing,
            keyId: names.intermediateKey,
            algorithm: args.intermediateAlgorithm,
            protect: false,
        });
        this.rootKeyVersion = backend.keyVersion(this.rootKey);
        this.intermediateKeyVersion = backend.keyVersion(this.intermediateKey);

        this.registerOutputs({
            rootKeyVersion: this.rootKeyVersion,
            intermediateKeyVersion: this.intermediateKeyVersion,
        });
    }
}
