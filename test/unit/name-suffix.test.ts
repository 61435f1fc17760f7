import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nameSuffixProvider } from "../../dynamic-providers/name-suffix";
import { reloadSerialized } from "./support/serialized";

const inputs: { byteLength: number; keepers: Record<string, string> } = {
    byteLength: 4,
    keepers: { location: "us-central1", layout: "separate" },
};

describe("NameSuffix provider", () => {
    it("creates a random hex suffix of twice byteLength characters, its own ID", async () => {
        const a = await nameSuffixProvider.create(inputs);
        const b = await nameSuffixProvider.create(inputs);
        assert.match(a.outs!.hex, /^[0-9a-f]{8}$/);
        assert.equal(a.id, a.outs!.hex);
        assert.notEqual(a.outs!.hex, b.outs!.hex);
        assert.deepEqual(a.outs!.keepers, inputs.keepers);
        assert.match((await nameSuffixProvider.create({ ...inputs, byteLength: 2 })).outs!.hex, /^[0-9a-f]{4}$/);
    });

    it("keeps its suffix while the keepers hold, whatever their order", async () => {
        const { outs } = await nameSuffixProvider.create(inputs);
        const reordered = { byteLength: 4, keepers: { layout: "separate", location: "us-central1" } };
        assert.deepEqual(await nameSuffixProvider.diff!("id", outs!, reordered), { changes: false, replaces: [] });
    });

    it("is replaced (a new suffix) when a keeper changes, appears or goes, or byteLength changes", async () => {
        const { outs } = await nameSuffixProvider.create(inputs);
        const diff = (news: typeof inputs) => nameSuffixProvider.diff!("id", outs!, news);
        assert.deepEqual(await diff({ ...inputs, keepers: { ...inputs.keepers, location: "europe-west1" } }), {
            changes: true,
            replaces: ["keepers"],
        });
        assert.deepEqual((await diff({ ...inputs, keepers: { ...inputs.keepers, extra: "x" } })).replaces, ["keepers"]);
        assert.deepEqual((await diff({ ...inputs, keepers: { location: "us-central1" } })).replaces, ["keepers"]);
        assert.deepEqual((await diff({ ...inputs, byteLength: 8 })).replaces, ["byteLength"]);
    });

    it("rejects a byteLength outside 1-16 at check", async () => {
        for (const byteLength of [0, 17, 2.5]) {
            const { failures } = await nameSuffixProvider.check!({} as typeof inputs, { ...inputs, byteLength });
            assert.deepEqual(failures?.map((f) => f.property), ["byteLength"], String(byteLength));
        }
        assert.deepEqual(await nameSuffixProvider.check!({} as typeof inputs, inputs), { inputs });
    });

    it("works from its serialized form", async () => {
        const provider = await reloadSerialized(nameSuffixProvider);
        const { id, outs } = await provider.create(inputs);
        assert.match(id, /^[0-9a-f]{8}$/);
        assert.deepEqual(await provider.diff!(id, outs!, inputs), { changes: false, replaces: [] });
        const moved = { ...inputs, keepers: { ...inputs.keepers, location: "europe-west1" } };
        assert.deepEqual(await provider.diff!(id, outs!, moved), { changes: true, replaces: ["keepers"] });
    });
});
