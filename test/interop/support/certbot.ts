/**
 * certbot from PyPI, a third-party ACME client, installed at a pinned version into a virtualenv cached under
 * $HOME/.cache/stepca-cloudkms (a fresh machine needs Python 3 with venv and the PyPI index; the first install takes
 * a minute). Installs are serialized with flock; a marker written last tells a complete install from a broken one.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const CERTBOT_VERSION = "5.8.0";

/** Why certbot cannot be installed here (no python3 with venv), or undefined when it can. */
export function certbotUnavailable(): string | undefined {
    const probe = spawnSync("python3", ["-c", "import venv, ensurepip"], { stdio: "ignore" });
    return probe.error || probe.status !== 0
        ? "Python 3 with the venv and ensurepip modules (`python3 -m venv`), to install certbot from PyPI"
        : undefined;
}

/** The certbot executable, installing it on first use. */
export function installCertbot(): string {
    const cache = process.env.STEPCA_CLOUDKMS_CACHE ?? path.join(os.homedir(), ".cache/stepca-cloudkms");
    const venv = path.join(cache, `certbot-${CERTBOT_VERSION}`);
    const certbot = path.join(venv, "bin/certbot");
    // Written last: a venv records its own path, so it is built in place, and an interrupted build has no marker.
    const complete = path.join(venv, ".installed");
    if (fs.existsSync(complete)) {
        return certbot;
    }
    fs.mkdirSync(cache, { recursive: true });
    const script = [
        "set -euo pipefail",
        `[ -e "${complete}" ] && exit 0`,
        `rm -rf "${venv}"`,
        `python3 -m venv "${venv}"`,
        `"${venv}/bin/pip" install --quiet --disable-pip-version-check "certbot==${CERTBOT_VERSION}"`,
        `"${certbot}" --version`,
        `touch "${complete}"`,
    ].join("\n");
    console.error(`installing certbot ${CERTBOT_VERSION} from PyPI into ${venv}`);
    const r = spawnSync("flock", [path.join(cache, ".install-certbot.lock"), "bash", "-c", script], {
        stdio: ["ignore", "inherit", "inherit"],
    });
    if (r.status !== 0 || !fs.existsSync(complete)) {
        throw new Error(`installing certbot ${CERTBOT_VERSION} from PyPI into ${venv} failed (exit ${r.status})`);
    }
    return certbot;
}
