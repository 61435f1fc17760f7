/**
 * A LocalBundle write that stops dead at a chosen point, for the crash test: `fsync:N` blocks in the N-th file's
 * fsync (files half written), `publish` blocks just before `current` is renamed (a temporary symlink exists). It
 * prints "blocked" and waits to be killed. Argument 2: a JSON file holding the old state and the new inputs.
 */
import { localBundleProvider } from "../../../dynamic-providers/local-bundle";

// The module object itself (an `import *` namespace is read-only): the provider requires the same one.
const fs = require("node:fs") as typeof import("node:fs");
const [where, inputsFile] = process.argv.slice(2);
const block = () => {
    process.stdout.write("blocked\n");
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // until SIGKILL
};
let fsyncs = 0;
const fsync = fs.fsyncSync;
fs.fsyncSync = (fd) => {
    if (where === `fsync:${++fsyncs}`) block();
    fsync(fd);
};
const rename = fs.renameSync;
fs.renameSync = (from, to) => {
    if (where === "publish" && String(to).endsWith("/current")) block();
    rename(from, to);
};
const { olds, news } = JSON.parse(fs.readFileSync(inputsFile, "utf8"));
void localBundleProvider.update!(olds.paths.caJson, olds, news);
