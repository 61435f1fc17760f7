import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT_DIR } from "./stack-files";

/**
 * The provider as Pulumi stores it: serialized with the closure serializer (as `pulumi.dynamic.Resource` does)
 * and loaded back from that text the way the dynamic-provider host does, resolving packages from the project.
 */
export async function reloadSerialized<T extends pulumi.dynamic.ResourceProvider>(provider: T): Promise<T> {
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    const requireFromString = require("require-from-string") as (code: string, filename: string) => { handler(): T };
    return requireFromString(serialized.text, path.join(PROJECT_DIR, "serialized-provider.js")).handler();
}
