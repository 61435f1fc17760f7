/**
 * Small helpers the dynamic providers share for comparing inputs. Kept free of module state: they are serialized
 * into Pulumi state together with the providers.
 */
import type * as Pulumi from "@pulumi/pulumi";

/** Whether a value is, or contains, an input Pulumi does not know yet (during preview). */
export function containsUnknown(value: unknown): boolean {
    // Required here, not imported: a captured `pulumi` module would be serialized by value into every provider.
    const { runtime } = require("@pulumi/pulumi") as typeof Pulumi;
    if (value === runtime.unknownValue) {
        return true;
    }
    if (value !== null && typeof value === "object") {
        return Object.values(value).some(containsUnknown);
    }
    return false;
}

/** The names among `keys` whose values are not known yet. */
export function unknownKeys(inputs: object, keys: readonly string[]): Set<string> {
    return new Set(keys.filter((key) => containsUnknown(inputValue(inputs, key))));
}

/**
 * Input equality as Pulumi state sees it: key order and `undefined` members do not matter (state is JSON).
 */
function sameInput(a: unknown, b: unknown): boolean {
    return canonicalJson(a) === canonicalJson(b);
}

/** The keys whose values differ between old state and new inputs. */
export function changedKeys(olds: object, news: object, keys: readonly string[]): string[] {
    return keys.filter((key) => !sameInput(inputValue(olds, key), inputValue(news, key)));
}

// Not named `valueOf`: Pulumi's closure serializer mistakes that for Object.prototype.valueOf and drops it.
function inputValue(object: object, key: string): unknown {
    return (object as Record<string, unknown>)[key];
}

function canonicalJson(value: unknown): string {
    return JSON.stringify(value, (_key, v: unknown) =>
        v !== null && typeof v === "object" && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
            : v,
    ) ?? "undefined";
}
