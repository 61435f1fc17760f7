// Preloaded (`node --require`) by pulumi-resource-pulumi-nodejs into the dynamic-provider process, before its entry
// (process.argv[1], @pulumi/pulumi/cmd/dynamic-provider/index.js; the @pulumi/pulumi it resolves is the one affected).
// Every dynamic resource's check and diff waits for that process to start, on every `pulumi preview` and `pulumi up`;
// two changes cut its start without changing what it runs:
//   - Node's module compile cache ($NODE_COMPILE_CACHE, else os.tmpdir()/node-compile-cache). Written once the entry
//     has loaded: the engine stops providers with SIGINT, which skips Node's own write at exit.
//   - @pulumi/pulumi's closure serializer loaded on first use instead of at require time. The provider requires
//     @pulumi/pulumi/runtime, which loads the serializer eagerly: all of TypeScript (its typescript-shim, about half
//     the start), @pulumi/pulumi's root module with its automation API (serializeClosure) and normalize-package-data
//     (codePaths), though a provider never serializes a function; anything that does gets the real modules on first
//     use. Stand-ins in require.cache rather than a require hook: no frame of this file is on the stack of other
//     requires.
"use strict";
const Module = require("node:module");
const path = require("node:path");

if (typeof Module.enableCompileCache === "function") {
    Module.enableCompileCache();
    setImmediate(() => Module.flushCompileCache?.());
}

/**
 * Puts a stand-in for module `id` (as the entry resolves it) into require.cache; `exportsOf(real)` builds its
 * exports, where `real()` loads the module itself (once) and returns its exports.
 */
function deferModule(entry, id, exportsOf) {
    let file;
    try {
        file = Module.createRequire(entry).resolve(id);
    } catch {
        return; // another layout: leave loading as it is
    }
    let loaded;
    const real = () => {
        if (!loaded) {
            delete require.cache[file];
            loaded = require(file);
        }
        return loaded;
    };
    const standIn = new Module(file, null);
    standIn.filename = file;
    standIn.loaded = true;
    standIn.exports = exportsOf(real);
    require.cache[file] = standIn;
}

/**
 * Exports that load the real module on first access, except for reading one of `functions`: that gives a function
 * calling the real one, so it loads nothing until called.
 */
function deferredExports(functions = []) {
    return (real) => {
        const callers = new Map(functions.map((name) => [name, (...args) => real()[name](...args)]));
        // The target stays empty: V8 checks a trap's answer against the target, which must not load the module.
        return new Proxy(
            {},
            {
                get: (_, key) => callers.get(key) ?? real()[key],
                has: (_, key) => key in real(),
                ownKeys: () => Reflect.ownKeys(real()),
                // Reported configurable: the stand-in object itself has none of these properties.
                getOwnPropertyDescriptor: (_, key) => {
                    const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
                    return descriptor && { ...descriptor, configurable: true };
                },
            },
        );
    };
}

/**
 * The modules deferred, each with the functions another module reads from it while it loads (runtime/index.js copies
 * serializeFunction, serializeFunctionAsync and computeCodePaths into its own exports).
 */
const DEFERRED_MODULES = {
    "@pulumi/pulumi/typescript-shim": [],
    "@pulumi/pulumi/runtime/closure/serializeClosure": ["serializeFunction", "serializeFunctionAsync"],
    "@pulumi/pulumi/runtime/closure/codePaths": ["computeCodePaths"],
};
module.exports = { DEFERRED_MODULES };

// Only in the dynamic-provider process: a test requires this file for DEFERRED_MODULES alone.
const entry = process.argv[1];
if (entry?.endsWith(path.join("cmd", "dynamic-provider", "index.js"))) {
    for (const [id, functions] of Object.entries(DEFERRED_MODULES)) deferModule(entry, id, deferredExports(functions));
}
