import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { localBundleProvider } from "../../dynamic-providers/local-bundle";
import { localBundleDirProblem } from "../../lib/config/bundle-dir";
import { stepCaLayout } from "../../lib/step-ca/layout";

describe("localBundleDir on disk", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stepca-bundle-dir-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("accepts a missing or empty directory", () => {
        assert.equal(localBundleDirProblem(path.join(dir, "new")), undefined);
        assert.equal(localBundleDirProblem(dir), undefined);
    });

    it("refuses a non-empty directory the program did not create, and a file", () => {
        fs.mkdirSync(path.join(dir, "config"));
        fs.writeFileSync(path.join(dir, "config", "ca.json"), "{}"); // someone's own step-ca directory
        const problem = localBundleDirProblem(dir);
        assert.match(problem ?? "", /is a directory this program did not create \(it has no \.stepca-cloudkms-bundle file/);
        assert.match(problem ?? "", /pulumi config set localBundleDir/);
        fs.writeFileSync(path.join(dir, "file"), "");
        assert.match(localBundleDirProblem(path.join(dir, "file")) ?? "", /is a file, not a directory/);
    });

    it("accepts the directory once the bundle was written there (the provider leaves its marker)", async () => {
        const layout = stepCaLayout(dir);
        const paths = { caJson: layout.caJson, defaultsJson: layout.defaultsJson, rootCert: layout.rootCert, intermediateCert: layout.intermediateCert, password: layout.password };
        await localBundleProvider.create({ paths, caJson: "{}", defaultsJson: "{}", rootCertPem: "R", intermediateCertPem: "I", password: "p" });
        assert.equal(localBundleDirProblem(dir), undefined);
    });
});
