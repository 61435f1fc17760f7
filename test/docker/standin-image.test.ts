/**
 * The Docker engine set-up (scripts/docker-engine.sh) and the TEST-ONLY stand-in for smallstep/step-ca
 * (scripts/standin-image.sh): what the program relies on of the real image, checked in a real container.
 * Host networking only: the engine runs without a bridge.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SETTINGS } from "../../lib/config/settings";
import { docker, dockerEnginePresent, standinImage } from "../support/docker-engine";

test("the stand-in step-ca image matches what the program uses of smallstep/step-ca", { timeout: 50 * 60 * 1000 }, async (t) => {
    const version = await dockerEnginePresent(t, "the stand-in image test");
    if (!version) return;
    console.log(`# Docker engine ${version}`);
    const image = await standinImage();
    const pinnedTag = String(SETTINGS.image.default).split(":").pop();
    assert.equal(image, `stepca-cloudkms/step-ca-standin:${pinnedTag}`, "the stand-in is named as one, at the pinned tag");

    const config = JSON.parse(await docker("image", "inspect", "--format", "{{json .Config}}", image));
    assert.equal(config.User, "step");
    assert.equal(config.WorkingDir, "/home/step");
    assert.deepEqual(Object.keys(config.Volumes ?? {}), ["/home/step"]);
    assert.ok(config.Env.includes("STEPPATH=/home/step"), `env: ${config.Env}`);
    assert.ok(config.Env.includes("CONFIGPATH=/home/step/config/ca.json"), `env: ${config.Env}`);
    assert.match(config.Labels["org.opencontainers.image.description"], /TEST-ONLY stand-in/);

    const shell = (script: string) =>
        docker("run", "--rm", "--network", "host", "--entrypoint", "/bin/sh", image, "-c", script);
    assert.equal(await shell("id -u; id -g; echo $HOME"), "1000\n1000\n/home/step");
    // HOME owned by step and writable (step-ca >= 0.27 needs that), also on a fresh volume made from the image.
    const volume = `stepca-standin-test-${process.pid}`;
    try {
        const owner = await docker(
            "run", "--rm", "--network", "host", "-v", `${volume}:/home/step`, "--entrypoint", "/bin/sh", image,
            "-c", "ls -ldn /home/step; echo x > /home/step/w && echo writable",
        );
        assert.match(owner, /^drwxr-xr-x\s+\d+\s+1000\s+1000\s.*\nwritable$/);
    } finally {
        await docker("volume", "rm", "-f", volume).catch(() => "");
    }
    assert.match(await shell("step-ca version"), new RegExp(`^Smallstep CA/${pinnedTag!.replace(/\./g, "\\.")} `));
    assert.match(await shell("step version"), new RegExp(`^Smallstep CLI/${pinnedTag!.replace(/\./g, "\\.")} `));

    // Like upstream's entrypoint, it refuses to start without a ca.json.
    await assert.rejects(docker("run", "--rm", "--network", "host", image), (e: Error & { stderr?: string }) => {
        assert.match(String(e.stderr), /no ca\.json config file/);
        return true;
    });
});
