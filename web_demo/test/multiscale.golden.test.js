// Spec v2 (multi-scale cells) through src/multiscale.js on a bundle's golden/multiscale.npz: every
// stand-in case — identity, affine and ramp models on frames smaller than Cmax and not a multiple of
// it, two themes by luminance band, a budget that stops a level, a still noisy video rendered with its
// layout carried — gives the numpy pipeline's cells and bytes exactly; the layouts of the still
// video do not change from frame to frame; the held-out golden frames get the PyTorch pipeline's cells.
// Run: YGAN_BUNDLE=path/to/bundle node --test test/   (tests/apps/test_web.py does)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { readNpz } from "../src/npz.js";
import { multiscaleSettings, renderMultiscale } from "../src/multiscale.js";
import { standIn } from "./support/standins.js";

const bundle = process.env.YGAN_BUNDLE;
const manifest = bundle && JSON.parse(readFileSync(join(bundle, "manifest.json"), "utf8"));
const entry = manifest?.golden.find((g) => g.kind === "multiscale");

test("the bundle has spec v2 stand-in cases of every kind, at the spec's default settings", { skip: !bundle && "set YGAN_BUNDLE" }, () => {
  const cases = entry.stand_ins;
  assert.deepEqual(new Set(cases.flatMap((c) => c.models)), new Set(["identity", "affine", "ramp"]));
  assert.ok(cases.some((c) => c.models.length > 1), "no case with several themes");
  assert.ok(cases.some((c) => c.frames.length > 1), "no video case");
  assert.ok(cases.some((c) => c.budget < entry.budget), "no case with a tight budget");
  // the bundle's goldens are at the spec's defaults: this core's defaults are the same numbers
  assert.deepEqual(multiscaleSettings(manifest.pipeline.patch, entry), multiscaleSettings(manifest.pipeline.patch));
});

test("the held-out golden frames get the PyTorch pipeline's cells (the layout needs no model)", { skip: !bundle && "set YGAN_BUNDLE" }, async () => {
  const arrays = golden();
  const settings = multiscaleSettings(manifest.pipeline.patch, entry);
  const frames = Object.keys(arrays).filter((k) => /^frame\.\d+$/.test(k));
  assert.ok(frames.length > 0, "no golden frames");
  for (const key of frames) {
    const frame = arrays[key], [height, width] = frame.shape;
    const got = await renderMultiscale(frame.data, height, width, async (x) => x, settings, { batch: entry.batch });
    assert.deepEqual(got.cells, arrays[key.replace("frame", "layout")].data, `${key}: cells differ`);
  }
});

for (const c of entry?.stand_ins ?? []) {
  test(`${c.key}: ${c.models.join("+")} on ${c.frames.join(", ")}, cells ${c.largest_cell}..${c.smallest_cell}, T${c.threshold} Hy${c.hysteresis} N${c.budget}`, async () => {
    const arrays = golden();
    const settings = multiscaleSettings(c.patch, c);
    const models = c.models.map((model) => standIn({ ...c, model }));
    const state = {};
    const layouts = [];
    for (const [f, key] of c.frames.entries()) {
      const frame = arrays[key];
      const [height, width] = frame.shape;
      const got = await renderMultiscale(frame.data, height, width, models, settings, { batch: c.batch, state });
      const wantCells = arrays[`${c.key}.layout.${f}`], wantU8 = arrays[`${c.key}.u8.${f}`];
      assert.deepEqual(got.cells, wantCells.data, `${key}: cells differ`);
      assert.equal(got.frame.length, wantU8.data.length);
      let diff = 0;
      for (let i = 0; i < got.frame.length; i++) diff += got.frame[i] !== wantU8.data[i];
      assert.equal(diff, 0, `${key}: ${diff} bytes differ`);
      layouts.push(got.cells);
    }
    if (c.frames.length > 1) for (const cells of layouts) assert.deepEqual(cells, layouts[0], "the still video's layout changed");
  });
}

let cache;
function golden() {
  cache ??= readNpz(readFileSync(join(bundle, entry.path)));
  return cache;
}
