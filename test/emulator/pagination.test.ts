import assert from "node:assert/strict";
import { test } from "node:test";
import { status } from "@grpc/grpc-js";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { LOCATION, createKeyRing, rpcError, startWithClient } from "./support";

type Lister = (request: { parent: string; pageSize?: number; pageToken?: string; filter?: string }) => Promise<{ names: string[]; next: string; total: number }>;

/** Walks every page with a fixed page size, checking each page's size and total_size along the way. */
async function walk(list: Lister, parent: string, pageSize: number, expectedTotal: number): Promise<string[]> {
    const names: string[] = [];
    let pageToken = "";
    do {
        const page = await list({ parent, pageSize, pageToken });
        assert.equal(page.total, expectedTotal, "total_size counts every match on every page");
        assert.equal(page.names.length, Math.min(pageSize, expectedTotal - names.length));
        names.push(...page.names);
        pageToken = page.next;
    } while (pageToken);
    return names;
}

function listers(client: KeyManagementServiceClient): Record<string, Lister> {
    const noAuto = { autoPaginate: false };
    return {
        keyRings: async (r) => {
            const [items, , raw] = await client.listKeyRings(r, noAuto);
            return { names: items.map((i) => i.name!), next: raw!.nextPageToken!, total: raw!.totalSize! };
        },
        cryptoKeys: async (r) => {
            const [items, , raw] = await client.listCryptoKeys(r, noAuto);
            return { names: items.map((i) => i.name!), next: raw!.nextPageToken!, total: raw!.totalSize! };
        },
        versions: async (r) => {
            const [items, , raw] = await client.listCryptoKeyVersions(r, noAuto);
            return { names: items.map((i) => i.name!), next: raw!.nextPageToken!, total: raw!.totalSize! };
        },
    };
}

test("key rings, crypto keys and versions page with page_size / page_token / next_page_token / total_size", async (t) => {
    const { client, emulator } = await startWithClient(t);
    const list = listers(client);
    const rings: string[] = [];
    for (let i = 0; i < 5; i++) rings.push(await createKeyRing(client, `ring-${i}`));
    const keys: string[] = [];
    for (let i = 0; i < 4; i++) {
        const [key] = await client.createCryptoKey({
            parent: rings[0],
            cryptoKeyId: `key-${i}`,
            cryptoKey: { purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm: "EC_SIGN_P256_SHA256" } },
            skipInitialVersionCreation: i > 0,
        });
        keys.push(key.name!);
    }
    const versions = [`${keys[0]}/cryptoKeyVersions/1`];
    for (let i = 0; i < 2; i++) versions.push((await client.createCryptoKeyVersion({ parent: keys[0], cryptoKeyVersion: {} }))[0].name!);

    // Creation order, every item exactly once, whatever the page size.
    for (const size of [1, 2, 3, 10]) {
        assert.deepEqual(await walk(list.keyRings, LOCATION, size, 5), rings, `key rings, page_size ${size}`);
        assert.deepEqual(await walk(list.cryptoKeys, rings[0], size, 4), keys, `crypto keys, page_size ${size}`);
        assert.deepEqual(await walk(list.versions, keys[0], size, 3), versions, `versions, page_size ${size}`);
    }
    // page_size 0 lets the server choose: everything fits, no further page.
    const all = await list.keyRings({ parent: LOCATION });
    assert.deepEqual(all.names, rings);
    assert.equal(all.next, "");
    // An empty listing still says total_size 0.
    assert.deepEqual(await list.cryptoKeys({ parent: rings[1] }), { names: [], next: "", total: 0 });
    // The client's own paging follows the tokens: 5 rings, 2 per page, 3 calls.
    emulator.calls.reset();
    const iterated: string[] = [];
    for await (const ring of client.listKeyRingsAsync({ parent: LOCATION, pageSize: 2 }, { autoPaginate: false })) iterated.push(ring.name!);
    assert.deepEqual(iterated, rings);
    assert.deepEqual(emulator.calls.byMethod(), { ListKeyRings: 3 });
});

test("bad page tokens and sizes are INVALID_ARGUMENT; filter and order_by are UNIMPLEMENTED", async (t) => {
    const { client } = await startWithClient(t);
    const list = listers(client);
    const ring = await createKeyRing(client, "a");
    await createKeyRing(client, "b");
    const first = await list.keyRings({ parent: LOCATION, pageSize: 1 });
    assert.notEqual(first.next, "");

    await assert.rejects(list.keyRings({ parent: LOCATION, pageSize: -1 }), rpcError(status.INVALID_ARGUMENT, /page_size/));
    await assert.rejects(list.keyRings({ parent: LOCATION, pageToken: "garbage" }), rpcError(status.INVALID_ARGUMENT, /page_token/));
    // A token is only good for the listing that issued it.
    await assert.rejects(list.cryptoKeys({ parent: ring, pageToken: first.next }), rpcError(status.INVALID_ARGUMENT, /page_token/));
    await assert.rejects(list.keyRings({ parent: LOCATION, filter: "name:a" }), rpcError(status.UNIMPLEMENTED, /filter/));
    await assert.rejects(client.listKeyRings({ parent: LOCATION, orderBy: "name desc" }, { autoPaginate: false }), rpcError(status.UNIMPLEMENTED, /order_by/));
    const second = await list.keyRings({ parent: LOCATION, pageSize: 1, pageToken: first.next });
    assert.deepEqual(second, { names: [`${LOCATION}/keyRings/b`], next: "", total: 2 });
});
