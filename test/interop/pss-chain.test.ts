/**
 * RSA-PSS chains the program mints (root and intermediate on KMS keys of every PSS algorithm), checked by the real
 * verifiers: `openssl verify -x509_strict` and the step CLI (Go's crypto/x509, what step-ca and its clients use).
 * Their RFC 4055 encoding is checked byte for byte in test/providers/certificates.test.ts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { KMS_SIGNING_ALGORITHMS, type KmsSigningAlgorithmName } from "../../lib/kms/algorithms";
import { type TestKms, mintChain, opensslVerifiesChain, startTestKms } from "../providers/support";
import { realToolsPresent } from "../support/real-tools";
import { STEP_TOOLS_NEEDED, expectSuccess, installStep, run } from "./support/step-tools";

const PSS_ALGORITHMS = (Object.keys(KMS_SIGNING_ALGORITHMS) as KmsSigningAlgorithmName[]).filter((a) => a.includes("_PSS_"));

describe("RSA-PSS chains verify with openssl and the step CLI", { timeout: 30 * 60_000 }, () => {
    let kms: TestKms;
    let dir: string;
    before(async () => {
        kms = await startTestKms();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-pss-"));
    });
    after(async () => {
        await kms.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    for (const algorithm of PSS_ALGORITHMS) {
        it(algorithm, async (t) => {
            if (!realToolsPresent(t, `"${t.name}"`, STEP_TOOLS_NEEDED)) return;
            const { step } = await installStep();
            const { root, intermediate } = await mintChain(kms, algorithm);
            opensslVerifiesChain(root, intermediate);
            const rootFile = path.join(dir, `${algorithm}-root.crt`);
            const intermediateFile = path.join(dir, `${algorithm}-intermediate.crt`);
            fs.writeFileSync(rootFile, root);
            fs.writeFileSync(intermediateFile, intermediate);
            expectSuccess("step certificate verify (root)", await run(step, ["certificate", "verify", rootFile, "--roots", rootFile]));
            expectSuccess(
                "step certificate verify (intermediate)",
                await run(step, ["certificate", "verify", intermediateFile, "--roots", rootFile]),
            );
        });
    }
});
