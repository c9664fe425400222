/**
 * The patch-render pipeline, spec v2 (docs/pipeline.md, "multi-scale cells"), with no DOM: square
 * cells from Cmax down to Cmin, split where their block luma varies, within a budget of model inputs
 * per frame, each resampled to P, through the model exactly as a v1 patch, back to its size and
 * pasted. Everything outside the model call is integer arithmetic, so the page writes the same bytes
 * as the numpy and Kotlin cores; the model's normalisation and rounding are v1's (src/pipeline.js).
 */
import { NORMALISED, replicateEdges, toU8 } from "./pipeline.js";

/** The spec's defaults: T, Hy, N, and the largest and smallest cell as multiples and fractions of P. */
export const DEFAULTS = Object.freeze({ threshold: 64, hysteresis: 16, budget: 512, largestTimes: 4, smallestDivisor: 2 });

const LUMA = [77, 150, 29];  // BT.601 in 256ths

const isPowerOfTwo = (n) => Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
const log2 = (n) => 31 - Math.clz32(n);

/** floor(a / b) for non-negative integers below 2^53, exact (a double quotient can round up to the next integer). */
export function floorDiv(a, b) {
  let q = Math.floor(a / b);
  while (q * b > a) q--;
  while ((q + 1) * b <= a) q++;
  return q;
}

/**
 * The settings of one render: {patch, largest, smallest, threshold, hysteresis, budget}. `from` is the
 * bundle manifest's `multiscale` golden entry (largest_cell, smallest_cell, threshold, hysteresis,
 * budget) or a case of it, or nothing for the spec's defaults; bad values raise one RangeError line.
 */
export function multiscaleSettings(patch, from = {}) {
  const s = {
    patch,
    largest: from.largest_cell ?? DEFAULTS.largestTimes * patch,
    smallest: from.smallest_cell ?? patch / DEFAULTS.smallestDivisor,
    threshold: from.threshold ?? DEFAULTS.threshold,
    hysteresis: from.hysteresis ?? DEFAULTS.hysteresis,
    budget: from.budget ?? DEFAULTS.budget,
  };
  if (!(Number.isInteger(patch) && patch >= 2 && patch % 2 === 0)) throw new RangeError(`patch ${patch}: spec v2 needs an even patch size`);
  if (!(s.largest % patch === 0 && isPowerOfTwo(s.largest / patch))) {
    throw new RangeError(`largest cell ${s.largest} must be the patch ${patch} times a power of two (e.g. ${4 * patch})`);
  }
  if (!(s.smallest >= 2 && patch % s.smallest === 0 && isPowerOfTwo(patch / s.smallest))) {
    throw new RangeError(`smallest cell ${s.smallest} must be the patch ${patch} divided by a power of two, and at least 2 (e.g. ${patch / 2})`);
  }
  if (!(Number.isInteger(s.threshold) && s.threshold >= 0)) throw new RangeError(`threshold ${s.threshold} must be 0 or more`);
  if (!(Number.isInteger(s.hysteresis) && s.hysteresis >= 0 && s.hysteresis <= s.threshold)) {
    throw new RangeError(`hysteresis ${s.hysteresis} must be between 0 and the threshold ${s.threshold}`);
  }
  if (!(Number.isInteger(s.budget) && s.budget >= 1)) throw new RangeError(`budget ${s.budget} must be at least 1 cell per frame`);
  return s;
}

/** C_0 = Cmax, C_1 = Cmax/2, …, C_K = Cmin. */
export function cellSizes(s) {
  const sizes = [s.largest];
  while (sizes[sizes.length - 1] > s.smallest) sizes.push(sizes[sizes.length - 1] / 2);
  return sizes;
}

/** Step 1: edge replication at the bottom and right up to multiples of the largest cell. */
export function padToCells(frame, height, width, largest) {
  const h2 = Math.ceil(height / largest) * largest, w2 = Math.ceil(width / largest) * largest;
  return { data: replicateEdges(frame, height, width, h2, w2), h2, w2 };
}

/** Step 2: the luma of each 2×2 block's top-left pixel, (77·R + 150·G + 29·B + 128) >> 8, (H2/2)×(W2/2) row-major. */
export function blockLuma(data, h2, w2) {
  const rows = h2 / 2, cols = w2 / 2, y = new Int32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const a = ((2 * i) * w2 + 2 * j) * 3;
      y[i * cols + j] = (LUMA[0] * data[a] + LUMA[1] * data[a + 1] + LUMA[2] * data[a + 2] + 128) >> 8;
    }
  }
  return y;
}

/**
 * Step 3's sums on each size's grid of cells: S1 = Σ y and S2 = Σ y² at the smallest size, each
 * larger size the sum of its four children (exact: doubles hold integers to 2^53). sums[k] =
 * {rows, cols, s1, s2} for sizes[k].
 */
export function cellSums(y, h2, w2, sizes) {
  const smallest = sizes[sizes.length - 1], k = smallest / 2, yCols = w2 / 2;
  let rows = h2 / smallest, cols = w2 / smallest;
  let s1 = new Float64Array(rows * cols), s2 = new Float64Array(rows * cols);
  for (let i = 0; i < h2 / 2; i++) {
    for (let j = 0; j < yCols; j++) {
      const v = y[i * yCols + j], at = Math.floor(i / k) * cols + Math.floor(j / k);
      s1[at] += v; s2[at] += v * v;
    }
  }
  const sums = [{ rows, cols, s1, s2 }];
  for (let level = sizes.length - 2; level >= 0; level--) {
    const r2 = rows / 2, c2 = cols / 2, t1 = new Float64Array(r2 * c2), t2 = new Float64Array(r2 * c2);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const at = (r >> 1) * c2 + (c >> 1);
        t1[at] += s1[r * cols + c]; t2[at] += s2[r * cols + c];
      }
    }
    rows = r2; cols = c2; s1 = t1; s2 = t2;
    sums.unshift({ rows, cols, s1, s2 });
  }
  return sums;
}

/** (n·S2 − S1²) div n², n = (C/2)² blocks: the cell's block-luma variance in levels², floored. */
export function detail(s1, s2, size) {
  const n = (size / 2) ** 2;
  if (n * n * 65025 <= Number.MAX_SAFE_INTEGER) return floorDiv(n * s2 - s1 * s1, n * n);
  const bn = BigInt(n), b1 = BigInt(s1);
  return Number((bn * BigInt(s2) - b1 * b1) / (bn * bn));
}

/** min((m·S1) div (256·n), m − 1): the luminance band of a cell, darkest → theme 0. */
export function band(s1, size, themes) {
  return Math.min(floorDiv(themes * s1, 256 * (size / 2) ** 2), themes - 1);
}

const cellKey = (size, top, left) => `${size}:${top}:${left}`;

/**
 * Step 4. Level by level, largest first: the live cells of that size whose detail is above their bar
 * (T; with a previous layout T − Hy for cells split then, T + Hy for the others), those split before
 * first, then by detail descending, then row-major, split while the budget holds; the first that would
 * exceed it stops the level. Returns {key, split (a Set the next frame takes as prev), leaves in paste
 * order ({top, left, size, s1}), count}.
 */
export function chooseLayout(sums, sizes, height, width, h2, w2, s, prev = null) {
  const key = [h2, w2, sizes.join("/"), s.threshold, s.hysteresis, s.budget].join(",");
  const was = prev && prev.key === key ? prev.split : null;
  const at = (level, top, left) => (top / sizes[level]) * sums[level].cols + left / sizes[level];
  let cells = [];
  for (let top = 0; top < h2; top += sizes[0]) for (let left = 0; left < w2; left += sizes[0]) cells.push({ top, left });
  let count = cells.length;
  const split = new Set(), leaves = [];
  for (let level = 0; level < sizes.length; level++) {
    const size = sizes[level], { s1, s2 } = sums[level];
    for (const cell of cells) {
      const i = at(level, cell.top, cell.left);
      cell.size = size; cell.s1 = s1[i]; cell.detail = detail(s1[i], s2[i], size);
      cell.was = was !== null && was.has(cellKey(size, cell.top, cell.left));
    }
    if (level === sizes.length - 1) { leaves.push(...cells); break; }
    const bar = (cell) => (was === null ? s.threshold : cell.was ? s.threshold - s.hysteresis : s.threshold + s.hysteresis);
    const cand = cells.filter((cell) => cell.detail > bar(cell));
    cand.sort((a, b) => (b.was - a.was) || (b.detail - a.detail) || (a.top - b.top) || (a.left - b.left));
    const h = size / 2, next = [];
    for (const cell of cand) {
      const kids = [[0, 0], [0, h], [h, 0], [h, h]]
        .map(([dt, dl]) => ({ top: cell.top + dt, left: cell.left + dl }))
        .filter((kid) => kid.top < height && kid.left < width);
      if (count + kids.length - 1 > s.budget) break;
      count += kids.length - 1;
      cell.split = true;
      split.add(cellKey(size, cell.top, cell.left));
      next.push(...kids);
    }
    leaves.push(...cells.filter((cell) => !cell.split));
    cells = next.sort((a, b) => (a.top - b.top) || (a.left - b.left));
  }
  return { key, split, leaves, count };
}

/** Step 6: a cell of the padded frame as a P×P×3 patch: its box mean rounded half up (C ≥ P) or its replication (C < P). */
export function cellToPatch(data, w2, top, left, size, patch, out = new Uint8Array(patch * patch * 3)) {
  const row = patch * 3;
  if (size === patch) {
    for (let i = 0; i < patch; i++) out.set(data.subarray(((top + i) * w2 + left) * 3, ((top + i) * w2 + left) * 3 + row), i * row);
    return out;
  }
  if (size > patch) {
    const f = size / patch, shift = 2 * log2(f), sums = new Int32Array(row);
    for (let i = 0; i < patch; i++) {
      sums.fill((f * f) >> 1);
      for (let u = 0; u < f; u++) {  // the f source rows of patch row i, read in memory order
        let p = ((top + f * i + u) * w2 + left) * 3;
        for (let j = 0; j < row; j += 3) {
          for (let v = 0; v < f; v++, p += 3) { sums[j] += data[p]; sums[j + 1] += data[p + 1]; sums[j + 2] += data[p + 2]; }
        }
      }
      for (let x = 0; x < row; x++) out[i * row + x] = sums[x] >> shift;
    }
    return out;
  }
  const g = patch / size;
  for (let i = 0; i < patch; i++) {
    for (let j = 0; j < patch; j++) {
      const s = ((top + Math.floor(i / g)) * w2 + left + Math.floor(j / g)) * 3, d = (i * patch + j) * 3;
      out[d] = data[s]; out[d + 1] = data[s + 1]; out[d + 2] = data[s + 2];
    }
  }
  return out;
}

/** Step 8's taps on one axis of a cell C = P·f: source rows lo, hi and weights w0, w1 in units of 1/(2f). */
export function bilinearTaps(size, patch) {
  const f = size / patch, lo = new Int32Array(size), hi = new Int32Array(size), w0 = new Int32Array(size), w1 = new Int32Array(size);
  for (let t = 0; t < size; t++) {
    const num = 2 * t + 1 - f, i0 = Math.floor(num / (2 * f)), r = num - 2 * f * i0;
    lo[t] = Math.min(Math.max(i0, 0), patch - 1);
    hi[t] = Math.min(Math.max(i0 + 1, 0), patch - 1);
    w0[t] = 2 * f - r; w1[t] = r;
  }
  return { lo, hi, w0, w1 };
}

/** Step 8: a rounded P×P×3 output back to its C×C×3 cell — as is, integer bilinear up, or box mean down. */
export function patchToCell(q, patch, size) {
  if (size === patch) return q;
  const out = new Uint8Array(size * size * 3);
  if (size < patch) {
    const g = patch / size, shift = 2 * log2(g), half = (g * g) >> 1;
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        for (let ch = 0; ch < 3; ch++) {
          let acc = half;
          for (let u = 0; u < g; u++) for (let v = 0; v < g; v++) acc += q[((g * i + u) * patch + g * j + v) * 3 + ch];
          out[(i * size + j) * 3 + ch] = acc >> shift;
        }
      }
    }
    return out;
  }
  const f = size / patch, shift = 2 * log2(f) + 2, half = 2 * f * f;
  const { lo, hi, w0, w1 } = bilinearTaps(size, patch);
  const h = new Int32Array(patch * size * 3), row = size * 3;  // rows first
  for (let i = 0; i < patch; i++) {
    for (let v = 0, d = i * row; v < size; v++, d += 3) {
      const a = (i * patch + lo[v]) * 3, b = (i * patch + hi[v]) * 3, wa = w0[v], wb = w1[v];
      h[d] = wa * q[a] + wb * q[b]; h[d + 1] = wa * q[a + 1] + wb * q[b + 1]; h[d + 2] = wa * q[a + 2] + wb * q[b + 2];
    }
  }
  for (let u = 0; u < size; u++) {  // then columns: a weighted sum of two rows of h
    const a = lo[u] * row, b = hi[u] * row, d = u * row, wa = w0[u], wb = w1[u];
    for (let x = 0; x < row; x++) out[d + x] = (wa * h[a + x] + wb * h[b + x] + half) >> shift;
  }
  return out;
}

/**
 * Spec v2 steps 1–10: uint8 H×W×3 in, {frame: uint8 H×W×3, cells: Int32Array K×4 (top, left, size,
 * theme in paste order), floats (with keepFloat: each leaf's model output, K×P×P×3, before rounding)}.
 * `models` is one `model(feed)` (the v1 interface: `batch` NCHW patches in, the same layout out) or an
 * array of them, one per theme (luminance bands when several). `state` carries the layout from frame
 * to frame for video (hysteresis): pass the same object for every frame of one stream.
 */
export async function renderMultiscale(frame, height, width, models, s, { batch, state = {}, keepFloat = false } = {}) {
  const list = Array.isArray(models) ? models : [models];
  const { patch } = s, sizes = cellSizes(s);
  const { data, h2, w2 } = padToCells(frame, height, width, sizes[0]);
  const sums = cellSums(blockLuma(data, h2, w2), h2, w2, sizes);
  const layout = chooseLayout(sums, sizes, height, width, h2, w2, s, state.prev ?? null);
  state.prev = layout;
  const leaves = layout.leaves, themes = list.length;
  const theme = leaves.map((cell) => (themes === 1 ? 0 : band(cell.s1, cell.size, themes)));
  const plane = patch * patch, size = 3 * plane, feed = new Float32Array(batch * size);
  const patchU8 = new Uint8Array(size), done = new Array(leaves.length);
  const floats = keepFloat ? new Float32Array(leaves.length * size) : null;
  for (let t = 0; t < themes; t++) {
    const members = [];
    for (let k = 0; k < leaves.length; k++) if (theme[k] === t) members.push(k);
    for (let start = 0; start < members.length; start += batch) {
      const n = Math.min(batch, members.length - start);
      for (let b = 0; b < n; b++) {
        const cell = leaves[members[start + b]];
        cellToPatch(data, w2, cell.top, cell.left, cell.size, patch, patchU8);
        for (let ch = 0; ch < 3; ch++) {
          const o = b * size + ch * plane;
          for (let q = 0, d = ch; q < plane; q++, d += 3) feed[o + q] = NORMALISED[patchU8[d]];
        }
      }
      feed.fill(0, n * size);
      const y = await list[t](feed);
      for (let b = 0; b < n; b++) {
        const k = members[start + b], q8 = new Uint8Array(size);
        for (let ch = 0; ch < 3; ch++) {  // NCHW out, H×W×3 kept
          const o = b * size + ch * plane;
          for (let q = 0, d = ch; q < plane; q++, d += 3) q8[d] = toU8(y[o + q]);
          if (floats) for (let q = 0, d = k * size + ch; q < plane; q++, d += 3) floats[d] = y[o + q];
        }
        done[k] = q8;
      }
    }
  }
  const out = new Uint8Array(h2 * w2 * 3);
  const cells = new Int32Array(leaves.length * 4);
  leaves.forEach((cell, k) => {
    const o = patchToCell(done[k], patch, cell.size), row = cell.size * 3;
    for (let u = 0; u < cell.size; u++) out.set(o.subarray(u * row, (u + 1) * row), ((cell.top + u) * w2 + cell.left) * 3);
    cells.set([cell.top, cell.left, cell.size, theme[k]], 4 * k);
  });
  let result = out;
  if (h2 !== height || w2 !== width) {
    result = new Uint8Array(height * width * 3);
    for (let r = 0; r < height; r++) result.set(out.subarray(r * w2 * 3, (r * w2 + width) * 3), r * width * 3);
  }
  return { frame: result, cells, floats };
}
