import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { certificateFingerprint } from "../../lib/pki/fingerprint";
import { realToolsPresent } from "../support/real-tools";

describe("root fingerprint", () => {
    it("is the lowercase hex SHA-256 of the DER, as openssl computes it", (t) => {
        if (!realToolsPresent(t, "the root fingerprint test", { openssl: "makes the certificate and computes the expected fingerprint" })) return;
        const dir = mkdtempSync(join(tmpdir(), "stepca-fingerprint-"));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        const cert = join(dir, "root.pem");
        const run = (args: string[]) => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=Fingerprint Test"]
            .concat(["-keyout", join(dir, "key.pem"), "-out", cert, "-days", "1"]));
        const expected = run(["x509", "-noout", "-fingerprint", "-sha256", "-in", cert]).trim().replace(/^.*=/, "");
        assert.match(expected, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
        assert.equal(certificateFingerprint(readFileSync(cert, "utf8")), expected.replace(/:/g, "").toLowerCase());
    });
});
