/**
 * Bounded exponential backoff. Cloud KMS asks clients to retry transient failures; an unbounded retry would hang
 * `pulumi up`, so every retry here has a fixed number of attempts.
 */

export interface RetryPolicy {
    /** Total attempts, the first one included. */
    readonly attempts: number;
    /** Delay before the second attempt; doubles after each failure. */
    readonly initialDelayMs: number;
    /** Upper bound for a single delay. */
    readonly maxDelayMs: number;
}

/** About 10 s of retrying in the worst case: enough for a KMS hiccup, short enough to fail a deployment visibly. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 6, initialDelayMs: 250, maxDelayMs: 4_000 };

/** Delay before attempt `attempt + 1` (1-based `attempt`), with jitter so parallel resources do not retry in step. */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
    const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * Runs `operation` until it succeeds, `shouldRetry` says no, or the attempts run out; the last error is thrown
 * as is so callers can still inspect it.
 */
export async function withRetry<T>(
    operation: (attempt: number) => Promise<T>,
    shouldRetry: (error: unknown) => boolean,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<T> {
    for (let attempt = 1; ; attempt++) {
        try {
            return await operation(attempt);
        } catch (error) {
            if (attempt >= policy.attempts || !shouldRetry(error)) {
                throw error;
            }
            await new Promise((resolve) => setTimeout(resolve, backoffDelayMs(policy, attempt)));
        }
    }
}
