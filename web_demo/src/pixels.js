/** Canvas pixels (RGBA) to the pipeline's RGB frames and back, and the processing size. */

export function rgbaToRgb(rgba) {
  const rgb = new Uint8Array((rgba.length / 4) * 3);
  for (let s = 0, d = 0; s < rgba.length; s += 4, d += 3) {
    rgb[d] = rgba[s]; rgb[d + 1] = rgba[s + 1]; rgb[d + 2] = rgba[s + 2];
  }
  return rgb;
}

export function rgbToRgba(rgb, rgba) {
  for (let s = 0, d = 0; s < rgb.length; s += 3, d += 4) {
    rgba[d] = rgb[s]; rgba[d + 1] = rgb[s + 1]; rgba[d + 2] = rgb[s + 2]; rgba[d + 3] = 255;
  }
  return rgba;
}

/** Downscale only, so the longer side is at most `maxSide` (0: the source's own size); resizing
 * is outside the parity core (DESIGN §4 step 1), so a small source keeps its exact pixels. */
export function fitSize(width, height, maxSide) {
  const scale = maxSide > 0 ? Math.min(1, maxSide / Math.max(width, height)) : 1;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
