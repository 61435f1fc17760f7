import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/**
 * Base of this program's dynamic resources: `pulumi.dynamic.Resource`, with the serialized provider cached on disk.
 *
 * Pulumi serializes a dynamic resource's provider (its code and everything it captures) into the resource's
 * `__provider` input on every run, previews included. For this program's providers that is over a second of CPU, most
 * of what a no-op `pulumi preview` or `pulumi up` spends beyond an empty program. The text depends only on the code
 * loaded and the packages installed, so it is cached (see {@link serializedProvider}); it is produced exactly as
 * `pulumi.dynamic.Resource` produces it (same serializer, arguments and captured name), so `__provider` is the same
 * text with or without the cache.
 */
export abstract class DynamicResource extends pulumi.CustomResource {
    protected constructor(
        provider: pulumi.dynamic.ResourceProvider,
        name: string,
        props: pulumi.Inputs,
        opts: pulumi.CustomResourceOptions | undefined,
        module: string,
        type: string,
    ) {
        if (PROVIDER_KEY in props) throw new Error("A dynamic resource must not define the __provider key");
        const token = `pulumi-nodejs:dynamic/${module}:${type}`;
        super(token, name, { ...props, [PROVIDER_KEY]: serializedProvider(token, provider) }, opts);
    }
}

const PROVIDER_KEY = "__provider";

/** Overrides where serialized providers are cached (tests use a directory of their own). */
export const CACHE_DIR_ENV = "STEPCA_PROVIDER_CACHE_DIR";

/** One serialization per provider object and process, as Pulumi does. */
const inProcess = new WeakMap<pulumi.dynamic.ResourceProvider, pulumi.Output<string>>();

/**
 * The provider object of each resource type. Providers built by one factory share their method texts and differ only
 * in what they capture, which the cache key cannot see: the type tells them apart, so it must have one provider.
 */
const providerOfType = new Map<string, pulumi.dynamic.ResourceProvider>();

/**
 * The provider's serialized text (a secret output when it captured a secret). Cached under
 * node_modules/.cache/stepca-cloudkms/providers/ (or $STEPCA_PROVIDER_CACHE_DIR), keyed by a hash of: the resource type, every project source file loaded in this
 * process (a superset of the modules the provider captures by value, which are loaded before it exists),
 * package-lock.json (the packages it captures by reference), tsconfig.json, the Node.js and @pulumi/pulumi versions,
 * the loader compiling TypeScript and the provider's own (compiled) method texts. Any change to one of them is a new key, so a stale text is
 * never used. Cache failures (read-only node_modules, a torn file) fall back to serializing.
 */
export function serializedProvider(type: string, provider: pulumi.dynamic.ResourceProvider): pulumi.Output<string> {
    const known = providerOfType.get(type);
    if (known && known !== provider) {
        throw new Error(`${type} is used with two provider objects; each dynamic resource type needs exactly one`);
    }
    providerOfType.set(type, provider);
    let text = inProcess.get(provider);
    if (!text) {
        text = pulumi
            .output(cachedSerialization(type, provider))
            .apply((s): pulumi.Output<string> => (s.containsSecrets ? pulumi.secret(s.text) : pulumi.output(s.text)));
        inProcess.set(provider, text);
    }
    return text;
}

interface Serialized {
    readonly text: string;
    readonly containsSecrets: boolean;
}

async function cachedSerialization(type: string, provider: pulumi.dynamic.ResourceProvider): Promise<Serialized> {
    const file = cacheFile(type, provider);
    const cached = file && readCache(file);
    if (cached) return cached;
    // `provider` is the name pulumi.dynamic.Resource's serializer captures: it is part of the text.
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    const result = { text: serialized.text, containsSecrets: serialized.containsSecrets };
    if (file) writeCache(file, result);
    return result;
}

function cacheFile(type: string, provider: pulumi.dynamic.ResourceProvider): string | undefined {
    try {
        const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
        const nodeModules = path.resolve(pulumiDir, "../..");
        const hash = crypto.createHash("sha256");
        const part = (label: string, value: string | Buffer) => hash.update(`${label}\0${value.length}\0`).update(value);
        part("type", type);
        part("node", process.version);
        part("pulumi", JSON.parse(fs.readFileSync(path.join(pulumiDir, "package.json"), "utf8")).version);
        part("cwd", process.cwd());
        part("lock", fs.readFileSync(path.join(nodeModules, "../package-lock.json")));
        part("tsconfig", fs.readFileSync(path.join(nodeModules, "../tsconfig.json")));
        part("loader", `${process.execArgv.join(" ")}\0${String(require.extensions[".ts"] ?? "none")}`);
        for (const [method, fn] of Object.entries(provider)) part(`method ${method}`, String(fn));
        for (const source of Object.keys(require.cache).filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`)).sort()) {
            part(`source ${source}`, fs.readFileSync(source));
        }
        const dir = process.env[CACHE_DIR_ENV] || path.join(nodeModules, ".cache", "stepca-cloudkms", "providers");
        return path.join(dir, `${hash.digest("hex")}.json`);
    } catch {
        return undefined;
    }
}

function readCache(file: string): Serialized | undefined {
    try {
        const value = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Serialized>;
        if (typeof value.text === "string" && typeof value.containsSecrets === "boolean") {
            return { text: value.text, containsSecrets: value.containsSecrets };
        }
    } catch {
        // missing or unreadable: serialize
    }
    return undefined;
}

/** Entries not read for this long (by atime) are removed when a new one is written: each code change makes new ones. */
const CACHE_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** Written to a temporary name and renamed, so concurrent runs never read a partial file. */
function writeCache(file: string, value: Serialized): void {
    try {
        const dir = path.dirname(file);
        fs.mkdirSync(dir, { recursive: true });
        for (const entry of fs.readdirSync(dir)) {
            const old = path.join(dir, entry);
            if (Date.now() - fs.statSync(old).atimeMs > CACHE_MAX_AGE_MS) fs.rmSync(old, { force: true });
        }
        const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
        fs.writeFileSync(temp, JSON.stringify(value));
        fs.renameSync(temp, file);
    } catch {
        // read-only or full: the next run serializes again
    }
}
