/**
 * What the emulator-backed key providers share. Serialized into Pulumi state with them: SDKs are required inside
 * the KMS client helper, nothing here holds module state.
 */
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import type * as pulumi from "@pulumi/pulumi";
import { withKmsClient } from "../lib/kms-client";

/**
 * Refresh of a resource on the local KMS emulator: the state as it is while the emulator still has the resource
 * (`get` succeeds), or gone when the emulator answers NOT_FOUND (it lost its state), so that `up` recreates it.
 */
export async function readEmulatorResource<T extends { kmsEndpoint: string }>(
    resourceType: string,
    id: string,
    props: T | undefined,
    get: (client: KeyManagementServiceClient, name: string) => Promise<unknown>,
): Promise<pulumi.dynamic.ReadResult<T>> {
    if (!props) {
        throw new Error(`${resourceType} cannot be imported`);
    }
    try {
        await withKmsClient(props.kmsEndpoint, (client) => get(client, id));
        return { id, props };
    } catch (error) {
        // gRPC NOT_FOUND.
        if ((error as { code?: number }).code === 5) {
            return {};
        }
        throw error;
    }
}
