import { status as GrpcStatus } from "@grpc/grpc-js";
import { certifiesPublicKey } from "./certificate-facts";
import { KmsCallError } from "../kms/errors";
import { type KmsClient, getKeyVersion, getPublicKey } from "../kms/signer";

/** What a refresh learns about the KMS key version a certificate was minted for. */
export interface KeyVersionDrift {
    /** ENABLED, DISABLED, DESTROY_SCHEDULED, DESTROYED..., or NOT_FOUND when the version no longer exists. */
    readonly keyVersionState: string;
    /** Whether the certificate still certifies the version's public key; unchanged when the key cannot be read. */
    readonly publicKeyMatchesKeyVersion: boolean;
}

/**
 * Re-reads a key version (GetCryptoKeyVersion, then GetPublicKey if it is ENABLED) and compares it with the
 * certificate. The result goes into Pulumi state so that a refresh shows the drift and the next preview acts on it:
 * a replacement when the public key no longer matches, an in-place update (which re-checks the key version) when
 * the state is not ENABLED.
 */
export async function inspectKeyVersion(
    client: KmsClient,
    keyVersion: string,
    certPem: string,
    previous: KeyVersionDrift,
): Promise<KeyVersionDrift> {
    let state: string;
    try {
        state = (await getKeyVersion(client, keyVersion)).state;
    } catch (error) {
        if (error instanceof KmsCallError && error.code === GrpcStatus.NOT_FOUND) {
            return { keyVersionState: "NOT_FOUND", publicKeyMatchesKeyVersion: previous.publicKeyMatchesKeyVersion };
        }
        throw error;
    }
    if (state !== "ENABLED") {
        return { keyVersionState: state, publicKeyMatchesKeyVersion: previous.publicKeyMatchesKeyVersion };
    }
    const { pem } = await getPublicKey(client, keyVersion);
    return { keyVersionState: state, publicKeyMatchesKeyVersion: certifiesPublicKey(certPem, pem) };
}
