import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../lib/config/config";
import { registeredCount, runStack } from "./support/mocked-stack";

// What `pulumi preview` does with a broken stack: the program stops at its first line, before any resource.
describe("a stack with invalid settings", () => {
    it("fails at program start with one error listing every problem, and registers nothing", async () => {
        const bad = {
            "stepca-cloudkms:rootAlgorithm": "EC_SIGN_P521_SHA512",
            "stepca-cloudkms:intermediateValidityDays": 4000,
            "stepca-cloudkms:dnsNames": [],
            "stepca-cloudkms:port": 70000,
        };
        await assert.rejects(runStack("dev", bad), (error: unknown) => {
            assert.ok(error instanceof ConfigError);
            assert.equal(error.problems.length, 4);
            assert.match(error.message, /rootAlgorithm/);
            assert.match(error.message, /intermediateValidityDays \(4000\) must be shorter/);
            assert.match(error.message, /dnsNames is empty/);
            assert.match(error.message, /port "70000"/);
            return true;
        });
        assert.equal(registeredCount(), 0);
    });
});
