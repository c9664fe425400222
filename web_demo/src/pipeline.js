/**
 * The patch-render pipeline of DESIGN §4 (spec v1) with no DOM, so node's test runner holds it to
 * the bundle's golden vectors and the page runs the same code. uint8 RGB H×W×3 in and out; every
 * step in float32 (Float32Array stores and Math.fround where an intermediate would stay a double),
 * because the numpy and Kotlin cores compute in float32 and the rounding must land on their bytes.
 */
const f = Math.fround;

/** Grid starts on one axis: k·S while the patch fits, then L − P if the edge is not reached. */
export function positions(length, patch, stride) {
  if (!(stride >= 1 && stride <= patch)) throw new RangeError(`stride ${stride} must be between 1 and the patch size ${patch}`);
  if (length < patch) throw new RangeError(`axis of length ${length} is shorter than the patch ${patch}: pad first`);
  const out = [];
  for (let p = 0; p + patch <= length; p += stride) out.push(p);
  if (out[out.length - 1] + patch < length) out.push(length - patch);
  return out;
}

/** 1-D feather weights: min(1, (i + 0.5)/O, (P − i − 0.5)/O) with O = P − S, ones when O = 0. */
export function window(patch, stride) {
  const overlap = patch - stride;
  const w = new Float32Array(patch).fill(1);
  if (overlap) for (let i = 0; i < patch; i++) w[i] = Math.min(1, (i + 0.5) / overlap, (patch - i - 0.5) / overlap);
  return w;
}

/** x = u8 / 127.5 − 1 for each byte value, in float32. */
export const NORMALISED = Float32Array.from({ length: 256 }, (_, v) => f(f(v / 127.5) - 1));

/** u8 = floor(clip((y + 1)·127.5, 0, 255) + 0.5): adding 0.5 before clipping to [0.5, 255.5] and
 * truncating gives the same bytes, the way the numpy core computes it. */
export function toU8(y) {
  const t = f(f(f(y + 1) * 127.5) + 0.5);
  return t <= 0.5 ? 0 : t >= 255.5 ? 255 : t | 0;
}

export function quantise(y) {
  const out = new Uint8Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = toU8(y[i]);
  return out;
}

/** A height×width RGB frame grown to ph×pw (≥ its own size) by repeating its last row and column:
 *  the padding of spec v1 step 2 and spec v2 step 1. */
export function replicateEdges(frame, height, width, ph, pw) {
  if (ph === height && pw === width) return frame;
  const data = new Uint8Array(ph * pw * 3);
  for (let y = 0; y < ph; y++) {
    const sy = Math.min(y, height - 1);
    for (let x = 0; x < pw; x++) {
      const s = (sy * width + Math.min(x, width - 1)) * 3, d = (y * pw + x) * 3;
      data[d] = frame[s]; data[d + 1] = frame[s + 1]; data[d + 2] = frame[s + 2];
    }
  }
  return data;
}

/** Edge-replicate a frame to at least P on both axes (step 2); the caller crops back. */
export function padEdge(frame, height, width, patch) {
  const ph = Math.max(height, patch), pw = Math.max(width, patch);
  return { data: replicateEdges(frame, height, width, ph, pw), ph, pw };
}

/**
 * Blended float32 H×W×3 output in [-1, 1], before rounding. `model(feed)` takes a Float32Array of
 * `batch` NCHW patches and resolves to their outputs in the same layout (it may reuse its buffers:
 * each result is read before the next call). Patches go in row-major order, `batch` at a time, the
 * last chunk zero-padded and its padding outputs dropped (step 7).
 */
export async function renderFloat(frame, height, width, model, { patch, stride, blend = "feather", batch }) {
  if (blend !== "feather" && blend !== "paste") throw new RangeError(`blend '${blend}' is not feather or paste`);
  const { data, ph, pw } = padEdge(frame, height, width, patch);
  const rows = positions(ph, patch, stride), cols = positions(pw, patch, stride);
  const w = window(patch, stride);
  const weight = new Float32Array(patch * patch);
  for (let i = 0; i < patch; i++) for (let j = 0; j < patch; j++) weight[i * patch + j] = w[i] * w[j];
  const acc = new Float32Array(ph * pw * 3);
  const plane = patch * patch, size = 3 * plane, total = rows.length * cols.length;
  const feed = new Float32Array(batch * size);
  for (let start = 0; start < total; start += batch) {
    const n = Math.min(batch, total - start);
    for (let k = 0; k < n; k++) tile(data, pw, rows, cols, start + k, patch, feed, k * size);
    feed.fill(0, n * size);
    const out = await model(feed);
    for (let k = 0; k < n; k++) {
      const cell = start + k, top = rows[Math.floor(cell / cols.length)], left = cols[cell % cols.length];
      if (blend === "paste") paste(out, k * size, acc, pw, top, left, patch);
      else feather(out, k * size, weight, acc, pw, top, left, patch);
    }
  }
  if (blend === "feather") normaliseWeights(acc, rows, cols, w, ph, pw, patch);
  return crop(acc, ph, pw, height, width);
}

/** The whole spec: uint8 H×W×3 in, uint8 H×W×3 out. */
export async function renderFrame(frame, height, width, model, options) {
  return quantise(await renderFloat(frame, height, width, model, options));
}

function tile(data, pw, rows, cols, cell, patch, feed, offset) {
  const top = rows[Math.floor(cell / cols.length)], left = cols[cell % cols.length], plane = patch * patch;
  for (let i = 0; i < patch; i++) {
    let s = ((top + i) * pw + left) * 3;
    const d = offset + i * patch;
    for (let j = 0; j < patch; j++, s += 3) {
      feed[d + j] = NORMALISED[data[s]];
      feed[d + plane + j] = NORMALISED[data[s + 1]];
      feed[d + 2 * plane + j] = NORMALISED[data[s + 2]];
    }
  }
}

function paste(out, offset, acc, pw, top, left, patch) {
  const plane = patch * patch;
  for (let i = 0; i < patch; i++) {
    let d = ((top + i) * pw + left) * 3;
    const s = offset + i * patch;
    for (let j = 0; j < patch; j++, d += 3) {
      acc[d] = out[s + j]; acc[d + 1] = out[s + plane + j]; acc[d + 2] = out[s + 2 * plane + j];
    }
  }
}

function feather(out, offset, weight, acc, pw, top, left, patch) {
  const plane = patch * patch;
  for (let i = 0; i < patch; i++) {
    let d = ((top + i) * pw + left) * 3;
    const s = offset + i * patch;
    for (let j = 0; j < patch; j++, d += 3) {
      const wij = weight[i * patch + j];
      acc[d] += f(wij * out[s + j]);
      acc[d + 1] += f(wij * out[s + plane + j]);
      acc[d + 2] += f(wij * out[s + 2 * plane + j]);
    }
  }
}

/** Σ_k W over a pixel is the product of the 1-D window sums of its row and column (W = w⊗w). */
function normaliseWeights(acc, rows, cols, w, ph, pw, patch) {
  const sumR = new Float32Array(ph), sumC = new Float32Array(pw);
  for (const r of rows) for (let i = 0; i < patch; i++) sumR[r + i] += w[i];
  for (const c of cols) for (let j = 0; j < patch; j++) sumC[c + j] += w[j];
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      const norm = f(sumR[y] * sumC[x]), d = (y * pw + x) * 3;
      acc[d] /= norm; acc[d + 1] /= norm; acc[d + 2] /= norm;
    }
  }
}

function crop(acc, ph, pw, height, width) {
  if (ph === height && pw === width) return acc;
  const out = new Float32Array(height * width * 3);
  for (let y = 0; y < height; y++) out.set(acc.subarray(y * pw * 3, (y * pw + width) * 3), y * width * 3);
  return out;
}
