/**
 * scripts/local.sh's emulator handling, on a copy of the project (tracked files, node_modules linked, free ports):
 * a kmsEndpoint changed while the emulator runs on the old one restarts it on the new one, state kept.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { createKmsClient } from "../../lib/kms/client";
import { freePort } from "../support/free-port";
import { LOCATION, createKeyRing } from "./support";

const REPO = path.resolve(__dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-local-script-"));
const project = path.join(tmp, "project");

after(() => {
    const pid = Number(fs.readFileSync(path.join(project, ".local/kms-emulator.pid"), { encoding: "utf8", flag: "a+" }) || 0);
    if (pid) process.kill(pid, "SIGKILL");
    fs.rmSync(tmp, { recursive: true, force: true });
});

function copyProject(): void {
    const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: REPO, encoding: "utf8" }).split("\0").filter(Boolean);
    for (const file of tracked.filter((f) => fs.existsSync(path.join(REPO, f)))) {
        fs.mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
        fs.copyFileSync(path.join(REPO, file), path.join(project, file));
        // Same times: a package-lock.json newer than node_modules would make toolchain.sh run `npm ci`.
        const { atime, mtime } = fs.statSync(path.join(REPO, file));
        fs.utimesSync(path.join(project, file), atime, mtime);
    }
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(project, "node_modules"));
}

function setEndpoint(port: number): void {
    const file = path.join(project, "Pulumi.local.yaml");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/^(\s*stepca-cloudkms:kmsEndpoint:).*$/m, `$1 127.0.0.1:${port}`));
}

function localEmulator(proxyPort: number): string {
    const run = spawnSync("bash", ["scripts/local.sh", "emulator"], {
        cwd: project,
        env: { ...process.env, STEPCA_LOCAL_PROXY_PORT: String(proxyPort) },
        encoding: "utf8",
        timeout: 120_000,
    });
    assert.equal(run.status, 0, `local.sh emulator failed:\n${run.stderr}`);
    return run.stderr;
}

test("local.sh restarts a running emulator that is not on the stack's kmsEndpoint, keeping its state", { timeout: 180_000 }, async () => {
    copyProject();
    const [first, second, proxy] = [await freePort(), await freePort(), await freePort()];
    setEndpoint(first);
    assert.match(localEmulator(proxy), new RegExp(`starting the KMS emulator on 127\\.0\\.0\\.1:${first}`));
    const before = createKmsClient(`127.0.0.1:${first}`);
    const ring = await createKeyRing(before);
    await before.close();
    assert.match(localEmulator(proxy), /KMS emulator already running/, "the same endpoint keeps it");

    setEndpoint(second);
    const log = localEmulator(proxy);
    assert.match(log, new RegExp(`is not on kmsEndpoint 127\\.0\\.0\\.1:${second}: restarting it there`));
    assert.match(log, new RegExp(`starting the KMS emulator on 127\\.0\\.0\\.1:${second}`));
    const after = createKmsClient(`127.0.0.1:${second}`);
    try {
        const [rings] = await after.listKeyRings({ parent: LOCATION });
        assert.deepEqual(rings.map((r) => r.name), [ring], "same state file, same keys");
    } finally {
        await after.close();
    }
    const refused = await new Promise<boolean>((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port: first }).once("connect", () => (socket.destroy(), resolve(false)));
        socket.once("error", () => resolve(true));
    });
    assert.ok(refused, "nothing listens on the old endpoint any more");
});
