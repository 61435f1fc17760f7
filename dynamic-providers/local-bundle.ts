import * as pulumi from "@pulumi/pulumi";

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
    { path: "caJson", content: "caJson", mode: 0o644 },
    { path: "defaultsJson", content: "defaultsJson", mode: 0o644 },
    { path: "rootCert", content: "rootCertPem", mode: 0o644 },
    { path: "intermediateCert", content: "intermediateCertPem", mode: 0o644 },
    { path: "password", content: "password", mode: 0o600 },
];

/**
 * Writes the step-ca bundle to local files: local mode's stand-in for the container's uploads. `read` reports
 * edited or missing files, so `refresh` shows drift and the next `up` rewrites them; `delete` removes only what it
 * wrote (step-ca's database stays).
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
        const replaces = JSON.stringify(olds.paths) !== JSON.stringify(news.paths) ? ["paths"] : [];
        const changes = replaces.length > 0 || FILES.some((f) => olds[f.content] !== news[f.content]);
        return { changes, replaces };
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

function writeBundle(state: BundleState): void {
    const fs = require("node:fs") as typeof import("node:fs");
    const nodePath = require("node:path") as typeof import("node:path");
    for (const file of FILES) {
        const path = state.paths[file.path];
        fs.mkdirSync(nodePath.dirname(path), { recursive: true, mode: 0o700 });
        fs.writeFileSync(path, state[file.content], { mode: file.mode });
        // writeFileSync keeps the mode of an existing file.
        fs.chmodSync(path, file.mode);
    }
}

/**
 * The step-ca bundle (ca.json, defaults.json, certificates, password file) in a local directory: what local mode
 * produces instead of a container. Point `STEPPATH` at the directory and run
 * `step-ca --password-file <password> <ca.json>`.
 */
export class LocalBundle extends pulumi.dynamic.Resource {
    declare readonly paths: pulumi.Output<LocalBundlePaths>;

    constructor(name: string, args: LocalBundleArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            localBundleProvider,
            name,
            args,
            { ...opts, additionalSecretOutputs: ["password"] },
            "stepca",
            "LocalBundle",
        );
    }
}
