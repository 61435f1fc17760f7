import { crc32c } from "@aws-crypto/crc32c";
import { ALGORITHMS, DIGEST_LENGTHS, type DigestKind } from "./algorithms";
import { type CryptoKeyInput, cryptoKeyChanges, newCryptoKey } from "./crypto-key-input";
import { failedPrecondition, invalidArgument, unimplemented } from "./errors";
import type { Faults } from "./faults";
import { parseCryptoKeyName, parseKeyRingName, parseLocationName, parseResourceId, parseVersionName } from "./names";
import { type ListRequest, paginate } from "./pagination";
import { signDigest, publicKeyDer, publicKeyPem } from "./signer";
import type { CryptoKeyRecord, Store, VersionRecord } from "./store";
import { cryptoKeyMessage, int64Value, keyRingMessage, versionMessage } from "./wire";

// Request shapes as proto-loader delivers them (camelCase, enums as names, int64 as strings); all optional,
// because proto3 lets a client leave anything out.
interface FieldMask {
    paths?: string[];
}
interface Int64Value {
    value?: string;
}
interface SignRequest {
    name?: string;
    digest?: { digest?: DigestKind | "externalMu"; sha256?: Buffer; sha384?: Buffer; sha512?: Buffer };
    digestCrc32c?: Int64Value;
    data?: Buffer;
    dataCrc32c?: Int64Value;
}
// Requests are proto-loader objects; each handler narrows its own to the interfaces above.
type Request = any;

/** Everything a handler may use. */
export interface HandlerContext {
    store: Store;
    faults: Faults;
}

/** One implemented RPC: where its resource name is (for IAM faults) and what it does. */
export interface Rpc {
    resource(request: Request): unknown;
    handle(request: Request, context: HandlerContext): object | Promise<object>;
}

/** The implemented KeyManagementService RPCs; the server answers every other one with UNIMPLEMENTED. */
export const RPCS: Readonly<Record<string, Rpc>> = {
    CreateKeyRing: {
        resource: (r: { parent?: string }) => r.parent,
        handle: (r: { parent?: string; keyRingId?: string }, { store }) =>
            keyRingMessage(store.createKeyRing(parseLocationName(r.parent), parseResourceId(r.keyRingId, "key_ring_id"))),
    },
    GetKeyRing: {
        resource: (r: { name?: string }) => r.name,
        handle: (r: { name?: string }, { store }) => keyRingMessage(store.getKeyRing(parseKeyRingName(r.name))),
    },
    ListKeyRings: {
        resource: (r: { parent?: string }) => r.parent,
        handle: (r: ListRequest & { parent?: string }, { store }) => {
            const parent = parseLocationName(r.parent);
            const { page, ...rest } = paginate(store.listKeyRings(parent), r, parent);
            return { keyRings: page.map(keyRingMessage), ...rest };
        },
    },
    CreateCryptoKey: {
        resource: (r: { parent?: string }) => r.parent,
        handle: async (r: { parent?: string; cryptoKeyId?: string; cryptoKey?: CryptoKeyInput; skipInitialVersionCreation?: boolean }, { store }) => {
            const parent = parseKeyRingName(r.parent, "parent");
            const id = parseResourceId(r.cryptoKeyId, "crypto_key_id");
            const key = await store.createCryptoKey(parent, id, newCryptoKey(r.cryptoKey), r.skipInitialVersionCreation === true);
            return keyMessage(store, key);
        },
    },
    GetCryptoKey: {
        resource: (r: { name?: string }) => r.name,
        handle: (r: { name?: string }, { store }) => keyMessage(store, store.getCryptoKey(parseCryptoKeyName(r.name).name)),
    },
    ListCryptoKeys: {
        resource: (r: { parent?: string }) => r.parent,
        handle: (r: ListRequest & { parent?: string }, { store }) => {
            const parent = parseKeyRingName(r.parent, "parent");
            const { page, ...rest } = paginate(store.listCryptoKeys(parent), r, parent);
            return { cryptoKeys: page.map((key) => keyMessage(store, key)), ...rest };
        },
    },
    UpdateCryptoKey: {
        resource: (r: { cryptoKey?: CryptoKeyInput }) => r.cryptoKey?.name,
        handle: (r: { cryptoKey?: CryptoKeyInput; updateMask?: FieldMask }, { store }) => {
            const input = r.cryptoKey ?? {};
            const name = parseCryptoKeyName(input.name, "crypto_key.name").name;
            const changes = cryptoKeyChanges(store.getCryptoKey(name), input, maskPaths(r.updateMask));
            return keyMessage(store, store.updateCryptoKey(name, changes));
        },
    },
    CreateCryptoKeyVersion: {
        resource: (r: { parent?: string }) => r.parent,
        handle: async (r: { parent?: string }, { store }) =>
            versionMessage(await store.createVersion(parseCryptoKeyName(r.parent, "parent").name)),
    },
    GetCryptoKeyVersion: {
        resource: (r: { name?: string }) => r.name,
        handle: (r: { name?: string }, { store }) => versionMessage(store.getVersion(parseVersionName(r.name).name)),
    },
    ListCryptoKeyVersions: {
        resource: (r: { parent?: string }) => r.parent,
        handle: (r: ListRequest & { parent?: string }, { store }) => {
            const parent = parseCryptoKeyName(r.parent, "parent").name;
            const { page, ...rest } = paginate(store.listVersions(parent), r, parent);
            return { cryptoKeyVersions: page.map(versionMessage), ...rest };
        },
    },
    UpdateCryptoKeyVersion: {
        resource: (r: { cryptoKeyVersion?: { name?: string } }) => r.cryptoKeyVersion?.name,
        handle: (r: { cryptoKeyVersion?: { name?: string; state?: string }; updateMask?: FieldMask }, { store }) => {
            const input = r.cryptoKeyVersion ?? {};
            const name = parseVersionName(input.name, "crypto_key_version.name").name;
            for (const path of maskPaths(r.updateMask)) {
                if (path === "external_protection_level_options") throw unimplemented("external_protection_level_options");
                if (path !== "state") throw invalidArgument(`update_mask path "${path}" cannot be updated on a CryptoKeyVersion.`);
            }
            if (input.state !== "ENABLED" && input.state !== "DISABLED") {
                throw invalidArgument(
                    `crypto_key_version.state can only be set to ENABLED or DISABLED, got ${input.state ?? "CRYPTO_KEY_VERSION_STATE_UNSPECIFIED"}; ` +
                        "use DestroyCryptoKeyVersion and RestoreCryptoKeyVersion for other transitions.",
                );
            }
            return versionMessage(store.setVersionState(name, input.state));
        },
    },
    DestroyCryptoKeyVersion: {
        resource: (r: { name?: string }) => r.name,
        handle: (r: { name?: string }, { store }) => versionMessage(store.destroyVersion(parseVersionName(r.name).name)),
    },
    RestoreCryptoKeyVersion: {
        resource: (r: { name?: string }) => r.name,
        handle: (r: { name?: string }, { store }) => versionMessage(store.restoreVersion(parseVersionName(r.name).name)),
    },
    GetPublicKey: {
        resource: (r: { name?: string }) => r.name,
        handle: (r: { name?: string; publicKeyFormat?: string }, { store, faults }) => {
            const version = signingVersion(store, r.name, "GetPublicKey");
            const format = r.publicKeyFormat ?? "PUBLIC_KEY_FORMAT_UNSPECIFIED";
            if (!["PUBLIC_KEY_FORMAT_UNSPECIFIED", "PEM", "DER"].includes(format)) {
                throw invalidArgument(`public_key_format ${format} is not available for algorithm ${version.algorithm}.`);
            }
            requireEnabled(version);
            const privateKey = store.privateKey(version);
            const pem = publicKeyPem(privateKey);
            const common = { algorithm: version.algorithm, name: version.name, protectionLevel: version.protectionLevel };
            if (format === "PUBLIC_KEY_FORMAT_UNSPECIFIED") {
                return { pem, pemCrc32c: int64Value(faults.crc32c(crc32c(Buffer.from(pem)))), ...common };
            }
            // An explicit format answers through public_key (ChecksummedData) instead of pem.
            const data = format === "PEM" ? Buffer.from(pem) : publicKeyDer(privateKey);
            return { ...common, publicKeyFormat: format, publicKey: { data, crc32cChecksum: int64Value(faults.crc32c(crc32c(data))) } };
        },
    },
    AsymmetricSign: {
        resource: (r: SignRequest) => r.name,
        handle: (r: SignRequest, { store, faults }) => {
            const version = signingVersion(store, r.name, "AsymmetricSign");
            const key = ALGORITHMS.get(version.algorithm)!.key;
            if (key.type === "symmetric") throw new Error(`unreachable: ${version.name} is symmetric`);
            if (r.data?.length || r.dataCrc32c) {
                throw invalidArgument(`Algorithm ${version.algorithm} signs a digest: set digest, not data.`);
            }
            const kind = r.digest?.digest;
            const digest = kind && kind !== "externalMu" ? r.digest![kind] : undefined;
            if (!kind || !digest) throw invalidArgument("digest is required.");
            if (r.digestCrc32c && Number(r.digestCrc32c.value ?? 0) !== crc32c(digest)) {
                throw invalidArgument("The checksum in field digest_crc32c did not match the data in field digest.");
            }
            if (kind !== key.digest) {
                throw invalidArgument(`Algorithm ${version.algorithm} requires a ${key.digest.toUpperCase()} digest (digest.${key.digest}), got digest.${kind}.`);
            }
            if (digest.length !== DIGEST_LENGTHS[kind]) {
                throw invalidArgument(`digest.${kind} must be ${DIGEST_LENGTHS[kind]} bytes long, got ${digest.length}.`);
            }
            requireEnabled(version);
            const signature = signDigest(key, store.privateKey(version), digest);
            return {
                signature,
                signatureCrc32c: int64Value(faults.crc32c(crc32c(signature))),
                verifiedDigestCrc32c: r.digestCrc32c !== undefined && r.digestCrc32c !== null,
                name: version.name,
                verifiedDataCrc32c: false,
                protectionLevel: version.protectionLevel,
            };
        },
    },
};

function keyMessage(store: Store, key: CryptoKeyRecord) {
    return cryptoKeyMessage(key, store.primaryOf(key));
}

/** Looks up a version whose key must be an ASYMMETRIC_SIGN key (FAILED_PRECONDITION otherwise). */
function signingVersion(store: Store, name: unknown, method: string): VersionRecord {
    const parsed = parseVersionName(name);
    const version = store.getVersion(parsed.name);
    const purpose = store.getCryptoKey(parsed.cryptoKey).purpose;
    if (purpose !== "ASYMMETRIC_SIGN") {
        throw failedPrecondition(`${method} is not supported for ${parsed.cryptoKey}: its purpose is ${purpose}, not ASYMMETRIC_SIGN.`);
    }
    return version;
}

function requireEnabled(version: VersionRecord): void {
    if (version.state !== "ENABLED") {
        throw failedPrecondition(`${version.name} is not enabled, current state is: ${version.state}.`);
    }
}

function maskPaths(mask: FieldMask | undefined): string[] {
    const paths = mask?.paths ?? [];
    if (paths.length === 0) throw invalidArgument("update_mask is required and must name at least one field.");
    return paths;
}
