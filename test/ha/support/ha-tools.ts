import { spawn } from "node:child_process";
import * as path from "node:path";

const INSTALL_SCRIPT = path.resolve(__dirname, "../../../scripts/install-ha-tools.sh");

/** What the HA test needs besides step-ca and the step CLI, and why (test/support/real-tools.ts checks them). */
export const HA_TOOLS_NEEDED = {
    haproxy: "the TCP passthrough load balancer in front of the replicas (scripts/install-ha-tools.sh installs Debian's)",
    postgresql: "the replicas' shared database, as Cloud SQL is on GCP (scripts/install-ha-tools.sh installs Debian's)",
} as const;

/**
 * Runs scripts/install-ha-tools.sh (a no-op when HAProxy and PostgreSQL 15 are there). Resolves to its error output
 * when it failed, so the caller can say why before skipping or failing; progress goes to this process's stderr.
 */
export async function installHaTools(): Promise<string | undefined> {
    const child = spawn("bash", [INSTALL_SCRIPT], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
        err += d;
        process.stderr.write(d);
    });
    const code = await new Promise<number | null>((resolve) => {
        child.once("error", (e) => {
            err += e.message;
            resolve(null);
        });
        child.once("close", resolve);
    });
    return code === 0 ? undefined : `scripts/install-ha-tools.sh failed (exit ${code}): ${err.trim().split("\n").pop()}`;
}
