import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { KeyManagementServiceClient } from "@google-cloud/kms";
import { startKmsEmulator } from "../../kms-emulator";
import { LOCATION } from "./support";

/** A throwaway self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI. */
function selfSigned(): { certPem: string; keyPem: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kms-tls-"));
    try {
        execFileSync("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", "key.pem", "-out", "cert.pem",
        ], { cwd: dir, stdio: "pipe" });
        return { certPem: fs.readFileSync(path.join(dir, "cert.pem"), "utf8"), keyPem: fs.readFileSync(path.join(dir, "key.pem"), "utf8") };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

test("TLS: a verified handshake negotiates ALPN h2, and the KMS client works over it", async (t) => {
    const credentials = selfSigned();
    const emulator = await startKmsEmulator({ tls: credentials });
    t.after(() => emulator.stop());
    assert.equal(emulator.tls, true);

    // What a Go gRPC client insists on: a certificate it trusts and ALPN "h2".
    const socket = tls.connect({ host: "127.0.0.1", port: emulator.port, ca: credentials.certPem, ALPNProtocols: ["h2"], servername: "localhost" });
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    assert.equal(socket.authorized, true);
    assert.equal(socket.alpnProtocol, "h2");
    socket.destroy();

    const client = new KeyManagementServiceClient({
        apiEndpoint: "localhost", // a name, as the certificate check (and RFC 6066 SNI) expects
        port: emulator.port,
        sslCreds: grpc.credentials.createSsl(Buffer.from(credentials.certPem)),
        universeDomain: "googleapis.com",
    });
    t.after(() => client.close());
    const [ring] = await client.createKeyRing({ parent: LOCATION, keyRingId: "over-tls", keyRing: {} });
    assert.equal(ring.name, `${LOCATION}/keyRings/over-tls`);
});
