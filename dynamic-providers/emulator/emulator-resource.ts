/**
 * What the emulator-backed key providers share. Serialized into Pulumi state with them: SDKs are required inside
 * the KMS client helper, nothing here holds module state.
 */
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import type * as Grpc from "@grpc/grpc-js";
import type * as pulumi from "@pulumi/pulumi";
import { withKmsClient } from "../../lib/kms/client";

/**
 * Refresh of a resource on the local KMS emulator: the state as it is while the emulator still has the resource
 * (`get` succeeds), or gone when the emulator answers NOT_FOUND (it lost its state), so that `up` recreates it.
 */
export async function readEmulatorResource<T>(
    resourceType: string,
    id: string,
    props: T | undefined,
    endpoint: string | undefined,
    get: (client: KeyManagementServiceClient, name: string) => Promise<unknown>,
): Promise<pulumi.dynamic.ReadResult<T>> {
    if (!props) {
        throw new Error(`${resourceType} cannot be imported`);
    }
    // Required here, not imported: dynamic providers require SDKs inside their methods.
    const { status } = require("@grpc/grpc-js") as typeof Grpc;
    try {
        await withKmsClient(endpoint, (client) => get(client, id));
        return { id, props };
    } catch (error) {
        if ((error as { code?: number }).code === status.NOT_FOUND) {
            return {};
        }
        throw error;
    }
}
