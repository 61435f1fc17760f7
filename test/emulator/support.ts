import * as crypto from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { crc32c } from "@aws-crypto/crc32c";
import * as grpc from "@grpc/grpc-js";
import { KeyManagementServiceClient, type protos } from "@google-cloud/kms";
import { createKmsClient } from "../../lib/kms/client";
import { type KmsEmulatorOptions, startKmsEmulator } from "../../kms-emulator/index";

export const LOCATION = "projects/test-project/locations/us-east1";

type Kms = typeof protos.google.cloud.kms.v1;
export type Algorithm = keyof Kms["CryptoKeyVersion"]["CryptoKeyVersionAlgorithm"];
export type VersionState = keyof Kms["CryptoKeyVersion"]["CryptoKeyVersionState"];
export type ProtectionLevel = keyof Kms["ProtectionLevel"];

/** Something that runs cleanups later: a TestContext, or a suite-level collector. */
export interface Cleanups {
    after(fn: () => unknown): void;
}

/** A running emulator and a real @google-cloud/kms client talking to it; both torn down after the test. */
export async function startWithClient(t: Cleanups, options: KmsEmulatorOptions = {}) {
    const emulator = await startKmsEmulator(options);
    const client = createKmsClient(emulator.address);
    t.after(async () => {
        await client.close();
        await emulator.stop();
    });
    return { emulator, client };
}

/** A fresh, unique ID so tests sharing one emulator never collide. */
export function uniqueId(prefix: string): string {
    return `${prefix}-${crypto.randomBytes(4).toString("hex")}`;
}

export async function createKeyRing(client: KeyManagementServiceClient, id = uniqueId("ring")): Promise<string> {
    const [ring] = await client.createKeyRing({ parent: LOCATION, keyRingId: id, keyRing: {} });
    return ring.name!;
}

/** Creates an ASYMMETRIC_SIGN key (version 1 included) and returns the key's name. */
export async function createSigningKey(
    client: KeyManagementServiceClient,
    keyRing: string,
    algorithm: Algorithm,
    extra: { protectionLevel?: ProtectionLevel; id?: string; destroySeconds?: number } = {},
): Promise<string> {
    const [key] = await client.createCryptoKey({
        parent: keyRing,
        cryptoKeyId: extra.id ?? uniqueId("key"),
        cryptoKey: {
            purpose: "ASYMMETRIC_SIGN",
            versionTemplate: { algorithm, protectionLevel: extra.protectionLevel ?? "SOFTWARE" },
            destroyScheduledDuration: extra.destroySeconds === undefined ? undefined : { seconds: extra.destroySeconds },
        },
    });
    return key.name!;
}

/** A predicate for assert.rejects: the gRPC status code, and optionally a pattern the details must match. */
export function rpcError(code: number, details?: RegExp) {
    return (error: unknown) => {
        const e = error as { code?: number; details?: string };
        if (e.code !== code) throw new Error(`expected gRPC status ${code}, got ${e.code}: ${e.details ?? String(error)}`);
        if (details && !details.test(e.details ?? "")) throw new Error(`details "${e.details}" do not match ${details}`);
        return true;
    };
}

/** CRC32C as a number, for comparing with Int64Value fields (which arrive as strings or numbers). */
export function crc(data: Uint8Array | string): number {
    return crc32c(typeof data === "string" ? Buffer.from(data) : data);
}

export function int64(value: { value?: unknown } | null | undefined): number | undefined {
    return value === null || value === undefined ? undefined : Number(value.value);
}

/** Verifies with the openssl CLI: `openssl dgst -<hash> -verify pub.pem -signature sig data`, PSS options when asked. */
export function opensslVerify(publicKeyPem: string, data: Buffer, signature: Buffer, hash: string, pss: boolean): boolean {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kms-openssl-"));
    try {
        fs.writeFileSync(path.join(dir, "pub.pem"), publicKeyPem);
        fs.writeFileSync(path.join(dir, "data"), data);
        fs.writeFileSync(path.join(dir, "sig"), signature);
        const pssArgs = pss ? ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"] : [];
        execFileSync("openssl", ["dgst", `-${hash}`, "-verify", "pub.pem", ...pssArgs, "-signature", "sig", "data"], { cwd: dir, stdio: "pipe" });
        return true;
    } catch (error) {
        const stdout = String((error as { stdout?: Buffer }).stdout ?? "");
        if (/Verification failure/i.test(stdout)) return false;
        throw error; // openssl itself failed to run: a broken test, not a bad signature
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * The real client with its endpoint untouched (cloudkms.googleapis.com:443, TLS), sent through an HTTP CONNECT
 * proxy as step-ca is, trusting only `caCertPem`. grpc-js reads the proxy from the environment when the channel is
 * built, so the variable is set for `initialize()` only.
 */
export async function createKmsClientViaProxy(proxyUrl: string, caCertPem: string): Promise<KeyManagementServiceClient> {
    const saved = process.env.grpc_proxy;
    process.env.grpc_proxy = proxyUrl;
    try {
        const client = new KeyManagementServiceClient({ sslCreds: grpc.credentials.createSsl(Buffer.from(caCertPem)), universeDomain: "googleapis.com" });
        await client.initialize();
        return client;
    } finally {
        if (saved === undefined) delete process.env.grpc_proxy;
        else process.env.grpc_proxy = saved;
    }
}
