import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { healthCheck } from "../../lib/step-ca/container";

const root = ["--root", "/home/step/certs/root_ca.crt"];

describe("the step-ca container's health check", () => {
    it("reaches step-ca by its first DNS name, pointed at the loopback inside the container", () => {
        assert.deepEqual(healthCheck(["10.0.0.5", "ca.example.com", "ca.internal"], 9000), {
            tests: ["CMD", "step", "ca", "health", "--ca-url", "https://ca.example.com:9000", ...root],
            hosts: [{ host: "ca.example.com", ip: "127.0.0.1" }],
        });
    });

    it("uses the loopback address itself when the CA has IP names only", () => {
        assert.deepEqual(healthCheck(["10.0.0.5", "127.0.0.1"], 443).tests.slice(4, 6), ["--ca-url", "https://127.0.0.1:443"]);
        assert.deepEqual(healthCheck(["::1"], 9000), {
            tests: ["CMD", "step", "ca", "health", "--ca-url", "https://[::1]:9000", ...root],
            hosts: [],
        });
    });
});
