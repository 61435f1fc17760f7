import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { createKmsClient } from "../../lib/kms/client";
import { createKeyRing, createKmsClientViaProxy, createSigningKey } from "./support";

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

/** `node --import tsx kms-emulator/credentials-cli.ts DIR`, as scripts/local.sh runs it. */
function writeCredentials(dir: string) {
    return spawnSync(process.execPath, ["--import", "tsx", "kms-emulator/credentials-cli.ts", dir], { cwd: repoRoot, encoding: "utf8" });
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

test("kms-emulator/credentials-cli.ts writes the throwaway TLS identity and service account once, then keeps them", () => {
    const dir = path.join(scratch, "credentials");
    const first = writeCredentials(dir);
    assert.equal(first.status, 0, first.stderr);
    const files = ["tls.key", "tls.crt", "tls-ca.crt", "service-account.json"];
    assert.deepEqual(first.stdout.trim().split("\n"), files.map((f) => `wrote ${path.join(dir, f)}`));
    for (const secret of ["tls.key", "service-account.json"]) assert.equal(fs.statSync(path.join(dir, secret)).mode & 0o777, 0o600, secret);
    const before = files.map((f) => fs.readFileSync(path.join(dir, f), "utf8"));
    const second = writeCredentials(dir);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, "");
    assert.deepEqual(files.map((f) => fs.readFileSync(path.join(dir, f), "utf8")), before);
});

test("npm run kms-emulator --tls-port --connect-proxy-port: plaintext, and TLS as cloudkms.googleapis.com through the proxy", async () => {
    const dir = path.join(scratch, "tls-credentials");
    assert.equal(writeCredentials(dir).status, 0);
    const run = runCli(["--port", "0", "--tls-port", "0", "--tls-cert", path.join(dir, "tls.crt"), "--tls-key", path.join(dir, "tls.key"), "--connect-proxy-port", "0"]);
    const [, proxyUrl, tunnelTo] = await run.waitFor(/CONNECT proxy listening on (http:\/\/127\.0\.0\.1:\d+), tunnelling cloudkms\.googleapis\.com:443 to TLS port (\d+)\n/);
    const [, address, tlsAddress] = await run.waitFor(/Cloud KMS emulator listening on (127\.0\.0\.1:\d+) \(plaintext gRPC\) and (127\.0\.0\.1:\d+) \(TLS\), in-memory/);
    assert.equal(tlsAddress, `127.0.0.1:${tunnelTo}`);

    const plaintext = createKmsClient(address);
    const viaProxy = await createKmsClientViaProxy(proxyUrl, fs.readFileSync(path.join(dir, "tls-ca.crt"), "utf8"));
    const ring = await createKeyRing(plaintext);
    const [seen] = await viaProxy.getKeyRing({ name: ring });
    assert.equal(seen.name, ring);
    await Promise.all([plaintext.close(), viaProxy.close()]);

    killGroup(run.child, "SIGTERM");
    assert.equal(await run.exited, 0);
    assert.match(run.output().stdout, /stopped on SIGTERM/);
});

test("npm run kms-emulator: bad arguments fail fast with the usage", async () => {
    const cases: [string[], RegExp][] = [
        [["--port", "eighty"], /--port must be a non-negative integer/],
        [["--tls-cert", "c.pem", "--tls-key", "k.pem"], /--tls-port, --tls-cert and --tls-key go together/],
        [["--connect-proxy-port", "0"], /--connect-proxy-port needs --tls-port/],
    ];
    for (const [args, message] of cases) {
        const run = runCli(args);
        assert.notEqual(await run.exited, 0, args.join(" "));
        assert.match(run.output().stderr, new RegExp(`${message.source}[\\s\\S]*Usage:`));
    }
});
