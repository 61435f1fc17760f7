import assert from "node:assert/strict";
import * as net from "node:net";
import * as tls from "node:tls";
import { test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { KeyManagementServiceClient } from "@google-cloud/kms";
import { createTlsIdentity, startKmsEmulator } from "../../kms-emulator/index";
import { createKmsClient } from "../../lib/kms/client";
import { LOCATION } from "./support";

test("TLS next to plaintext: a verified handshake negotiates ALPN h2, and both ports serve the same keys", async (t) => {
    const identity = await createTlsIdentity(["localhost"]);
    const emulator = await startKmsEmulator({ tls: { certPem: identity.certPem, keyPem: identity.keyPem } });
    t.after(() => emulator.stop());
    assert.ok(emulator.tlsPort && emulator.tlsPort !== emulator.port);

    // What a Go gRPC client insists on: a certificate it trusts and ALPN "h2".
    const socket = tls.connect({ host: "127.0.0.1", port: emulator.tlsPort, ca: identity.caCertPem, ALPNProtocols: ["h2"], servername: "localhost" });
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    assert.equal(socket.authorized, true);
    assert.equal(socket.alpnProtocol, "h2");
    socket.destroy();

    const overTls = new KeyManagementServiceClient({
        apiEndpoint: "localhost", // a name, as the certificate check (and RFC 6066 SNI) expects
        port: emulator.tlsPort,
        sslCreds: grpc.credentials.createSsl(Buffer.from(identity.caCertPem)),
        universeDomain: "googleapis.com",
    });
    const plaintext = createKmsClient(emulator.address);
    t.after(() => Promise.all([overTls.close(), plaintext.close()]));
    const [ring] = await overTls.createKeyRing({ parent: LOCATION, keyRingId: "over-tls", keyRing: {} });
    assert.equal(ring.name, `${LOCATION}/keyRings/over-tls`);
    const [seen] = await plaintext.getKeyRing({ name: ring.name });
    assert.equal(seen.name, ring.name, "a key ring created over TLS is there over plaintext");
    await plaintext.createKeyRing({ parent: LOCATION, keyRingId: "over-plaintext", keyRing: {} });
    const [rings] = await overTls.listKeyRings({ parent: LOCATION });
    assert.deepEqual(rings.map((r) => r.name), [`${LOCATION}/keyRings/over-tls`, `${LOCATION}/keyRings/over-plaintext`]);
});

test("TLS port taken: the start fails and leaves the plaintext port free", async () => {
    const identity = await createTlsIdentity();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const takenPort = (taken.address() as net.AddressInfo).port;
    try {
        const first = await startKmsEmulator();
        const plaintextPort = first.port;
        await first.stop();
        await assert.rejects(startKmsEmulator({ port: plaintextPort, tls: { ...identity, port: takenPort } }), new RegExp(`could not listen on 127\\.0\\.0\\.1:${takenPort} \\(in use\\?\\)`));
        const again = await startKmsEmulator({ port: plaintextPort });
        assert.equal(again.port, plaintextPort);
        await again.stop();
    } finally {
        taken.close();
    }
});
