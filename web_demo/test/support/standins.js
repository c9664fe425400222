/** docs/bundle.md's stand-in models on NCHW float32 batches, in float32 like the numpy originals. */
const f = Math.fround;

export function standIn(c) {
  const p = c.patch, plane = p * p;
  if (c.model === "identity") return async (x) => x;
  if (c.model !== "affine" && c.model !== "ramp") throw new Error(`unknown stand-in model '${c.model}'`);
  const a = c.a.map(f), b = c.b.map(f);
  const ramp = new Float32Array(plane);  // k·float(i − j)/float(P); zero for the affine map
  if (c.model === "ramp") for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) ramp[i * p + j] = f(f(f(c.k) * (i - j)) / p);
  return async (x) => {
    const y = new Float32Array(x.length);
    for (let n = 0; n < x.length; n += 3 * plane) {
      for (let ch = 0; ch < 3; ch++) {
        for (let q = 0; q < plane; q++) {
          const at = n + ch * plane + q;
          y[at] = f(f(f(a[ch] * x[at]) + b[ch]) + ramp[q]);
        }
      }
    }
    return y;
  };
}
