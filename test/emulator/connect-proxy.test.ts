import assert from "node:assert/strict";
import * as http from "node:http";
import { test } from "node:test";
import { CLOUD_KMS_HOST, createTlsIdentity, startConnectProxy, startKmsEmulator } from "../../kms-emulator/index";
import { createKmsClient } from "../../lib/kms/client";
import { LOCATION, createKmsClientViaProxy } from "./support";

const KMS_AUTHORITY = `${CLOUD_KMS_HOST}:443`;

async function emulatorBehindProxy(t: { after(fn: () => unknown): void }) {
    const identity = await createTlsIdentity();
    const emulator = await startKmsEmulator({ tls: { certPem: identity.certPem, keyPem: identity.keyPem } });
    const asked: string[] = [];
    const proxy = await startConnectProxy({
        routes: { [KMS_AUTHORITY]: { host: "127.0.0.1", port: emulator.tlsPort! } },
        onConnect: (authority, tunnelled) => asked.push(`${authority} ${tunnelled ? "tunnelled" : "refused"}`),
    });
    t.after(async () => {
        await proxy.stop();
        await emulator.stop();
    });
    return { identity, emulator, proxy, asked };
}

/** Sends one request to the proxy and returns its status code. */
function ask(proxyPort: number, method: string, target: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port: proxyPort, method, path: target });
        req.once("connect", (res, socket) => (socket.destroy(), resolve(res.statusCode ?? 0)));
        req.once("response", (res) => (res.resume(), resolve(res.statusCode ?? 0)));
        req.once("error", reject);
        req.end();
    });
}

test("CONNECT proxy: the real client, endpoint untouched, reaches the emulator's TLS port as cloudkms.googleapis.com", async (t) => {
    const { identity, emulator, proxy, asked } = await emulatorBehindProxy(t);
    const viaProxy = await createKmsClientViaProxy(proxy.url, identity.caCertPem);
    const plaintext = createKmsClient(emulator.address);
    t.after(() => Promise.all([viaProxy.close(), plaintext.close()]));

    const [ring] = await plaintext.createKeyRing({ parent: LOCATION, keyRingId: "behind-proxy", keyRing: {} });
    const [seen] = await viaProxy.getKeyRing({ name: ring.name });
    assert.equal(seen.name, ring.name);
    assert.deepEqual(asked, [`${KMS_AUTHORITY} tunnelled`]);
});

test("CONNECT proxy: any other authority is refused (403), anything but CONNECT too (405)", async (t) => {
    const { proxy, asked } = await emulatorBehindProxy(t);
    assert.equal(await ask(proxy.port, "CONNECT", "oauth2.googleapis.com:443"), 403);
    assert.equal(await ask(proxy.port, "CONNECT", `${CLOUD_KMS_HOST}:80`), 403);
    assert.equal(await ask(proxy.port, "GET", "http://cloudkms.googleapis.com/"), 405);
    assert.deepEqual(asked, ["oauth2.googleapis.com:443 refused", `${CLOUD_KMS_HOST}:80 refused`]);
});
