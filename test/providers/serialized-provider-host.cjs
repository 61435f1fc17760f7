// Loads a serialized dynamic provider the way @pulumi/pulumi/cmd/dynamic-provider does (require-from-string, then
// handler()) in a plain Node process with no TypeScript tooling, and drives it through check, create, a no-op diff,
// a diff against changed inputs, an update with unchanged inputs, read (refresh) where the provider has one, and
// delete. Input: env PROVIDER_FILE (serialized text), PROVIDER_INPUTS and PROVIDER_CHANGED_INPUTS (JSON). Output: JSON
// on stdout.
"use strict";
const fs = require("node:fs");
const requireFromString = require("require-from-string");

async function main() {
    const provider = requireFromString(fs.readFileSync(process.env.PROVIDER_FILE, "utf8")).handler();
    const inputs = JSON.parse(process.env.PROVIDER_INPUTS);
    const check = await provider.check({}, inputs);
    const created = await provider.create(check.inputs);
    const diff = await provider.diff(created.id, created.outs, check.inputs);
    const changed = await provider.check(created.outs, JSON.parse(process.env.PROVIDER_CHANGED_INPUTS));
    const changedDiff = await provider.diff(created.id, created.outs, changed.inputs);
    const updated = await provider.update(created.id, created.outs, check.inputs);
    const read = provider.read ? await provider.read(created.id, created.outs) : undefined;
    await provider.delete(created.id, created.outs);
    return { failures: check.failures, id: created.id, outs: created.outs, diff, changedDiff, updated, read };
}

main().then(
    (result) => process.stdout.write(JSON.stringify(result)),
    (error) => {
        process.stderr.write(String(error && error.stack ? error.stack : error));
        process.exitCode = 1;
    },
);
