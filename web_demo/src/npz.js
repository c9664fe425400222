/**
 * Reading the bundle's golden vectors (uncompressed .npz: a stored zip of .npy files, docs/bundle.md)
 * in node or a browser, with no dependency: the central directory gives each member's offset, the
 * local header its data, and the .npy header its dtype and shape. Only little-endian float32, int32
 * (spec v2's cell layouts) and uint8 in C order are accepted — the only kinds the bundle writes.
 */
const DTYPES = { "<f4": Float32Array, "<i4": Int32Array, "|u1": Uint8Array, "<u1": Uint8Array };

/** {name without .npy: {dtype, shape, data}} from the bytes of an .npz file. */
export function readNpz(bytes) {
  // A plain Uint8Array view (a node Buffer's slice() would not copy).
  const buf = ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let end = buf.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) throw new Error("not a zip file (no end of central directory)");
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const out = {};
  for (let k = 0; k < count; k++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error("corrupt zip central directory");
    const method = view.getUint16(at + 10, true);
    let size = view.getUint32(at + 20, true), local = view.getUint32(at + 42, true);
    const nameLen = view.getUint16(at + 28, true), extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    const name = new TextDecoder().decode(buf.subarray(at + 46, at + 46 + nameLen));
    if (size === 0xffffffff || local === 0xffffffff) ({ size, local } = zip64(view, at + 46 + nameLen, extraLen, size, local));
    if (method !== 0) throw new Error(`${name}: compressed members are not supported (save with np.savez)`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    out[name.replace(/\.npy$/, "")] = readNpy(buf.subarray(start, start + size), name);
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

function zip64(view, at, length, size, local) {
  for (let p = at; p < at + length; p += 4 + view.getUint16(p + 2, true)) {
    if (view.getUint16(p, true) !== 1) continue;
    let q = p + 4;
    const next = () => { const v = Number(view.getBigUint64(q, true)); q += 8; return v; };
    if (size === 0xffffffff) { next(); size = next(); }  // uncompressed, then compressed size
    if (local === 0xffffffff) local = next();
  }
  return { size, local };
}

export function readNpy(bytes, name = "array") {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0x93 || new TextDecoder().decode(bytes.subarray(1, 6)) !== "NUMPY") throw new Error(`${name}: not an .npy file`);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const offset = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(offset, offset + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const Type = DTYPES[descr];
  if (!Type || /'fortran_order':\s*True/.test(header)) throw new Error(`${name}: dtype ${descr} or Fortran order is not supported`);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)[1].match(/\d+/g) || []).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = offset + headerLen;
  // A copy: the member's offset inside the zip need not be aligned for a Float32Array view.
  const data = new Type(bytes.slice(start, start + count * Type.BYTES_PER_ELEMENT).buffer);
  return { dtype: descr.slice(1), shape, data };
}
