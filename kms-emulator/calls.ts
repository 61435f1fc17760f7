/**
 * Counts RPCs by method name ("AsymmetricSign", "GetPublicKey", …), every call that reached the server,
 * including failed and fault-injected ones. Lets tests assert "this operation made zero KMS calls".
 */
export class CallCounter {
    private readonly counts = new Map<string, number>();

    record(method: string): void {
        this.counts.set(method, (this.counts.get(method) ?? 0) + 1);
    }

    byMethod(): Record<string, number> {
        return Object.fromEntries(this.counts);
    }

    total(): number {
        let sum = 0;
        for (const n of this.counts.values()) sum += n;
        return sum;
    }

    reset(): void {
        this.counts.clear();
    }
}
