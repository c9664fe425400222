// Every stand-in case of a bundle's golden/pipeline.npz through src/pipeline.js, held to the same
// tolerances as verify's stand-in check and the Kotlin core: floats within 1e-5 of the numpy
// pipeline, bytes equal for the identity and within one level otherwise.
// Run: YGAN_BUNDLE=path/to/bundle node --test test/   (tests/apps/test_web.py does, in make test)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { readNpz } from "../src/npz.js";
import { renderFloat, quantise } from "../src/pipeline.js";
import { standIn } from "./support/standins.js";

const bundle = process.env.YGAN_BUNDLE;
const manifest = bundle && JSON.parse(readFileSync(join(bundle, "manifest.json"), "utf8"));
const entry = manifest?.golden.find((g) => g.kind === "pipeline");

test("the bundle has pipeline cases", { skip: !bundle && "set YGAN_BUNDLE" }, () => {
  assert.ok(entry.cases.length >= 12, `only ${entry.cases.length} cases`);
  assert.ok(new Set(entry.cases.map((c) => c.blend)).size === 2);
});

for (const c of entry?.cases ?? []) {
  test(`${c.key}: ${c.model} ${c.height}x${c.width} P${c.patch} S${c.stride} ${c.blend} B${c.batch}`, async () => {
    const arrays = golden();
    const frame = arrays[c.frame];
    assert.deepEqual(frame.shape, [c.height, c.width, 3]);
    const got = await renderFloat(frame.data, c.height, c.width, standIn(c), c);
    const want = arrays[`${c.key}.float`].data, wantU8 = arrays[`${c.key}.u8`].data;
    let err = 0, diff = 0;
    const gotU8 = quantise(got);
    for (let i = 0; i < want.length; i++) {
      err = Math.max(err, Math.abs(got[i] - want[i]));
      diff = Math.max(diff, Math.abs(gotU8[i] - wantU8[i]));
    }
    assert.equal(got.length, want.length);
    assert.ok(err <= 1e-5, `max abs ${err}`);
    assert.ok(diff <= (c.model === "identity" ? 0 : 1), `uint8 diff ${diff}`);
  });
}

let cache;
function golden() {
  cache ??= readNpz(readFileSync(join(bundle, entry.path)));
  return cache;
}
