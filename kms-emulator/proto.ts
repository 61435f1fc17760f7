import * as fs from "node:fs";
import * as path from "node:path";
import type { ServiceDefinition } from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/**
 * Proto-loader options shared by the server: camelCase fields like the Node client, enums as names,
 * int64 as strings (CRC32C Int64Value, Timestamp seconds), oneofs with their virtual case field.
 */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, defaults: false, oneofs: true };

let cached: ServiceDefinition | undefined;

/**
 * The KeyManagementService definition, from the very protos `@google-cloud/kms` ships (so server and client
 * agree on the wire format by construction), with google-gax's copies of the common Google protos.
 */
export function kmsServiceDefinition(): ServiceDefinition {
    if (!cached) {
        const includeDirs = [path.join(packageRoot("@google-cloud/kms"), "build/protos"), path.join(packageRoot("google-gax"), "build/protos")];
        const definition = protoLoader.loadSync("google/cloud/kms/v1/service.proto", { ...LOADER_OPTIONS, includeDirs });
        cached = definition["google.cloud.kms.v1.KeyManagementService"] as ServiceDefinition;
    }
    return cached;
}

/** The package's root directory; resolving `<pkg>/package.json` directly fails where `exports` hides it. */
function packageRoot(name: string): string {
    let dir = path.dirname(require.resolve(name));
    while (!isPackageDir(dir, name)) {
        const parent = path.dirname(dir);
        if (parent === dir) throw new Error(`Cannot find the package root of ${name}`);
        dir = parent;
    }
    return dir;
}

function isPackageDir(dir: string, name: string): boolean {
    const manifest = path.join(dir, "package.json");
    return fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string }).name === name;
}
