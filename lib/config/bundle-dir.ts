/**
 * Whether local mode may write its bundle into a directory: only one it created (holding its marker file) or one
 * that is empty or missing. Anything else belongs to someone else, and the bundle would overwrite its files and, when
 * the setting changed back, delete them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { BUNDLE_MARKER } from "../step-ca/layout";

/** The problem with writing the bundle to `dir` (relative to the working directory), as a phrase, or undefined. */
export function localBundleDirProblem(dir: string): string | undefined {
    const absolute = path.resolve(dir);
    let entries: string[];
    try {
        entries = fs.readdirSync(absolute);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return undefined;
        return code === "ENOTDIR" ? `"${dir}" is a file, not a directory. Choose another path.` : undefined;
    }
    if (entries.length === 0 || entries.includes(BUNDLE_MARKER)) return undefined;
    return (
        `"${dir}" (${absolute}) is a directory this program did not create (it has no ${BUNDLE_MARKER} file and ` +
        "holds other files), so the bundle would overwrite them and later delete them. Choose an empty or new " +
        "directory: `pulumi config set localBundleDir .local/bundle`. (A bundle written by an older version of this " +
        `program: \`touch ${path.join(absolute, BUNDLE_MARKER)}\`.)`
    );
}
