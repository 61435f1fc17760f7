/**
 * STAND-IN for what Container-Optimized OS does with the instance template's `user-data` at boot, for the subset the
 * program's cloud-config uses: cloud-init's `write_files` (path, permissions, content) and `runcmd`, and systemd
 * starting the units it wrote (ExecStartPre, then ExecStart, split as systemd splits them). The VM's file system is a
 * temp dir: every absolute path lands below it. Anything else in the cloud-config is refused, so a new directive
 * makes this test fail until it is handled here.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

export interface WrittenFile {
    readonly path: string;
    readonly permissions: string;
    readonly content: string;
}

export interface CloudConfig {
    readonly writeFiles: WrittenFile[];
    readonly runcmd: string[][];
}

/** Parses the cloud-config the way cloud-init reads it: `#cloud-config` header, YAML, known keys only. */
export function parseCloudConfig(text: string): CloudConfig {
    if (!text.startsWith("#cloud-config\n")) throw new Error("user-data does not start with #cloud-config");
    const doc = yaml.load(text) as Record<string, unknown>;
    const unknown = Object.keys(doc).filter((k) => !["write_files", "runcmd"].includes(k));
    if (unknown.length > 0) throw new Error(`the VM stand-in does not implement cloud-config keys ${unknown.join(", ")}`);
    const writeFiles = (doc.write_files as Record<string, unknown>[]).map((f) => {
        const extra = Object.keys(f).filter((k) => !["path", "permissions", "content"].includes(k));
        if (extra.length > 0) throw new Error(`write_files ${f.path}: the stand-in does not implement ${extra.join(", ")}`);
        return { path: String(f.path), permissions: String(f.permissions), content: String(f.content) };
    });
    return { writeFiles, runcmd: (doc.runcmd as unknown[][]).map((c) => c.map(String)) };
}

/** A VM's file system below `root`. */
export class VmFileSystem {
    constructor(readonly root: string) {}

    /** Where an absolute VM path is on this machine. */
    onVm(vmPath: string): string {
        if (!vmPath.startsWith("/")) throw new Error(`${vmPath} is not an absolute path`);
        return path.join(this.root, vmPath);
    }

    /** cloud-init's write_files: parents created, content written, permissions set (owner root). */
    writeFiles(files: readonly WrittenFile[]): void {
        for (const f of files) {
            const target = this.onVm(f.path);
            fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
            fs.writeFileSync(target, f.content);
            fs.chmodSync(target, parseInt(f.permissions, 8));
        }
    }
}

export interface UnitFile {
    readonly description: string;
    readonly after: string[];
    readonly restart: string;
    /** Each ExecStartPre/ExecStart: its argv, and whether a failure is ignored (the `-` prefix). */
    readonly execStartPre: { argv: string[]; ignoreFailure: boolean }[];
    readonly execStart: { argv: string[]; ignoreFailure: boolean };
}

/** Splits a command line as systemd does for Exec*: whitespace, double quotes with \\ and \" escapes, %% for %. */
export function splitSystemdCommand(line: string): { argv: string[]; ignoreFailure: boolean } {
    let rest = line;
    const ignoreFailure = rest.startsWith("-");
    if (ignoreFailure) rest = rest.slice(1);
    const argv: string[] = [];
    let i = 0;
    while (i < rest.length) {
        while (rest[i] === " ") i++;
        if (i >= rest.length) break;
        let word = "";
        if (rest[i] === '"') {
            i++;
            while (i < rest.length && rest[i] !== '"') {
                if (rest[i] === "\\" && i + 1 < rest.length) i++;
                word += rest[i++];
            }
            if (rest[i] !== '"') throw new Error(`unterminated quote in ${line}`);
            i++;
        } else {
            while (i < rest.length && rest[i] !== " ") word += rest[i++];
        }
        argv.push(word.replace(/%%/g, "%"));
    }
    return { argv, ignoreFailure };
}

/** Reads a unit file the program writes ([Unit], [Service], [Install]). */
export function parseUnit(text: string): UnitFile {
    const values: Record<string, string[]> = {};
    let section = "";
    for (const raw of text.split("\n")) {
        const line = raw.trim();
        if (!line || line.startsWith("#")) continue;
        const header = /^\[(\w+)\]$/.exec(line);
        if (header) {
            section = header[1];
            continue;
        }
        const eq = line.indexOf("=");
        if (eq < 0) throw new Error(`unit line without "=": ${line}`);
        (values[`${section}.${line.slice(0, eq)}`] ??= []).push(line.slice(eq + 1));
    }
    const one = (key: string) => {
        const v = values[key];
        if (!v || v.length !== 1) throw new Error(`unit: expected one ${key}, got ${v?.length ?? 0}`);
        return v[0];
    };
    return {
        description: one("Unit.Description"),
        after: one("Unit.After").split(" "),
        restart: one("Service.Restart"),
        execStartPre: (values["Service.ExecStartPre"] ?? []).map(splitSystemdCommand),
        execStart: splitSystemdCommand(one("Service.ExecStart")),
    };
}
