import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isStopped, lastHealthOutput, startVerdict } from "../../lib/docker/container-start";
import { engineAddress } from "../../lib/docker/engine-address";
import { demultiplexLogs } from "../../lib/docker/log-stream";

describe("startVerdict (the step-ca health wait)", () => {
    const running = (health: string, extra: object = {}) => ({ RestartCount: 0, State: { Status: "running", Running: true, Health: { Status: health } }, ...extra });

    it("is healthy only on a passing health check, and waits while it starts", () => {
        assert.deepEqual(startVerdict(running("healthy")), { kind: "healthy" });
        assert.deepEqual(startVerdict(running("starting")), { kind: "waiting" });
        assert.deepEqual(startVerdict({ State: { Status: "created" } }), { kind: "waiting" });
    });

    it("fails as soon as the process exits or is restarted after the wait began", () => {
        const exited = startVerdict({ State: { Status: "exited", ExitCode: 1, Health: { Status: "starting" } } });
        assert.deepEqual(exited, { kind: "failed", reason: "the container exited with code 1" });
        const restarting = startVerdict({ RestartCount: 2, State: { Status: "restarting", Restarting: true, ExitCode: 1 } });
        assert.equal(restarting.kind, "failed");
        assert.match((restarting as { reason: string }).reason, /exited with code 1 and was restarted 2 time\(s\)/);
        const runningAgain = startVerdict({ RestartCount: 1, State: { Status: "running", Running: true, ExitCode: 0 } });
        assert.deepEqual(runningAgain, { kind: "failed", reason: "its process exited and was restarted 1 time(s)" });
        // Restarts before the wait (a container started again after a failed up) are not held against it.
        assert.deepEqual(startVerdict(running("starting", { RestartCount: 3 }), 3), { kind: "waiting" });
        assert.equal(startVerdict(running("starting", { RestartCount: 4 }), 3).kind, "failed");
    });

    it("fails when the health check gives up, quoting its last output", () => {
        const inspect = {
            State: { Status: "running", Health: { Status: "unhealthy", Log: [{ ExitCode: 1, Output: "x" }, { ExitCode: 1, Output: "connection\nrefused " }] } },
        };
        assert.deepEqual(startVerdict(inspect), { kind: "failed", reason: "its health check keeps failing (connection refused)" });
        assert.equal(lastHealthOutput({}), "");
    });

    it("tells a stopped container from one its restart policy is about to restart", () => {
        assert.equal(isStopped({ State: { Status: "exited", Restarting: false } }), true);
        assert.equal(isStopped({ State: { Status: "restarting", Restarting: true } }), false);
        assert.equal(isStopped({ State: { Status: "running" } }), false);
    });
});

describe("engineAddress (DOCKER_HOST)", () => {
    it("defaults to the local socket and reads unix:// and tcp:// (with TLS)", () => {
        assert.deepEqual(engineAddress({}), { kind: "unix", socketPath: "/var/run/docker.sock" });
        assert.deepEqual(engineAddress({ DOCKER_HOST: "unix:///run/user/1000/docker.sock" }), { kind: "unix", socketPath: "/run/user/1000/docker.sock" });
        assert.deepEqual(engineAddress({ DOCKER_HOST: "tcp://127.0.0.1:2375" }), { kind: "tcp", host: "127.0.0.1", port: 2375 });
        assert.deepEqual(engineAddress({ DOCKER_HOST: "tcp://[::1]", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" }), {
            kind: "tcp",
            host: "::1",
            port: 2376,
            tlsCertPath: "/certs",
        });
    });

    it("refuses ssh:// with what to do instead", () => {
        assert.throws(() => engineAddress({ DOCKER_HOST: "ssh://me@host" }), /unix:\/\/ or tcp:\/\/ only .* forward the engine's socket/);
    });
});

describe("demultiplexLogs", () => {
    const frame = (stream: number, text: string) => {
        const payload = Buffer.from(text);
        const header = Buffer.alloc(8);
        header[0] = stream;
        header.writeUInt32BE(payload.length, 4);
        return Buffer.concat([header, payload]);
    };

    it("joins stdout and stderr frames, keeps a truncated last one and plain (TTY) text", () => {
        assert.equal(demultiplexLogs(Buffer.concat([frame(1, "out\n"), frame(2, "err: denied\n")])), "out\nerr: denied\n");
        assert.equal(demultiplexLogs(Buffer.concat([frame(1, "a"), frame(2, "bcdef").subarray(0, 10)])), "abc");
        assert.equal(demultiplexLogs(Buffer.from("plain tty text")), "plain tty text");
    });
});
