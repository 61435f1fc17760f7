/**
 * The program run by the real Pulumi engine on a throwaway local stack: the CLI built from Go modules
 * (scripts/install-pulumi.sh, cached under $HOME), driven through the Automation API, with a file backend and the
 * passphrase secrets provider in a temp directory, and the KMS emulator in-process so its calls can be counted.
 *
 * Steps (each depends on the ones before; after a failure the rest are skipped):
 *   0. an up killed (SIGKILL, whole process group) while the emulator holds CreateKeyRing's answers → the stack is
 *      locked, `pulumi cancel` frees it, the rings are pending creates, refresh --clear-pending-creates drops them
 *   1. up → adopts the rings the killed run made (no orphan ENABLED version); outputs present, root fingerprint
 *      matches the root PEM, chain verifies with openssl, bundle written
 *   2. second up → no changes, zero KMS calls
 *   3. a new intermediate common name → exactly the intermediate replaced (and the bundle rewritten); chain verifies
 *   4. refresh → clean; intermediate key version DISABLED on the emulator → refresh preview and preview report it
 *      (an update, never a replacement); up fails with the state and the gcloud fix; re-enabled → up heals it, no re-mint
 *   4b. the emulator moved to another port (same state), kmsEndpoint changed → preview and up change nothing
 *   4c. offlineRootKey on → root key version DISABLED after up, after a renewal forced by config, after a failed
 *      mint, after refresh; enabled behind Pulumi's back → preview shows an update, up disables it
 *   5. exported state (secrets not shown) holds no private key material and no plaintext secret
 *   6. destroy → every key version on the emulator DESTROY_SCHEDULED, state empty
 *   7. up again after destroy succeeds (new keys: key names are never reused)
 *
 * Without Go the CLI cannot be built: the test skips, loudly — or fails, with STEPCA_REQUIRE_REAL_TESTS=1 (.ci/run
 * sets it), through the check shared with the interop test (test/support/real-tools.ts).
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { test } from "node:test";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import type { OutputMap } from "@pulumi/pulumi/automation";
import { type KmsEmulator, startKmsEmulator } from "../../kms-emulator/index";
import { createKmsClient } from "../../lib/kms/client";
import { cryptoKeyNameOf } from "../../lib/kms/names";
import { onlySame, Ops, pulumiBinDir, sequentialSteps, throwawayStack } from "../support/pulumi-engine";
import { realToolsPresent } from "../support/real-tools";

const STACK = "engine";
const PASSPHRASE = "engine-test-passphrase";
const INTERMEDIATE_CN = "Engine Test Intermediate CA";
const INTERMEDIATE_CN_2 = "Engine Test Intermediate CA (renamed)";

const run = promisify(execFile);

/** What this test needs on the machine (checked by test/support/real-tools.ts), and why. */
const ENGINE_TOOLS_NEEDED = {
    go: "the Pulumi CLI and language host are built from the Go modules by scripts/install-pulumi.sh",
    bash: "runs scripts/install-pulumi.sh",
    flock: "scripts/install-pulumi.sh serializes builds with it",
    openssl: "the certificate chain is verified with it",
} as const;

function stackConfigYaml(kmsEndpoint: string, bundleDir: string): string {
    // The local stack's settings (Pulumi.local.yaml), with this test's emulator and bundle directory.
    return [
        "config:",
        "  stepca-cloudkms:mode: local",
        `  stepca-cloudkms:kmsEndpoint: "${kmsEndpoint}"`,
        `  stepca-cloudkms:localBundleDir: "${bundleDir}"`,
        "  stepca-cloudkms:destroyScheduledDuration: 86400s",
        "  stepca-cloudkms:organization: Engine Test",
        "  stepca-cloudkms:rootCommonName: Engine Test Root CA",
        `  stepca-cloudkms:intermediateCommonName: ${INTERMEDIATE_CN}`,
        '  stepca-cloudkms:intermediateValidityDays: "90"',
        "  stepca-cloudkms:dnsNames:",
        "    - localhost",
        "    - 127.0.0.1",
        '  stepca-cloudkms:port: "9000"',
        "",
    ].join("\n");
}

function fingerprintOf(pem: string): string {
    return new crypto.X509Certificate(pem).fingerprint256.replace(/:/g, "").toLowerCase();
}

/** `openssl verify` of intermediate against root; returns its output (throws when it fails). */
async function opensslVerify(dir: string, rootPem: string, intermediatePem: string): Promise<string> {
    const root = path.join(dir, `root-${crypto.randomUUID()}.pem`);
    const intermediate = path.join(dir, `intermediate-${crypto.randomUUID()}.pem`);
    fs.writeFileSync(root, rootPem);
    fs.writeFileSync(intermediate, intermediatePem);
    const { stdout } = await run("openssl", ["verify", "-x509_strict", "-CAfile", root, intermediate]);
    return stdout.trim();
}

function subjectCn(pem: string): string | undefined {
    return /CN=([^\n]+)/.exec(new crypto.X509Certificate(pem).subject)?.[1];
}

/** Every crypto key version under the location the program used, with its state. */
async function allKeyVersions(client: KeyManagementServiceClient, location: string): Promise<Map<string, string>> {
    const versions = new Map<string, string>();
    const [rings] = await client.listKeyRings({ parent: location });
    for (const ring of rings) {
        const [keys] = await client.listCryptoKeys({ parent: ring.name! });
        for (const key of keys) {
            const [vs] = await client.listCryptoKeyVersions({ parent: key.name! });
            for (const v of vs) versions.set(v.name!, String(v.state));
        }
    }
    return versions;
}

/** `projects/P/locations/L` of a key-version name. */
function locationOf(keyVersion: string): string {
    const m = /^(projects\/[^/]+\/locations\/[^/]+)\//.exec(keyVersion);
    assert.ok(m, `not a key-version name: ${keyVersion}`);
    return m[1];
}

/** Private key material: PEM private keys and JWKs with a private part ("d"), also inside JSON kept as strings. */
function privateKeyFindings(text: string): string[] {
    const findings: string[] = [];
    const pem = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----/g;
    for (const m of text.matchAll(pem)) findings.push(`PEM ${m[1]}PRIVATE KEY at offset ${m.index}`);
    const visit = (value: unknown, where: string) => {
        if (typeof value === "string") {
            const trimmed = value.trim();
            if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
                try {
                    visit(JSON.parse(trimmed), `${where}(json)`);
                } catch {
                    /* not JSON */
                }
            }
            return;
        }
        if (Array.isArray(value)) {
            value.forEach((v, i) => visit(v, `${where}[${i}]`));
            return;
        }
        if (value && typeof value === "object") {
            const obj = value as Record<string, unknown>;
            if ("d" in obj && ("kty" in obj || "crv" in obj || "n" in obj)) findings.push(`JWK private part "d" at ${where}`);
            for (const [k, v] of Object.entries(obj)) visit(v, `${where}.${k}`);
        }
    };
    visit(JSON.parse(text), "$");
    return findings;
}

function outputValues(outputs: OutputMap): Record<string, unknown> {
    return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]));
}

test("the program on the real Pulumi engine: local stack, file backend, KMS emulator", { timeout: 60 * 60 * 1000 }, async (t) => {
    if (!realToolsPresent(t, "the engine test (real Pulumi engine, local stack)", ENGINE_TOOLS_NEEDED)) return;

    const started = Date.now();
    const binDir = await pulumiBinDir();
    console.log(`# Pulumi CLI: ${binDir} (ready in ${Math.round((Date.now() - started) / 1000)} s)`);

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-engine-"));
    const bundleDir = path.join(tmp, "bundle");

    // A state file, so the emulator can move to another port with the same keys (step 4b).
    const kmsState = path.join(tmp, "kms-emulator.json");
    let emulator: KmsEmulator = await startKmsEmulator({ port: 0, hsmPendingMs: 0, stateFile: kmsState });
    let client = createKmsClient(emulator.address);
    const { stack, projectDir, envVars } = await throwawayStack({
        tmp,
        stackName: STACK,
        stackYaml: stackConfigYaml(emulator.address, bundleDir),
        passphrase: PASSPHRASE,
        pathDirs: [binDir],
    });
    const { step, broken } = sequentialSteps(t);

    let first: Record<string, unknown> = {};
    let location = "";
    try {
        await step("0. an up killed while KMS creates the key rings: refresh --clear-pending-creates, and the next up adopts them", async () => {
            emulator.faults.holdAnswers("CreateKeyRing");
            const child = spawn(path.join(binDir, "pulumi"), ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", STACK], {
                cwd: projectDir,
                env: { ...process.env, ...envVars },
                detached: true, // its own process group: the CLI, the language host and the providers
                stdio: ["ignore", "pipe", "pipe"],
            });
            let output = "";
            child.stdout!.on("data", (chunk: Buffer) => (output += chunk));
            child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
            const exited = new Promise((resolve) => child.once("exit", resolve));
            for (const deadline = Date.now() + 5 * 60_000; (emulator.faults.held.get("CreateKeyRing") ?? 0) === 0; ) {
                assert.ok(Date.now() < deadline && child.exitCode === null, `up never reached CreateKeyRing:\n${output}`);
                await new Promise((r) => setTimeout(r, 100));
            }
            await new Promise((r) => setTimeout(r, 500)); // the other ring's create, if it was sent with the first
            process.kill(-child.pid!, "SIGKILL"); // a crash: nothing gets to clean up or record anything
            await exited;
            emulator.faults.clear();
            const [rings] = await client.listKeyRings({ parent: "projects/stepca-local/locations/us-central1" });
            assert.ok(rings.length >= 1, "the killed run's CreateKeyRing took effect");
            console.log(`# killed mid-create; rings on the emulator: ${rings.map((r) => r.name).join(", ")}`);

            // What the user sees next (the README's "If `pulumi up` was interrupted"): the file backend keeps the
            // killed run's lock, and the interrupted creates stay in the state as pending operations.
            await assert.rejects(stack.up({ color: "never" }), /the stack is currently locked by 1 lock\(s\).*pulumi cancel/s);
            await stack.cancel();
            const pending = (await stack.exportStack()).deployment.pending_operations ?? [];
            assert.deepEqual(pending.map((op: { type: string }) => op.type), pending.map(() => "creating"));
            assert.ok(pending.length >= 1, "the interrupted key ring creates are pending operations");
            await stack.refresh({ clearPendingCreates: true, color: "never" });
            assert.deepEqual((await stack.exportStack()).deployment.pending_operations ?? [], []);
        });

        await step("1. up creates the CA: outputs, fingerprint, chain, bundle", async () => {
            // What `pulumi up` shows first: a preview of an empty stack, where every key name is still unknown.
            const preview = await stack.preview({ color: "never" });
            assert.ok((preview.changeSummary.create ?? 0) > 0, `preview: ${JSON.stringify(preview.changeSummary)}`);
            const ops = new Ops();
            const result = await stack.up({ onEvent: ops.onEvent, color: "never" });
            assert.equal(result.summary.result, "succeeded");
            first = outputValues(result.outputs);
            for (const key of ["caUrl", "rootFingerprint", "rootCertPem", "intermediateCertPem", "rootKeyVersion", "intermediateKeyVersion", "localBundleDir", "bootstrapCommand", "provisionerPassword"]) {
                assert.ok(first[key], `output ${key} is missing or empty: ${JSON.stringify(first[key])}`);
            }
            assert.equal(result.outputs.provisionerPassword.secret, true, "provisionerPassword must be a secret output");
            const rootPem = first.rootCertPem as string;
            const intermediatePem = first.intermediateCertPem as string;
            assert.equal(first.rootFingerprint, fingerprintOf(rootPem), "rootFingerprint is not the SHA-256 of the root's DER");
            assert.match(await opensslVerify(tmp, rootPem, rootPem), /: OK$/);
            assert.match(await opensslVerify(tmp, rootPem, intermediatePem), /: OK$/);
            assert.equal(subjectCn(intermediatePem), INTERMEDIATE_CN);
            assert.match(first.rootKeyVersion as string, /\/cryptoKeyVersions\/\d+$/);
            assert.match(first.intermediateKeyVersion as string, /\/cryptoKeyVersions\/\d+$/);
            location = locationOf(first.rootKeyVersion as string);
            // The rings the killed run made were adopted: no other ring, and no ENABLED version besides the CA's two.
            const enabled = [...(await allKeyVersions(client, location))].filter(([, state]) => state === "ENABLED").map(([name]) => name);
            assert.deepEqual(enabled.sort(), [first.intermediateKeyVersion, first.rootKeyVersion].sort(), "no orphan ENABLED key version");
            const [rings] = await client.listKeyRings({ parent: location });
            assert.equal(rings.length, 2, `rings: ${rings.map((r) => r.name)}`);

            assert.equal(first.localBundleDir, bundleDir);
            const caJson = JSON.parse(fs.readFileSync(path.join(bundleDir, "config/ca.json"), "utf8"));
            assert.ok(String(caJson.key).endsWith(first.intermediateKeyVersion as string), `ca.json key is ${caJson.key}`);
            const defaults = JSON.parse(fs.readFileSync(path.join(bundleDir, "config/defaults.json"), "utf8"));
            assert.equal(defaults.fingerprint, first.rootFingerprint);
            assert.equal(fs.readFileSync(path.join(bundleDir, "certs/root_ca.crt"), "utf8").trim(), rootPem.trim());
            assert.equal(fs.readFileSync(path.join(bundleDir, "certs/intermediate_ca.crt"), "utf8").trim(), intermediatePem.trim());
            const password = path.join(bundleDir, "secrets/password");
            assert.equal(fs.statSync(password).mode & 0o777, 0o600, "the password file must be 0600");
            assert.equal(fs.readFileSync(password, "utf8").trim(), String(first.provisionerPassword).trim());
        });

        await step("2. a second up changes nothing and makes no KMS call", async () => {
            emulator.calls.reset();
            const ops = new Ops();
            const result = await stack.up({ onEvent: ops.onEvent, color: "never" });
            const calls = emulator.calls.byMethod();
            assert.ok(onlySame(result.summary.resourceChanges), `changes: ${JSON.stringify(result.summary.resourceChanges)}; ops: ${JSON.stringify([...ops.byUrn()])}`);
            assert.equal(emulator.calls.total(), 0, `KMS calls during a no-op up: ${JSON.stringify(calls)}`);
            assert.deepEqual(outputValues(result.outputs), first);
        });

        await step("3. a new intermediate common name replaces exactly the intermediate; the new chain verifies", async () => {
            await stack.setConfig("stepca-cloudkms:intermediateCommonName", { value: INTERMEDIATE_CN_2 });
            const preview = await stack.preview({ color: "never" });
            assert.equal(preview.changeSummary.replace ?? 0, 1, `preview: ${JSON.stringify(preview.changeSummary)}`);

            const ops = new Ops();
            const result = await stack.up({ onEvent: ops.onEvent, color: "never" });
            assert.deepEqual(ops.named("replace"), ["stepca:IntermediateCertificate::step-ca-intermediate"]);
            assert.deepEqual(ops.named("create"), [], "nothing new besides the replacement");
            assert.deepEqual(ops.named("delete"), [], "nothing deleted besides the replaced intermediate");
            assert.deepEqual(ops.named("update"), ["stepca:LocalBundle::step-ca-bundle"], "only the bundle is rewritten in place");
            assert.ok(ops.diffsOf("step-ca-intermediate").includes("subject"), `diffs: ${ops.diffsOf("step-ca-intermediate")}`);

            const out = outputValues(result.outputs);
            const intermediatePem = out.intermediateCertPem as string;
            assert.notEqual(intermediatePem, first.intermediateCertPem);
            assert.equal(subjectCn(intermediatePem), INTERMEDIATE_CN_2);
            for (const same of ["rootCertPem", "rootFingerprint", "rootKeyVersion", "intermediateKeyVersion", "caUrl"]) {
                assert.equal(out[same], first[same], `${same} must not change`);
            }
            assert.match(await opensslVerify(tmp, out.rootCertPem as string, intermediatePem), /: OK$/);
            assert.equal(fs.readFileSync(path.join(bundleDir, "certs/intermediate_ca.crt"), "utf8").trim(), intermediatePem.trim());
            first = out;
        });

        await step("4. refresh is clean; a disabled intermediate key version is drift: an update that fails clearly, never a re-mint", async () => {
            const clean = await stack.refresh({ color: "never" });
            assert.ok(onlySame(clean.summary.resourceChanges), `refresh: ${JSON.stringify(clean.summary.resourceChanges)}`);

            const intermediate = "stepca:IntermediateCertificate::step-ca-intermediate";
            const intermediateKeyVersion = first.intermediateKeyVersion as string;
            const setIntermediateState = (state: "ENABLED" | "DISABLED") =>
                client.updateCryptoKeyVersion({
                    cryptoKeyVersion: { name: intermediateKeyVersion, state },
                    updateMask: { paths: ["state"] },
                });
            /** Nothing created, replaced or deleted in a run. */
            const assertNothingReplaced = (ops: Ops, when: string) => {
                for (const op of ["create", "replace", "create-replacement", "delete-replaced", "delete"]) {
                    assert.deepEqual(ops.named(op), [], `${when}: unexpected ${op}; ops: ${JSON.stringify([...ops.byUrn()])}`);
                }
            };

            await setIntermediateState("DISABLED");
            try {
                const refreshOps = new Ops();
                const drift = await stack.previewRefresh({ onEvent: refreshOps.onEvent, color: "never" });
                assert.ok(!onlySame(drift.changeSummary), `refresh preview saw no drift: ${JSON.stringify(drift.changeSummary)}`);
                const seen = refreshOps.outputsAfter("step-ca-intermediate");
                assert.equal(seen.op, "update", "the refresh preview must report the intermediate as changed");
                assert.equal(seen.outputs?.keyVersionState, "DISABLED", `refreshed outputs: ${JSON.stringify(seen.outputs)}`);

                await stack.refresh({ color: "never" });
                // The drift stays visible in every preview, as an in-place update: a disabled key version is no
                // reason to mint a new certificate (and a new one could not be signed anyway).
                const previewOps = new Ops();
                await stack.preview({ onEvent: previewOps.onEvent, color: "never" });
                assert.ok(
                    previewOps.named("update").includes(intermediate),
                    `after refresh, preview must plan an update of the intermediate; ops: ${JSON.stringify([...previewOps.byUrn()])}`,
                );
                assertNothingReplaced(previewOps, "preview with the key version disabled");

                // `up` while it is still disabled: one clear error, nothing minted, replaced or deleted.
                emulator.calls.reset();
                const failedOps = new Ops();
                await assert.rejects(stack.up({ onEvent: failedOps.onEvent, color: "never" }), (error: Error) => {
                    assert.ok(error.message.includes(intermediateKeyVersion), `the error names the key version: ${error.message}`);
                    assert.match(error.message, /is DISABLED; only ENABLED versions can be used/);
                    assert.match(error.message, /gcloud kms keys versions enable \d+ --key \S+ --keyring \S+ --location \S+ --project \S+/);
                    return true;
                });
                assert.equal(emulator.calls.byMethod().AsymmetricSign, undefined, `nothing signed: ${JSON.stringify(emulator.calls.byMethod())}`);
                assertNothingReplaced(failedOps, "up with the key version disabled");
                assert.deepEqual(outputValues(await stack.outputs()), first, "the failed up changed no output");
            } finally {
                await setIntermediateState("ENABLED");
            }

            // Re-enabled, and `up` without a refresh: the update re-reads the key version and keeps the certificate.
            emulator.calls.reset();
            const healOps = new Ops();
            const healed = await stack.up({ onEvent: healOps.onEvent, color: "never" });
            assert.equal(healed.summary.result, "succeeded");
            assert.deepEqual(healOps.named("update"), [intermediate], `ops: ${JSON.stringify([...healOps.byUrn()])}`);
            assertNothingReplaced(healOps, "up after re-enabling");
            assert.deepEqual(emulator.calls.byMethod(), { GetPublicKey: 1 }, "one GetPublicKey, no re-mint");
            assert.equal(healOps.outputsAfter("step-ca-intermediate").outputs?.keyVersionState, "ENABLED");
            assert.deepEqual(outputValues(healed.outputs), first, "same certificates (same certPem), same everything");

            const again = await stack.refresh({ color: "never" });
            assert.ok(onlySame(again.summary.resourceChanges), `refresh after healing: ${JSON.stringify(again.summary.resourceChanges)}`);
            const preview = await stack.preview({ color: "never" });
            assert.ok(onlySame(preview.changeSummary), `re-enabled and healed, yet: ${JSON.stringify(preview.changeSummary)}`);
        });

        await step("4b. a new kmsEndpoint (the emulator moved, same keys): preview and up change nothing", async () => {
            await emulator.stop();
            await client.close();
            emulator = await startKmsEmulator({ port: 0, hsmPendingMs: 0, stateFile: kmsState });
            client = createKmsClient(emulator.address);
            await stack.setConfig("stepca-cloudkms:kmsEndpoint", { value: emulator.address });
            const previewOps = new Ops();
            const preview = await stack.preview({ onEvent: previewOps.onEvent, color: "never" });
            assert.ok(onlySame(preview.changeSummary), `preview: ${JSON.stringify(preview.changeSummary)}; ops: ${JSON.stringify([...previewOps.byUrn()])}`);
            const result = await stack.up({ color: "never" });
            assert.ok(onlySame(result.summary.resourceChanges), `up: ${JSON.stringify(result.summary.resourceChanges)}`);
            assert.deepEqual(outputValues(result.outputs), first);
            // The providers use the new endpoint: refresh reads every key there.
            emulator.calls.reset();
            const refreshed = await stack.refresh({ color: "never" });
            assert.ok(onlySame(refreshed.summary.resourceChanges), `refresh: ${JSON.stringify(refreshed.summary.resourceChanges)}`);
            assert.ok((emulator.calls.byMethod().GetCryptoKey ?? 0) >= 2, `calls at the new endpoint: ${JSON.stringify(emulator.calls.byMethod())}`);
        });

        await step("4c. offlineRootKey: the root version is DISABLED after up, a renewal, a failed mint and refresh; left ENABLED, up disables it", async () => {
            const rootKeyVersion = first.rootKeyVersion as string;
            const rootState = async () => String((await client.getCryptoKeyVersion({ name: rootKeyVersion }))[0].state);
            const offline = "stepca:OfflineKeyVersion::step-ca-root-offline";
            await stack.setConfig("stepca-cloudkms:offlineRootKey", { value: "true" });
            const switchedOn = new Ops();
            await stack.preview({ onEvent: switchedOn.onEvent, color: "never" });
            assert.deepEqual(switchedOn.named("create"), [offline], `ops: ${JSON.stringify([...switchedOn.byUrn()])}`);
            assert.deepEqual([...switchedOn.named("replace"), ...switchedOn.named("update")], [], "the certificates are not touched");
            assert.deepEqual(outputValues((await stack.up({ color: "never" })).outputs), first);
            assert.equal(await rootState(), "DISABLED", "after up");

            // A renewal forced by config: a new intermediate, signed by the root while it was enabled for the moment.
            await stack.setConfig("stepca-cloudkms:intermediateCommonName", { value: INTERMEDIATE_CN });
            emulator.calls.reset();
            const renewed = outputValues((await stack.up({ color: "never" })).outputs);
            const calls = emulator.calls.byMethod();
            assert.equal(subjectCn(renewed.intermediateCertPem as string), INTERMEDIATE_CN);
            assert.match(await opensslVerify(tmp, renewed.rootCertPem as string, renewed.intermediateCertPem as string), /: OK$/);
            assert.ok((calls.UpdateCryptoKeyVersion ?? 0) >= 2 && calls.AsymmetricSign === 1, `calls: ${JSON.stringify(calls)}`);
            assert.equal(await rootState(), "DISABLED", "after a renewal");
            assert.equal(renewed.rootFingerprint, first.rootFingerprint);
            first = renewed;

            // A mint that fails (the intermediate key refuses): the root is disabled again all the same.
            emulator.faults.denyKey(cryptoKeyNameOf(first.intermediateKeyVersion as string));
            await stack.setConfig("stepca-cloudkms:intermediateCommonName", { value: INTERMEDIATE_CN_2 });
            try {
                await assert.rejects(stack.up({ color: "never" }), /PERMISSION_DENIED/);
            } finally {
                emulator.faults.clear();
            }
            assert.equal(await rootState(), "DISABLED", "after a failed mint");
            await stack.setConfig("stepca-cloudkms:intermediateCommonName", { value: INTERMEDIATE_CN });

            const refreshed = await stack.refresh({ color: "never" });
            assert.ok(onlySame(refreshed.summary.resourceChanges), `refresh shows drift: ${JSON.stringify(refreshed.summary.resourceChanges)}`);
            assert.equal(await rootState(), "DISABLED", "after refresh");

            // Left ENABLED (a run killed while it signed, or an operator): the preview says so, up disables it.
            await client.updateCryptoKeyVersion({ cryptoKeyVersion: { name: rootKeyVersion, state: "ENABLED" }, updateMask: { paths: ["state"] } });
            const found = new Ops();
            await stack.preview({ onEvent: found.onEvent, color: "never" });
            assert.deepEqual(found.named("update"), [offline], `ops: ${JSON.stringify([...found.byUrn()])}`);
            assert.deepEqual([...found.named("replace"), ...found.named("create")], []);
            assert.deepEqual(outputValues((await stack.up({ color: "never" })).outputs), first);
            assert.equal(await rootState(), "DISABLED", "an up that found it ENABLED disabled it");
            console.log("# root key version: DISABLED after up, renewal, failed mint, refresh, and an up that found it ENABLED");
        });

        await step("5. exported state holds no private key material outside secrets", async () => {
            const outputs = await stack.outputs();
            const password = String(outputs.provisionerPassword.value);
            assert.ok(password.length >= 16, "expected a generated provisioner password");
            // `pulumi stack export` as a user runs it: secrets stay ciphertext. (The Automation API's exportStack
            // adds --show-secrets.)
            const { stdout: exported } = await run(path.join(binDir, "pulumi"), ["stack", "export", "--stack", STACK], {
                cwd: projectDir,
                env: { ...process.env, ...envVars },
                maxBuffer: 64 * 1024 * 1024,
            });
            assert.ok((JSON.parse(exported).deployment.resources ?? []).length > 0);
            assert.deepEqual(privateKeyFindings(exported), []);
            assert.ok(!exported.includes(password), "the provisioner password appears in plaintext in the exported state");
            assert.ok(exported.includes("ciphertext"), "no secret at all in the exported state?");
            // With --show-secrets the password is there (so the scan above could have seen it); the CA keys never
            // are, secret or not: they stay in KMS.
            const shown = JSON.stringify(await stack.exportStack());
            assert.ok(shown.includes(password));
            assert.deepEqual(
                privateKeyFindings(shown).filter((f) => f.startsWith("PEM")),
                [],
                "a PEM private key is in the state, even if only as a secret",
            );
        });

        await step("6. destroy schedules every key version for destruction and empties the state", async () => {
            const result = await stack.destroy({ color: "never" });
            assert.equal(result.summary.result, "succeeded");
            const versions = await allKeyVersions(client, location);
            assert.ok(versions.size >= 2, `expected the root and intermediate versions, found ${JSON.stringify([...versions])}`);
            for (const [name, state] of versions) assert.equal(state, "DESTROY_SCHEDULED", name);
            const exported = await stack.exportStack();
            assert.deepEqual(exported.deployment.resources ?? [], []);
        });

        await step("7. up again after destroy succeeds, with new keys", async () => {
            await stack.setConfig("stepca-cloudkms:intermediateCommonName", { value: INTERMEDIATE_CN });
            const result = await stack.up({ color: "never" });
            assert.equal(result.summary.result, "succeeded");
            const out = outputValues(result.outputs);
            assert.notEqual(out.rootKeyVersion, first.rootKeyVersion, "key names cannot be reused after destroy");
            assert.equal(out.rootFingerprint, fingerprintOf(out.rootCertPem as string));
            assert.match(await opensslVerify(tmp, out.rootCertPem as string, out.intermediateCertPem as string), /: OK$/);
        });
    } finally {
        if (broken()) {
            // Keep the stack state (file backend) and the bundle for inspection; the emulator's keys go with it.
            console.warn(`# engine test failed at "${broken()}"; state, project and bundle kept in ${tmp}`);
            console.warn(`#   PULUMI_BACKEND_URL=${envVars.PULUMI_BACKEND_URL} PULUMI_CONFIG_PASSPHRASE=${PASSPHRASE} pulumi -C ${projectDir} stack export`);
        } else {
            await stack.destroy({ color: "never" }).catch((e: unknown) => console.warn(`# cleanup destroy failed: ${e}`));
            await stack.workspace.removeStack(STACK).catch(() => undefined);
        }
        await client.close();
        await emulator.stop();
        if (!broken()) fs.rmSync(tmp, { recursive: true, force: true });
    }
});
