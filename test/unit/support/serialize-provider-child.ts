/**
 * Child process of test/unit/dynamic-resource.test.ts: prints, as JSON, what `serializedProvider` gives for one of
 * the program's providers (argv[2]: "NameSuffix" or "LocalBundle"), after requiring the extra sources in argv[3..].
 */
import { serializedProvider } from "../../../dynamic-providers/dynamic-resource";
import { localBundleProvider } from "../../../dynamic-providers/local-bundle";
import { nameSuffixProvider } from "../../../dynamic-providers/name-suffix";

const providers = { NameSuffix: nameSuffixProvider, LocalBundle: localBundleProvider } as const;
const [type, ...extraSources] = process.argv.slice(2) as [keyof typeof providers, ...string[]];
for (const source of extraSources) require(source);
serializedProvider(`pulumi-nodejs:dynamic/stepca:${type}`, providers[type]).apply((text) => {
    process.stdout.write(JSON.stringify({ text }));
});
