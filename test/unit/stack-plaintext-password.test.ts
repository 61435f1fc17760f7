import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../lib/config/config";
import { registeredCount, runStack } from "./support/mocked-stack";

const PASSWORD = "correct-horse-battery-staple";

// `pulumi config set provisionerPassword …` without --secret: the value sits in plain text in the stack file. The
// program learns which keys are secret from the SDK (as the CLI's language host tells it), here from the mocks'
// config; stack-prod.test.ts runs the same password set as a secret and gets a CA.
describe("a stack whose provisioner password is not a secret", () => {
    it("fails at program start, saying to set it with --secret, and registers nothing", async () => {
        await assert.rejects(runStack("dev", { "stepca-cloudkms:provisionerPassword": PASSWORD }, []), (error: unknown) => {
            assert.ok(error instanceof ConfigError, String(error));
            assert.equal(error.problems.length, 1, error.message);
            assert.match(error.message, /provisionerPassword is set in plain text/);
            assert.match(error.message, /pulumi config set --secret provisionerPassword/);
            assert.ok(!error.message.includes(PASSWORD), "the message must not echo the password");
            return true;
        });
        assert.equal(registeredCount(), 0);
    });
});
