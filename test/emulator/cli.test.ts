import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { createKmsClient } from "../../lib/kms-client";
import { createKeyRing, createSigningKey } from "./support";

const repoRoot = path.resolve(__dirname, "../..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "kms-cli-"));
const running = new Set<ChildProcess>();
after(() => {
    for (const child of running) killGroup(child, "SIGKILL");
    fs.rmSync(scratch, { recursive: true, force: true });
});

/** `npm run kms-emulator -- …` in its own process group, as a terminal or a supervisor runs it. */
function runCli(args: string[]) {
    const child = spawn("npm", ["run", "--silent", "kms-emulator", "--", ...args], { cwd: repoRoot, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("close", (code) => (running.delete(child), resolve(code))));
    const output = () => ({ stdout, stderr });
    const waitFor = async (pattern: RegExp, ms = 30_000): Promise<RegExpExecArray> => {
        const deadline = Date.now() + ms;
        for (;;) {
            const match = pattern.exec(stdout);
            if (match) return match;
            if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${pattern} in output:\n${stdout}\n${stderr}`);
            await new Promise((r) => setTimeout(r, 50));
        }
    };
    return { child, exited, output, waitFor };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    try {
        process.kill(-child.pid!, signal);
    } catch {
        // already gone
    }
}

const STARTED = /Cloud KMS emulator listening on (127\.0\.0\.1:\d+) \(plaintext gRPC\), state file (\S+)\n/;

test("npm run kms-emulator: startup line, serves the real client, stops cleanly on SIGTERM/SIGINT keeping its keys", async () => {
    const stateFile = path.join(scratch, "state.json");

    const first = runCli(["--port", "0", "--state", stateFile]);
    const [, address, reportedFile] = await first.waitFor(STARTED);
    assert.equal(reportedFile, stateFile);
    let client = createKmsClient(address);
    const key = await createSigningKey(client, await createKeyRing(client), "EC_SIGN_P256_SHA256");
    const [publicKey] = await client.getPublicKey({ name: `${key}/cryptoKeyVersions/1` });
    await client.close();

    killGroup(first.child, "SIGTERM");
    await first.exited;
    assert.match(first.output().stdout, new RegExp(`stopped on SIGTERM, state saved to ${stateFile}`));
    assert.equal(fs.statSync(stateFile).mode & 0o777, 0o600);

    const second = runCli(["--port", "0", "--state", stateFile]);
    const [, secondAddress] = await second.waitFor(STARTED);
    client = createKmsClient(secondAddress);
    const [again] = await client.getPublicKey({ name: `${key}/cryptoKeyVersions/1` });
    assert.equal(again.pem, publicKey.pem, "the key survived the restart");
    await client.close();
    killGroup(second.child, "SIGINT");
    await second.exited;
    assert.match(second.output().stdout, /stopped on SIGINT/);
});

test("npm run kms-emulator: bad arguments fail fast with the usage", async () => {
    const run = runCli(["--port", "eighty"]);
    assert.notEqual(await run.exited, 0);
    assert.match(run.output().stderr, /--port must be a non-negative integer[\s\S]*Usage:/);
});
