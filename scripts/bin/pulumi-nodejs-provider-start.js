// Preloaded (`node --require`) by pulumi-resource-pulumi-nodejs into the dynamic-provider process, before its entry
// (process.argv[1], @pulumi/pulumi/cmd/dynamic-provider/index.js; the @pulumi/pulumi it resolves is the one affected).
// Every dynamic resource's check and diff waits for that process to start, on every `pulumi preview` and `pulumi up`;
// two changes cut its start without changing what it runs:
//   - Node's module compile cache ($NODE_COMPILE_CACHE, else os.tmpdir()/node-compile-cache). Written once the entry
//     has loaded: the engine stops providers with SIGINT, which skips Node's own write at exit.
//   - @pulumi/pulumi's typescript-shim loaded on first use instead of at require time. The provider requires
//     @pulumi/pulumi/runtime, whose closure serializer loads all of TypeScript eagerly (about half the start), and
//     a provider never serializes a function; anything that does gets the real module on first access. A stand-in
//     in require.cache rather than a require hook: no frame of this file is on the stack of other requires.
"use strict";
const Module = require("node:module");

if (typeof Module.enableCompileCache === "function") {
    Module.enableCompileCache();
    setImmediate(() => Module.flushCompileCache?.());
}

function lazyTypescriptShim(entry) {
    let file;
    try {
        file = Module.createRequire(entry).resolve("@pulumi/pulumi/typescript-shim");
    } catch {
        return; // another layout: leave loading as it is
    }
    let typescript;
    const real = () => {
        if (!typescript) {
            delete require.cache[file];
            typescript = require(file);
        }
        return typescript;
    };
    const standIn = new Module(file, null);
    standIn.filename = file;
    standIn.loaded = true;
    standIn.exports = new Proxy(
        {},
        {
            get: (_, key) => real()[key],
            has: (_, key) => key in real(),
            ownKeys: () => Reflect.ownKeys(real()),
            // Reported configurable: the stand-in object itself has none of these properties.
            getOwnPropertyDescriptor: (_, key) => {
                const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
                return descriptor && { ...descriptor, configurable: true };
            },
        },
    );
    require.cache[file] = standIn;
}

if (process.argv[1]) lazyTypescriptShim(process.argv[1]);
