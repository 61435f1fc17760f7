import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

export const PROJECT_DIR = path.resolve(__dirname, "../../..");

interface ProjectFile {
    name: string;
    config: Record<string, { type: string; default?: unknown; description?: string; items?: { type: string } }>;
}

/** Pulumi.yaml, parsed. */
export function projectFile(): ProjectFile {
    return yaml.load(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as ProjectFile;
}

/** A stack file's `config:` block, parsed. */
export function stackFile(stack: string): Record<string, unknown> {
    const file = yaml.load(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
    };
    return file.config;
}

/**
 * The config map the CLI hands the program for a stack (`pulumi.runtime.allConfig()` shape): the stack file's
 * values, then Pulumi.yaml defaults for what it leaves out; strings as is, everything else JSON.
 */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
    const project = projectFile();
    const values: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(project.config)) {
        if (spec.default !== undefined) {
            values[`${project.name}:${key}`] = spec.default;
        }
    }
    Object.assign(values, stackFile(stack), overrides);
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) {
        if (value !== undefined) {
            out[key] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return out;
}
