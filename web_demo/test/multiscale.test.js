// Spec v2's integer steps on hand-computed values (no bundle needed): block luma, the variance, the
// bilinear taps for f = 2 and 4, the budget stop, hysteresis, live cells at the frame's edge.
import assert from "node:assert/strict";
import { test } from "node:test";

import { bilinearTaps, blockLuma, cellSizes, cellToPatch, chooseLayout, detail, multiscaleSettings, patchToCell,
  renderMultiscale } from "../src/multiscale.js";

const gray = (values) => Uint8Array.from(values.flatMap((v) => [v, v, v]));

test("block luma is BT.601 in 256ths of each 2×2 block's top-left pixel, rounded half up", () => {
  assert.deepEqual([...blockLuma(gray([255, 255, 255, 255]), 2, 2)], [255]);  // (256·255 + 128) >> 8
  const block = Uint8Array.from([10, 20, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...blockLuma(block, 2, 2)], [18]);  // (77·10 + 150·20 + 29·30 + 128) >> 8 = 4768 >> 8
  // only the top-left pixel counts: a 4×2 frame, blocks (100, 0, 0, 0) and (0, 200, 200, 200)
  const frame = gray([100, 0, 0, 200, 0, 0, 200, 200]);
  assert.deepEqual([...blockLuma(frame, 2, 4)], [100, 0]);
});

test("detail is the floored variance of the block lumas", () => {
  assert.equal(detail(255, 255 * 255, 4), 12192);  // lumas 255, 0, 0, 0: (4·65025 − 255²) div 16 = 195075 div 16
  assert.equal(detail(4 * 77, 4 * 77 * 77, 4), 0);  // flat
  assert.equal(detail(0 + 1 + 2 + 3, 0 + 1 + 4 + 9, 4), 1);  // (4·14 − 36) div 16 = 20 div 16
  const n = 2048 * 2048;  // a 4096-px cell, half its lumas 0, half 255: n²·255² is past 2^53, exact in BigInt
  assert.equal(detail(255 * n / 2, 65025 * n / 2, 4096), 16256);  // 32512.5 − 127.5² = 16256.25
});

test("bilinear taps for f = 2 weigh 1/4 and 3/4 and clamp at the edges", () => {
  const { lo, hi, w0, w1 } = bilinearTaps(4, 2);
  assert.deepEqual([...lo], [0, 0, 0, 1]);
  assert.deepEqual([...hi], [0, 1, 1, 1]);
  assert.deepEqual([...w0], [1, 3, 1, 3]);
  assert.deepEqual([...w1], [3, 1, 3, 1]);
  // a 2×2 patch with columns 0 and 100 becomes columns 0, 25, 75, 100 (302 >> 2 = 75)
  const cell = patchToCell(gray([0, 100, 0, 100]), 2, 4);
  assert.deepEqual([...cell.filter((_, i) => i % 3 === 0)], [0, 25, 75, 100, 0, 25, 75, 100, 0, 25, 75, 100, 0, 25, 75, 100]);
});

test("bilinear taps for f = 4 weigh eighths", () => {
  const { lo, hi, w0, w1 } = bilinearTaps(8, 2);
  assert.deepEqual([...lo], [0, 0, 0, 0, 0, 0, 1, 1]);
  assert.deepEqual([...hi], [0, 0, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual([...w1], [5, 7, 1, 3, 5, 7, 1, 3]);
  assert.deepEqual([...w0], [3, 1, 7, 5, 3, 1, 7, 5]);
  const cell = patchToCell(gray([0, 160, 0, 160]), 2, 8);
  assert.deepEqual([...cell.subarray(0, 24).filter((_, i) => i % 3 === 0)], [0, 0, 20, 60, 100, 140, 160, 160]);
});

test("to a patch: box mean rounded half up for large cells, replication for small ones; back: box mean", () => {
  // a 4×4 cell to P = 2: each 2×2 box's mean, (sum + 2) >> 2
  const cell = gray([0, 1, 10, 10, 2, 2, 10, 11, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual([...cellToPatch(cell, 4, 0, 0, 4, 2).filter((_, i) => i % 3 === 0)], [1, 10, 0, 0]);  // 5/4 → 1, 41/4 → 10
  const small = cellToPatch(gray([7, 9, 0, 0]), 2, 0, 0, 1, 2);
  assert.deepEqual([...small.filter((_, i) => i % 3 === 0)], [7, 7, 7, 7]);
  assert.deepEqual([...patchToCell(gray([1, 2, 2, 2]), 2, 1).filter((_, i) => i % 3 === 0)], [2]);  // (7 + 2) >> 2
});

/** Sums for two cells of 4 (n = 4 blocks) side by side with the given details (S1 = 0, S2 = 4·D), and their children. */
function sums(d0, d1) {
  return [
    { rows: 1, cols: 2, s1: Float64Array.from([0, 0]), s2: Float64Array.from([4 * d0, 4 * d1]) },
    { rows: 2, cols: 4, s1: new Float64Array(8), s2: new Float64Array(8) },
  ];
}
const SETTINGS = { patch: 2, largest: 4, smallest: 2, threshold: 64, hysteresis: 16, budget: 512 };

test("the budget stops a level at the first cell that does not fit, most detailed first", () => {
  const s = { ...SETTINGS, budget: 5 };
  const { leaves, count } = chooseLayout(sums(100, 200), [4, 2], 4, 8, 4, 8, s);
  assert.equal(count, 5);  // 2 roots, the right one (more detail) split: 2 + 3
  assert.deepEqual(leaves.map((c) => [c.top, c.left, c.size]), [[0, 0, 4], [0, 4, 2], [0, 6, 2], [2, 4, 2], [2, 6, 2]]);
  const tie = chooseLayout(sums(100, 100), [4, 2], 4, 8, 4, 8, s).leaves;  // equal detail: row-major
  assert.deepEqual(tie.map((c) => c.size), [4, 2, 2, 2, 2]);
  assert.equal(tie[0].left, 4);
});

test("cells wholly in the padding do not exist and do not count", () => {
  const s = { ...SETTINGS, budget: 3 };
  // frame 3×6 padded to 4×8: the right cell's children at left 6 lie in the padding
  const { leaves, count } = chooseLayout(sums(0, 200), [4, 2], 3, 6, 4, 8, s);
  assert.equal(count, 3);
  assert.deepEqual(leaves.map((c) => [c.top, c.left, c.size]), [[0, 0, 4], [0, 4, 2], [2, 4, 2]]);
});

test("hysteresis: a split cell stays split down to T − Hy, a new one needs T + Hy", () => {
  const first = chooseLayout(sums(70, 60), [4, 2], 4, 8, 4, 8, SETTINGS);  // no state: bar T = 64
  assert.deepEqual([...first.split], ["4:0:0"]);
  const held = chooseLayout(sums(50, 79), [4, 2], 4, 8, 4, 8, SETTINGS, first);  // bars 48 and 80
  assert.deepEqual([...held.split], ["4:0:0"]);
  const dropped = chooseLayout(sums(48, 81), [4, 2], 4, 8, 4, 8, SETTINGS, held);
  assert.deepEqual([...dropped.split], ["4:0:4"]);
  const changed = chooseLayout(sums(50, 79), [4, 2], 4, 8, 4, 8, { ...SETTINGS, budget: 511 }, first);  // another budget: no state, bar T
  assert.deepEqual([...changed.split], ["4:0:4"]);
});

test("settings: the spec's defaults, and one line for a bad value", () => {
  assert.deepEqual(cellSizes(multiscaleSettings(32)), [128, 64, 32, 16]);
  assert.deepEqual(multiscaleSettings(16, { largest_cell: 32, smallest_cell: 4, threshold: 10, hysteresis: 2, budget: 9 }),
    { patch: 16, largest: 32, smallest: 4, threshold: 10, hysteresis: 2, budget: 9 });
  assert.throws(() => multiscaleSettings(16, { largest_cell: 48 }), /largest cell 48 must be the patch 16 times a power of two/);
  assert.throws(() => multiscaleSettings(16, { threshold: 8, hysteresis: 9 }), /hysteresis 9 must be between 0 and the threshold 8/);
  assert.throws(() => multiscaleSettings(16, { budget: 0 }), /budget 0/);
});

test("an identity model returns a flat frame exactly and batches every size together per theme", async () => {
  const feeds = [];
  const identity = async (x) => { feeds.push(x.length); return x; };
  const frame = new Uint8Array(5 * 7 * 3).fill(77);
  const s = { ...SETTINGS };
  const out = await renderMultiscale(frame, 5, 7, identity, s, { batch: 3 });
  assert.deepEqual(out.frame, frame);
  assert.deepEqual([...out.cells], [0, 0, 4, 0, 0, 4, 4, 0, 4, 0, 4, 0, 4, 4, 4, 0]);  // 4 roots over the 8×8 padding
  assert.deepEqual(feeds, [3 * 12, 3 * 12]);  // 4 cells in chunks of 3, the last zero-padded
});
