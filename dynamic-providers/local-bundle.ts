import * as pulumi from "@pulumi/pulumi";
import { BUNDLE_MARKER } from "../lib/step-ca/layout";
import { changedKeys } from "./provider-inputs";
import { DynamicResource } from "./dynamic-resource";

/** Where each file of the bundle goes (absolute paths; ca.json refers to them). */
export interface LocalBundlePaths {
    caJson: string;
    defaultsJson: string;
    rootCert: string;
    intermediateCert: string;
    password: string;
}

/** Inputs of {@link LocalBundle}. */
export interface LocalBundleArgs {
    paths: pulumi.Input<LocalBundlePaths>;
    caJson: pulumi.Input<string>;
    defaultsJson: pulumi.Input<string>;
    rootCertPem: pulumi.Input<string>;
    intermediateCertPem: pulumi.Input<string>;
    /** step-ca's password file (secret); written with mode 0600. */
    password: pulumi.Input<string>;
}

interface BundleState {
    paths: LocalBundlePaths;
    caJson: string;
    defaultsJson: string;
    rootCertPem: string;
    intermediateCertPem: string;
    password: string;
}

/** Which content goes to which path, and with what mode. */
const FILES: readonly { path: keyof LocalBundlePaths; content: Exclude<keyof BundleState, "paths">; mode: number }[] = [
    // ca.json may carry an OIDC client secret.
    { path: "caJson", content: "caJson", mode: 0o600 },
    { path: "defaultsJson", content: "defaultsJson", mode: 0o644 },
    { path: "rootCert", content: "rootCertPem", mode: 0o644 },
    { path: "intermediateCert", content: "intermediateCertPem", mode: 0o644 },
    { path: "password", content: "password", mode: 0o600 },
];

/**
 * Writes the step-ca bundle to local files: local mode's stand-in for the container's uploads. The bundle changes as
 * one unit ({@link writeBundle}): readers see the old generation or the new one, never a mix. `read` reports edited
 * or missing files, so `refresh` shows drift and the next `up` rewrites them; `delete` removes only what it wrote
 * (step-ca's database stays). New `paths` replace the bundle delete-before-create: the old bundle's delete must not
 * remove files the new one has just written to the paths both share.
 */
export const localBundleProvider: pulumi.dynamic.ResourceProvider<BundleState, BundleState> = {
    async create(inputs) {
        writeBundle(inputs);
        return { id: inputs.paths.caJson, outs: inputs };
    },

    async read(id, props) {
        if (!props) {
            throw new Error("LocalBundle cannot be imported");
        }
        const fs = require("node:fs") as typeof import("node:fs");
        if (!fs.existsSync(props.paths.caJson)) {
            return {};
        }
        const current: BundleState = { ...props };
        for (const file of FILES) {
            const path = props.paths[file.path];
            current[file.content] = fs.existsSync(path) ? fs.readFileSync(path, "utf8") : "";
        }
        return { id, props: current };
    },

    async diff(_id, olds, news) {
        const replaces = changedKeys(olds, news, ["paths"]);
        const changes = replaces.length > 0 || FILES.some((f) => olds[f.content] !== news[f.content]);
        return { changes, replaces, deleteBeforeReplace: true };
    },

    async update(_id, _olds, news) {
        writeBundle(news);
        return { outs: news };
    },

    async delete(_id, props) {
        const fs = require("node:fs") as typeof import("node:fs");
        const nodePath = require("node:path") as typeof import("node:path");
        const { root, tops } = bundleLayout(props.paths);
        for (const top of tops) {
            removeOldLayoutDir(props.paths, root, top);
            fs.rmSync(nodePath.join(root, top), { force: true });
        }
        fs.rmSync(nodePath.join(root, CURRENT), { force: true });
        fs.rmSync(nodePath.join(root, GENERATIONS), { recursive: true, force: true });
        fs.rmSync(nodePath.join(root, BUNDLE_MARKER), { force: true });
        removeStaleTemps(root);
    },
};

/** `<dir>/current`: a symlink to the published generation, swapped by rename. */
const CURRENT = "current";
/** `<dir>/generations/<id>/`: one complete bundle each. */
const GENERATIONS = "generations";

/**
 * The bundle's root directory (the STEPPATH: every path is `<root>/<top>/<file>`) and its top-level directories
 * (`config`, `certs`, `secrets`), each a symlink `<top> -> current/<top>`, so readers keep using the usual paths.
 */
function bundleLayout(paths: LocalBundlePaths): { root: string; tops: string[] } {
    const nodePath = require("node:path") as typeof import("node:path");
    const root = nodePath.dirname(nodePath.dirname(paths.caJson));
    const tops = new Set<string>();
    for (const file of FILES) {
        const relative = nodePath.relative(root, paths[file.path]).split(nodePath.sep);
        if (relative.length !== 2 || relative[0] === ".." || [CURRENT, GENERATIONS].includes(relative[0])) {
            throw new Error(`LocalBundle: ${paths[file.path]} is not <bundle dir>/<directory>/<file> below ${root}`);
        }
        tops.add(relative[0]);
    }
    return { root, tops: [...tops].sort() };
}

/**
 * Writes a new generation `<root>/generations/<id>/` (every file created with its final mode and fsynced), makes sure
 * each top-level directory is the symlink into `current`, then publishes the generation by renaming a new symlink
 * over `<root>/current` (atomic). A crash or failure before that rename leaves `current`, and so every reader, on the
 * old generation, complete. Each write first removes what earlier runs left: generations other than the published
 * one (the one before it is kept until then, for readers still in it) and temporary symlinks.
 */
function writeBundle(state: BundleState): void {
    const fs = require("node:fs") as typeof import("node:fs");
    const nodePath = require("node:path") as typeof import("node:path");
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const { root, tops } = bundleLayout(state.paths);
    fs.mkdirSync(nodePath.join(root, GENERATIONS), { recursive: true, mode: 0o700 });
    fs.writeFileSync(nodePath.join(root, BUNDLE_MARKER), "Written by the stepca-cloudkms Pulumi program (local mode).\n");
    const published = publishedGeneration(root);
    removeStaleTemps(root);
    for (const old of fs.readdirSync(nodePath.join(root, GENERATIONS))) {
        if (old !== published) fs.rmSync(nodePath.join(root, GENERATIONS, old), { recursive: true, force: true });
    }
    const id = `${Date.now()}-${crypto.randomBytes(4).toString("hex")}`;
    const generation = nodePath.join(root, GENERATIONS, id);
    try {
        for (const file of FILES) {
            const target = nodePath.join(generation, nodePath.relative(root, state.paths[file.path]));
            fs.mkdirSync(nodePath.dirname(target), { recursive: true, mode: 0o700 });
            const fd = fs.openSync(target, "wx", file.mode);
            try {
                // openSync's mode is filtered by the umask; the bundle's modes are exact.
                fs.fchmodSync(fd, file.mode);
                fs.writeSync(fd, state[file.content]);
                fs.fsyncSync(fd);
            } finally {
                fs.closeSync(fd);
            }
        }
        for (const top of tops) linkTop(state.paths, root, top);
        replaceSymlink(nodePath.join(GENERATIONS, id), nodePath.join(root, CURRENT));
    } catch (error) {
        fs.rmSync(generation, { recursive: true, force: true });
        throw error;
    }
}

/** The generation `current` points at, if any. */
function publishedGeneration(root: string): string | undefined {
    const fs = require("node:fs") as typeof import("node:fs");
    const nodePath = require("node:path") as typeof import("node:path");
    try {
        return nodePath.basename(fs.readlinkSync(nodePath.join(root, CURRENT)));
    } catch {
        return undefined;
    }
}

/** `<root>/<top>` as the symlink `current/<top>`, replacing the plain directory an older version of this program wrote. */
function linkTop(paths: LocalBundlePaths, root: string, top: string): void {
    const fs = require("node:fs") as typeof import("node:fs");
    const nodePath = require("node:path") as typeof import("node:path");
    const link = nodePath.join(root, top);
    const wanted = nodePath.join(CURRENT, top);
    const stat = fs.lstatSync(link, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink() && fs.readlinkSync(link) === wanted) return;
    if (stat?.isDirectory()) {
        removeOldLayoutDir(paths, root, top);
    } else if (stat && !stat.isSymbolicLink()) {
        throw new Error(`LocalBundle: ${link} is in the way (not a directory this program wrote); move it away`);
    }
    replaceSymlink(wanted, link);
}

/** Removes this bundle's files from a plain `<root>/<top>` directory (the layout before generations), then the directory. */
function removeOldLayoutDir(paths: LocalBundlePaths, root: string, top: string): void {
    const fs = require("node:fs") as typeof import("node:fs");
    const nodePath = require("node:path") as typeof import("node:path");
    const dir = nodePath.join(root, top);
    if (!fs.lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return;
    for (const file of FILES) {
        if (nodePath.dirname(paths[file.path]) === dir) fs.rmSync(paths[file.path], { force: true });
    }
    for (const entry of fs.readdirSync(dir)) {
        if (/^\..*\.tmp$/.test(entry)) fs.rmSync(nodePath.join(dir, entry), { force: true });
    }
    try {
        fs.rmdirSync(dir);
    } catch {
        throw new Error(`LocalBundle: ${dir} holds files this program did not write (${fs.readdirSync(dir).join(", ")}); move them away`);
    }
}

/** Points `link` at `target` atomically: a new symlink under a temporary name, renamed over `link`. */
function replaceSymlink(target: string, link: string): void {
    const fs = require("node:fs") as typeof import("node:fs");
    const nodePath = require("node:path") as typeof import("node:path");
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const temp = nodePath.join(nodePath.dirname(link), `.${nodePath.basename(link)}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`);
    fs.symlinkSync(target, temp);
    try {
        fs.renameSync(temp, link);
    } catch (error) {
        fs.rmSync(temp, { force: true });
        throw error;
    }
}

/** Temporary symlinks a killed write left in the bundle root. */
function removeStaleTemps(root: string): void {
    const fs = require("node:fs") as typeof import("node:fs");
    const nodePath = require("node:path") as typeof import("node:path");
    for (const entry of fs.existsSync(root) ? fs.readdirSync(root) : []) {
        if (/^\..*\.tmp$/.test(entry)) fs.rmSync(nodePath.join(root, entry), { force: true });
    }
}

/**
 * The step-ca bundle (ca.json, defaults.json, certificates, password file) in a local directory: what local mode
 * produces instead of a container. Point `STEPPATH` at the directory and run
 * `step-ca --password-file <password> <ca.json>`.
 */
export class LocalBundle extends DynamicResource {
    declare readonly paths: pulumi.Output<LocalBundlePaths>;

    constructor(name: string, args: LocalBundleArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            localBundleProvider,
            name,
            args,
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["password"] }),
            "stepca",
            "LocalBundle",
        );
    }
}
