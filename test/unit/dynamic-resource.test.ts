import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { CACHE_DIR_ENV, serializedProvider } from "../../dynamic-providers/dynamic-resource";
import { localBundleProvider } from "../../dynamic-providers/local-bundle";
import { nameSuffixProvider } from "../../dynamic-providers/name-suffix";

const CHILD = path.join(__dirname, "support/serialize-provider-child.ts");

/** serializedProvider in a fresh process (so only the disk cache is shared), with the cache in `cacheDir`. */
function inChild(cacheDir: string, type: string, ...extraSources: string[]): string {
    const out = execFileSync(process.execPath, ["--import", "tsx", CHILD, type, ...extraSources], {
        env: { ...process.env, [CACHE_DIR_ENV]: cacheDir },
        encoding: "utf8",
    });
    return (JSON.parse(out) as { text: string }).text;
}

function cacheEntries(dir: string): string[] {
    return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

describe("dynamic resources: the serialized provider and its cache", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-provider-cache-"));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("is the text pulumi.dynamic.Resource stores, from the cache or not", async () => {
        // As pulumi.dynamic.Resource does it: the provider in a local named `provider`.
        const provider = nameSuffixProvider;
        const pulumiText = (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
        const ours = await new Promise<string>((resolve) =>
            serializedProvider("pulumi-nodejs:dynamic/stepca:NameSuffix", nameSuffixProvider).apply(resolve),
        );
        assert.equal(ours, pulumiText);
        const dir = path.join(tmp, "same");
        assert.equal(inChild(dir, "NameSuffix"), pulumiText, "first process: serialized");
        assert.equal(cacheEntries(dir).length, 1);
        assert.equal(inChild(dir, "NameSuffix"), pulumiText, "second process: from the cache");
    });

    it("is read from the cache by the next process, keyed by type and by every source file loaded", () => {
        const dir = path.join(tmp, "keys");
        inChild(dir, "NameSuffix");
        const [entry] = cacheEntries(dir);
        // A planted entry shows the next process reads the cache instead of serializing.
        fs.writeFileSync(path.join(dir, entry), JSON.stringify({ text: "from the cache", containsSecrets: false }));
        assert.equal(inChild(dir, "NameSuffix"), "from the cache");
        // Another type, or one more source file loaded (as after an edit anywhere in the project): a new key.
        assert.notEqual(inChild(dir, "LocalBundle"), "from the cache");
        const extra = path.join(tmp, "extra-source.js");
        fs.writeFileSync(extra, "module.exports = 1;\n");
        assert.notEqual(inChild(dir, "NameSuffix", extra), "from the cache");
        fs.writeFileSync(extra, "module.exports = 2;\n");
        assert.notEqual(inChild(dir, "NameSuffix", extra), "from the cache");
        assert.equal(cacheEntries(dir).length, 4);
    });

    it("refuses a second provider object for a type (the key could not tell them apart)", () => {
        assert.throws(
            () => serializedProvider("pulumi-nodejs:dynamic/stepca:NameSuffix", localBundleProvider),
            /NameSuffix is used with two provider objects/,
        );
    });
});
