/**
 * The stack settings that providers talking to KMS read when the engine configures them (it hands dynamic providers
 * the whole stack configuration), instead of taking them as resource inputs: `kmsEndpoint` (where KMS is) and
 * `offlineRootKey` (whether the root key version stays DISABLED between signings). Neither says anything about a
 * certificate or key, and as inputs a change was an update of every key and certificate: previews then saw their
 * outputs as unknown and announced a replacement of the root certificate that `up` never made. Serialized with the
 * providers: no module state.
 */
import type * as pulumi from "@pulumi/pulumi";

/** The settings, with their project namespace: the provider process does not know the project's name. */
export const KMS_ENDPOINT_CONFIG_KEY = "stepca-cloudkms:kmsEndpoint";
export const OFFLINE_ROOT_KEY_CONFIG_KEY = "stepca-cloudkms:offlineRootKey";

/** What a provider object remembers from the engine's configuration. */
interface Configured {
    configuredKmsEndpoint?: string;
    configuredOfflineRootKey?: boolean;
}

/** For a provider's `configure`: keeps the stack's settings on the provider object. */
export function configureFromStack(provider: object, config: pulumi.dynamic.Config): void {
    const configured = provider as Configured;
    configured.configuredKmsEndpoint = String(config.get(KMS_ENDPOINT_CONFIG_KEY) ?? ""); // "" in gcp mode
    configured.configuredOfflineRootKey = String(config.get(OFFLINE_ROOT_KEY_CONFIG_KEY)) === "true";
}

/**
 * The endpoint to call: the configured one when the engine configured the provider (undefined, Google Cloud KMS,
 * when it is empty), else a `kmsEndpoint` in the resource's properties (providers called directly, and state
 * written before the setting moved here).
 */
export function kmsEndpointOf(provider: object, props: { readonly kmsEndpoint?: string } | undefined): string | undefined {
    const configured = (provider as Configured).configuredKmsEndpoint;
    return (configured ?? props?.kmsEndpoint) || undefined;
}

/** Whether the root key is kept offline: the configured setting, else `offlineRootKey` in the properties (direct calls). */
export function offlineRootKeyOf(provider: object, props: { readonly offlineRootKey?: boolean } | undefined): boolean {
    return (provider as Configured).configuredOfflineRootKey ?? props?.offlineRootKey === true;
}
