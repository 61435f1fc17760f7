/**
 * An offline key: a KMS key version kept DISABLED except for the moment it signs, so that nothing (a leaked
 * credential, a mis-granted role) can sign with it in between. Used for the root CA key (`offlineRootKey`).
 */
import { type KmsCallOptions, type KmsClient, getKeyVersion, setKeyVersionState } from "./signer";

/**
 * Runs `sign` with `keyVersion` ENABLED, then DISABLED again, whether `sign` succeeded or failed. When both fail,
 * the error says so: the key may still be online. Only a DISABLED version is enabled: a new HSM version is still
 * PENDING_GENERATION (which `sign` waits out, and which cannot be set ENABLED), a new software one already ENABLED.
 */
export async function withKeyVersionOnline<T>(
    client: KmsClient,
    keyVersion: string,
    sign: () => Promise<T>,
    options: KmsCallOptions = {},
): Promise<T> {
    if ((await getKeyVersion(client, keyVersion, options)).state === "DISABLED") {
        await setKeyVersionState(client, keyVersion, "ENABLED", options);
    }
    let result: T;
    try {
        result = await sign();
    } catch (error) {
        await setKeyVersionState(client, keyVersion, "DISABLED", options).catch((disableError: unknown) => {
            throw new Error(
                `${String((error as Error).message ?? error)}; and disabling ${keyVersion} again failed too, so it is ` +
                    `still ENABLED: ${String((disableError as Error).message ?? disableError)}`,
            );
        });
        throw error;
    }
    await setKeyVersionState(client, keyVersion, "DISABLED", options);
    return result;
}
