/**
 * Reading structured settings (objects and lists set with `pulumi config set --path`), which the program receives
 * as JSON text. Each reader records problems naming the exact path, e.g. `stepca-cloudkms:provisioners[1].name`,
 * and returns undefined for a value of the wrong shape.
 */
import { closestMatch } from "./values";

/** The parsed JSON of a structured setting, or undefined (with a problem) when it is not JSON of `shape`. */
export function parseStructured(
    key: string,
    text: string,
    shape: "object" | "array",
    fix: string,
    problems: string[],
): Record<string, unknown> | unknown[] | undefined {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        value = undefined;
    }
    const ok = shape === "array" ? Array.isArray(value) : isRecord(value);
    if (!ok) {
        problems.push(`${key} must be ${shape === "array" ? "a list" : "an object"}, got ${text}. ${fix}`);
        return undefined;
    }
    return value as Record<string, unknown> | unknown[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Records a problem for every field of `object` not in `allowed`, with the likeliest intended one. */
export function unknownFields(path: string, object: Record<string, unknown>, allowed: readonly string[], problems: string[]) {
    for (const field of Object.keys(object)) {
        if (!allowed.includes(field)) {
            const guess = closestMatch(field, allowed, 3);
            problems.push(
                `${path}.${field} is not a field here${guess ? `; did you mean ${guess}?` : ""} ` +
                    `Known fields: ${allowed.join(", ")}.`,
            );
        }
    }
}

/** A list of strings, or undefined (with a problem). */
export function stringList(path: string, value: unknown, problems: string[]): string[] | undefined {
    if (!Array.isArray(value) || !value.every((entry) => typeof entry === "string")) {
        problems.push(`${path} must be a list of strings, got ${JSON.stringify(value)}.`);
        return undefined;
    }
    return value;
}

/** A boolean (JSON true/false, or the strings the CLI writes for `--path` values), or undefined (with a problem). */
export function booleanField(path: string, value: unknown, problems: string[]): boolean | undefined {
    if (value === true || value === "true") return true;
    if (value === false || value === "false") return false;
    problems.push(`${path} must be true or false, got ${JSON.stringify(value)}.`);
    return undefined;
}
