import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { localBundleProvider } from "../../dynamic-providers/local-bundle";
import { BUNDLE_MARKER } from "../../lib/step-ca/layout";
import { reloadSerialized } from "./support/serialized";

/** Runs the blocking write of support/bundle-write-child.ts and SIGKILLs it once it says it is blocked. */
function killWhenBlocked(where: string, inputsFile: string): Promise<void> {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "support/bundle-write-child.ts"), where, inputsFile], {
        stdio: ["ignore", "pipe", "inherit"],
    });
    return new Promise((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
            if (chunk.toString().includes("blocked")) child.kill("SIGKILL");
        });
        child.on("exit", (code, signal) =>
            signal === "SIGKILL" ? resolve() : reject(new Error(`the write was not killed midway (exit ${code})`)),
        );
    });
}

describe("LocalBundle provider", () => {
    let dir: string;
    let inputs: Parameters<typeof localBundleProvider.create>[0];
    const mode = (file: string) => fs.statSync(file).mode & 0o777;

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-bundle-"));
        inputs = {
            paths: {
                caJson: `${dir}/config/ca.json`,
                defaultsJson: `${dir}/config/defaults.json`,
                rootCert: `${dir}/certs/root_ca.crt`,
                intermediateCert: `${dir}/certs/intermediate_ca.crt`,
                password: `${dir}/secrets/password`,
            },
            caJson: '{"ca":1}\n',
            defaultsJson: '{"defaults":1}\n',
            rootCertPem: "ROOT PEM\n",
            intermediateCertPem: "INTERMEDIATE PEM\n",
            password: "s3cret-password",
        };
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("writes every file, the password readable by its owner only", async () => {
        const { id, outs } = await localBundleProvider.create(inputs);
        assert.equal(id, inputs.paths.caJson);
        assert.deepEqual(outs, inputs);
        assert.equal(fs.readFileSync(inputs.paths.caJson, "utf8"), inputs.caJson);
        assert.equal(fs.readFileSync(inputs.paths.defaultsJson, "utf8"), inputs.defaultsJson);
        assert.equal(fs.readFileSync(inputs.paths.rootCert, "utf8"), inputs.rootCertPem);
        assert.equal(fs.readFileSync(inputs.paths.intermediateCert, "utf8"), inputs.intermediateCertPem);
        assert.equal(fs.readFileSync(inputs.paths.password, "utf8"), inputs.password);
        assert.equal(mode(inputs.paths.password), 0o600);
        assert.equal(mode(inputs.paths.caJson), 0o600, "ca.json may carry an OIDC client secret");
    });

    it("tightens a password file that already existed with a looser mode", async () => {
        fs.mkdirSync(path.dirname(inputs.paths.password), { recursive: true });
        fs.writeFileSync(inputs.paths.password, "old", { mode: 0o644 });
        await localBundleProvider.create(inputs);
        assert.equal(mode(inputs.paths.password), 0o600);
    });

    it("reports edited files on refresh, and the next update rewrites them", async () => {
        const { id, outs } = await localBundleProvider.create(inputs);
        assert.deepEqual(await localBundleProvider.read!(id, outs), { id, props: inputs });
        fs.writeFileSync(inputs.paths.caJson, "tampered");
        fs.rmSync(inputs.paths.rootCert);
        const read = await localBundleProvider.read!(id, outs);
        assert.equal(read.props!.caJson, "tampered");
        assert.equal(read.props!.rootCertPem, "");
        assert.deepEqual(await localBundleProvider.diff!(id, read.props!, inputs), { changes: true, replaces: [], deleteBeforeReplace: true });
        await localBundleProvider.update!(id, read.props!, inputs);
        assert.equal(fs.readFileSync(inputs.paths.caJson, "utf8"), inputs.caJson);
        assert.equal(fs.readFileSync(inputs.paths.rootCert, "utf8"), inputs.rootCertPem);
    });

    it("reports the bundle gone when ca.json is", async () => {
        const { id, outs } = await localBundleProvider.create(inputs);
        fs.rmSync(inputs.paths.caJson);
        assert.deepEqual(await localBundleProvider.read!(id, outs), {});
    });

    it("has no changes for the same inputs and is replaced when the paths move", async () => {
        const { outs } = await localBundleProvider.create(inputs);
        assert.deepEqual(await localBundleProvider.diff!("id", outs!, inputs), { changes: false, replaces: [], deleteBeforeReplace: true });
        const moved = { ...inputs, paths: { ...inputs.paths, password: `${dir}/elsewhere/password` } };
        assert.deepEqual(await localBundleProvider.diff!("id", outs!, moved), { changes: true, replaces: ["paths"], deleteBeforeReplace: true });
    });

    it("a replacement for new paths, run delete-before-create as diff asks, keeps the files both bundles share", async () => {
        const { id, outs } = await localBundleProvider.create(inputs);
        const moved = { ...inputs, paths: { ...inputs.paths, password: `${dir}/elsewhere/password` } };
        const diff = await localBundleProvider.diff!(id, outs!, moved);
        assert.deepEqual(diff, { changes: true, replaces: ["paths"], deleteBeforeReplace: true });
        // The engine's order for deleteBeforeReplace: delete the old bundle, then create the new one.
        await localBundleProvider.delete!(id, outs!);
        await localBundleProvider.create(moved);
        for (const [file, content] of [
            [moved.paths.caJson, inputs.caJson],
            [moved.paths.defaultsJson, inputs.defaultsJson],
            [moved.paths.rootCert, inputs.rootCertPem],
            [moved.paths.intermediateCert, inputs.intermediateCertPem],
            [moved.paths.password, inputs.password],
        ]) {
            assert.equal(fs.readFileSync(file, "utf8"), content, file);
        }
        assert.equal(fs.existsSync(inputs.paths.password), false, "the old password file is gone");
    });

    it("writes atomically: a failure leaves the old files as they were and no temporary file behind", async () => {
        const { id, outs } = await localBundleProvider.create(inputs);
        // The last file's directory cannot be created (a file is in the way): the write fails after the others
        // were staged.
        fs.writeFileSync(`${dir}/blocker`, "");
        const changed = {
            ...inputs,
            paths: { ...inputs.paths, password: `${dir}/blocker/password` },
            caJson: '{"ca":2}\n',
            rootCertPem: "NEW ROOT PEM\n",
        };
        await assert.rejects(localBundleProvider.update!(id, outs!, changed), /blocker is in the way/);
        assert.equal(fs.readFileSync(inputs.paths.caJson, "utf8"), inputs.caJson);
        assert.equal(fs.readFileSync(inputs.paths.rootCert, "utf8"), inputs.rootCertPem);
        const everything = fs.readdirSync(dir, { recursive: true }).map(String).sort();
        assert.deepEqual(everything.filter((name) => name.endsWith(".tmp")), [], `left behind: ${everything}`);
        assert.deepEqual(fs.readdirSync(dir).sort(), [BUNDLE_MARKER, "blocker", "certs", "config", "current", "generations", "secrets"]);
        assert.deepEqual(fs.readdirSync(`${dir}/generations`), [path.basename(fs.readlinkSync(`${dir}/current`))], "the failed generation is gone");
    });

    for (const where of ["fsync:3", "publish"]) {
        it(`a write killed midway (${where}) leaves readers on the old bundle, complete; the next write cleans up`, async () => {
            const { id, outs } = await localBundleProvider.create(inputs);
            const published = fs.readlinkSync(`${dir}/current`);
            const news = { ...inputs, caJson: '{"ca":2}\n', rootCertPem: "NEW ROOT\n", intermediateCertPem: "NEW INTERMEDIATE\n" };
            const inputsFile = path.join(dir, "..", `${path.basename(dir)}-inputs.json`);
            fs.writeFileSync(inputsFile, JSON.stringify({ olds: outs, news }));
            try {
                await killWhenBlocked(where, inputsFile);
            } finally {
                fs.rmSync(inputsFile, { force: true });
            }
            assert.equal(fs.readlinkSync(`${dir}/current`), published, "current still names the old generation");
            const seen = await localBundleProvider.read!(id, outs);
            assert.deepEqual(seen.props, inputs, "every file of the old bundle, through the usual paths");
            const leftovers = fs.readdirSync(`${dir}/generations`).length + fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")).length;
            assert.ok(leftovers > 1, "the killed write left its generation (and temporary symlink) behind");

            await localBundleProvider.update!(id, outs!, news);
            assert.deepEqual((await localBundleProvider.read!(id, outs)).props, news);
            assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), [], "no temporary file survives");
            assert.deepEqual(
                fs.readdirSync(`${dir}/generations`).sort(),
                [path.basename(published), path.basename(fs.readlinkSync(`${dir}/current`))].sort(),
                "the killed write's generation is gone; the one before the new one stays until the next write",
            );
            await localBundleProvider.update!(id, outs!, inputs);
            assert.equal(fs.readdirSync(`${dir}/generations`).length, 2);
        });
    }

    it("deletes what it wrote and leaves step-ca's database", async () => {
        const { id, outs } = await localBundleProvider.create(inputs);
        fs.mkdirSync(`${dir}/db`);
        await localBundleProvider.delete!(id, outs!);
        assert.deepEqual(fs.readdirSync(dir), ["db"]);
    });

    it("works from its serialized form", async () => {
        const provider = await reloadSerialized(localBundleProvider);
        const { id, outs } = await provider.create(inputs);
        assert.equal(mode(inputs.paths.password), 0o600);
        assert.deepEqual(await provider.diff!(id, outs!, inputs), { changes: false, replaces: [], deleteBeforeReplace: true });
        assert.deepEqual(await provider.diff!(id, outs!, { ...inputs, caJson: "{}" }), { changes: true, replaces: [], deleteBeforeReplace: true });
        await provider.delete!(id, outs!);
        assert.deepEqual(fs.readdirSync(dir), []);
    });
});
