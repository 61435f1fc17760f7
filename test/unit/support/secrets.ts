/** Pulumi's wire marker for a secret value: `{ [SIG]: SECRET_SIG, value }`. */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/**
 * Paths at which `needle` appears in serialized inputs outside a secret wrapper: each one would land in
 * Pulumi state in plain text.
 */
export function plainOccurrences(value: unknown, needle: string, path = "$"): string[] {
    if (typeof value === "string") {
        return value.includes(needle) ? [path] : [];
    }
    if (value === null || typeof value !== "object") {
        return [];
    }
    const record = value as Record<string, unknown>;
    if (record[SECRET_SIG_KEY] === SECRET_SIG) {
        return [];
    }
    return Object.entries(record).flatMap(([key, child]) => plainOccurrences(child, needle, `${path}.${key}`));
}

/** Whether `needle` appears anywhere, secret or not (guards the test above against vacuous passes). */
export function occursAnywhere(value: unknown, needle: string): boolean {
    return JSON.stringify(value ?? null).includes(needle);
}
