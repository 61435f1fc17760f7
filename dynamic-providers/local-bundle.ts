import * as pulumi from "@pulumi/pulumi";
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
 * Writes the step-ca bundle to local files: local mode's stand-in for the container's uploads. Every write is
 * atomic ({@link writeBundle}). `read` reports edited or missing files, so `refresh` shows drift and the next `up`
 * rewrites them; `delete` removes only what it wrote (step-ca's database stays). New `paths` replace the bundle
 * delete-before-create: the old bundle's delete must not remove files the new one has just written to the paths
 * both share.
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
        const dirs = new Set<string>();
        for (const file of FILES) {
            fs.rmSync(props.paths[file.path], { force: true });
            dirs.add(nodePath.dirname(props.paths[file.path]));
        }
        for (const dir of dirs) {
            try {
                fs.rmdirSync(dir);
            } catch {
                // Not empty (someone else's files) or already gone: leave it.
            }
        }
    },
};

/**
 * Writes every file of the bundle to a temporary file next to its target (created with its final mode, fsynced),
 * and only once all of them are written renames each over its target. A failure while writing (disk full, a path
 * that cannot be created) removes the temporary files and leaves every target as it was: no half-written file,
 * and no mix of old and new files. Renaming over a target also gives it the new mode, whatever the old file had.
 */
function writeBundle(state: BundleState): void {
    const fs = require("node:fs") as typeof import("node:fs");
    const nodePath = require("node:path") as typeof import("node:path");
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const staged: { temp: string; target: string }[] = [];
    try {
        for (const file of FILES) {
            const target = state.paths[file.path];
            const dir = nodePath.dirname(target);
            fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
            const temp = nodePath.join(dir, `.${nodePath.basename(target)}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`);
            const fd = fs.openSync(temp, "wx", file.mode);
            staged.push({ temp, target });
            try {
                // openSync's mode is filtered by the umask; the bundle's modes are exact.
                fs.fchmodSync(fd, file.mode);
                fs.writeSync(fd, state[file.content]);
                fs.fsyncSync(fd);
            } finally {
                fs.closeSync(fd);
            }
        }
        for (const { temp, target } of staged) {
            fs.renameSync(temp, target);
        }
    } finally {
        for (const { temp } of staged) {
            fs.rmSync(temp, { force: true });
        }
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
