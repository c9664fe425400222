// The pipeline core's rules on hand-computed values (no bundle needed).
import assert from "node:assert/strict";
import { test } from "node:test";

import { NORMALISED, positions, renderFrame, toU8, window } from "../src/pipeline.js";

test("grid positions step by S and end on L − P", () => {
  assert.deepEqual(positions(10, 4, 3), [0, 3, 6]);
  assert.deepEqual(positions(10, 4, 4), [0, 4, 6]);
  assert.deepEqual(positions(8, 4, 4), [0, 4]);
  assert.deepEqual(positions(4, 4, 1), [0]);
  assert.throws(() => positions(3, 4, 2), /pad first/);
});

test("feather window ramps over the overlap", () => {
  assert.deepEqual([...window(4, 2)], [0.25, 0.75, 0.75, 0.25]);
  assert.deepEqual([...window(4, 4)], [1, 1, 1, 1]);
  assert.deepEqual([...window(6, 4)], [0.25, 0.75, 1, 1, 0.75, 0.25]);
});

test("normalisation and rounding invert each other on every byte", () => {
  assert.equal(NORMALISED[0], -1);
  assert.equal(NORMALISED[255], 1);
  for (let v = 0; v < 256; v++) assert.equal(toU8(NORMALISED[v]), v);
  assert.equal(toU8(-2), 0);
  assert.equal(toU8(3), 255);
  assert.equal(toU8(Math.fround(0.5 / 127.5 - 1)), 1);  // exactly half a level rounds up
});

test("batches are chunks of B, the last zero-padded and its outputs dropped", async () => {
  const feeds = [];
  const recording = async (x) => { feeds.push(Float32Array.from(x)); return new Float32Array(x.length); };
  const frame = new Uint8Array(4 * 12 * 3).fill(255);  // 3 patches of 4×4 at stride 4
  const out = await renderFrame(frame, 4, 12, recording, { patch: 4, stride: 4, blend: "paste", batch: 2 });
  assert.equal(feeds.length, 2);
  assert.equal(feeds[1].length, 2 * 3 * 16);
  assert.ok(feeds[1].subarray(0, 48).every((v) => v === 1));
  assert.ok(feeds[1].subarray(48).every((v) => v === 0));
  assert.ok(out.every((v) => v === 128));  // y = 0 rounds to 127.5 + 0.5 → 128
});
