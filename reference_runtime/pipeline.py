"""The patch-render pipeline, spec v1 (DESIGN §4), in numpy: what the phone computes.

Written independently of the torch original (plain loops over patch positions, explicit
accumulation) so that each implementation checks the other. Takes any callable patch model on
numpy arrays with a fixed batch B, in NCHW or NHWC layout.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

PatchModel = Callable[[np.ndarray], np.ndarray]
BLENDS = ("feather", "paste")
LAYOUTS = ("NCHW", "NHWC")


def positions(length: int, patch: int, stride: int) -> list[int]:
    """Grid starts on one axis: k·S while they fit, then L − P if the edge is not reached."""
    if not 1 <= stride <= patch:
        raise ValueError(f"stride {stride} must be between 1 and the patch size {patch}")
    if length < patch:
        raise ValueError(f"axis of length {length} is shorter than the patch {patch}: pad first")
    out = []
    p = 0
    while p + patch <= length:
        out.append(p)
        p += stride
    if out[-1] + patch < length:
        out.append(length - patch)
    return out


def window(patch: int, stride: int) -> np.ndarray:
    """1-D feather weights, float32: ramps of length O = P − S at both ends, ones when O = 0."""
    overlap = patch - stride
    w = np.ones(patch, dtype=np.float64)
    if overlap:
        for i in range(patch):
            w[i] = min(1.0, (i + 0.5) / overlap, (patch - i - 0.5) / overlap)
    return w.astype(np.float32)


def weights(patch: int, stride: int) -> np.ndarray:
    """2-D blend weights W[i, j] = w(i)·w(j)."""
    w = window(patch, stride)
    return np.outer(w, w).astype(np.float32)


def normalise(frame_u8: np.ndarray) -> np.ndarray:
    return frame_u8.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def quantise(y: np.ndarray) -> np.ndarray:
    """floor(clip((y + 1)·127.5, 0, 255) + 0.5) as uint8."""
    return np.floor(np.clip((y.astype(np.float32) + np.float32(1)) * np.float32(127.5), 0, 255) + np.float32(0.5)).astype(np.uint8)


def _run_model(model: PatchModel, patches_hwc: list[np.ndarray], batch: int, layout: str) -> list[np.ndarray]:
    """Patches in order, chunks of B, the last chunk zero-padded and its padding dropped."""
    results: list[np.ndarray] = []
    for start in range(0, len(patches_hwc), batch):
        chunk = np.zeros((batch, *patches_hwc[0].shape), dtype=np.float32)
        n = min(batch, len(patches_hwc) - start)
        for i in range(n):
            chunk[i] = patches_hwc[start + i]
        if layout == "NCHW":
            out = np.asarray(model(np.ascontiguousarray(chunk.transpose(0, 3, 1, 2))), dtype=np.float32).transpose(0, 2, 3, 1)
        else:
            out = np.asarray(model(chunk), dtype=np.float32)
        if out.shape != chunk.shape:
            raise ValueError(f"patch model returned {out.shape} (as NHWC) for {chunk.shape}: it must map a batch to the same shape")
        results.extend(out[i] for i in range(n))
    return results


def theme_indices(theme_map: int | np.ndarray, rows: int, cols: int) -> np.ndarray:
    """One theme index per patch in row-major order, from one index or a (rows, cols) grid."""
    grid = np.asarray(theme_map, dtype=np.int64)
    if grid.ndim == 0:
        return np.full(rows * cols, int(grid), dtype=np.int64)
    if grid.shape != (rows, cols):
        raise ValueError(f"theme map of shape {grid.shape} does not match the {rows}x{cols} patch grid")
    return grid.reshape(-1)


def render_float(frame_u8: np.ndarray, models: Sequence[PatchModel], *, patch: int, stride: int,
                 blend: str = "feather", batch: int = 16, theme_map: int | np.ndarray = 0,
                 layout: str = "NCHW") -> np.ndarray:
    """Blended float32 H×W×3 output in [-1, 1], before rounding."""
    if blend not in BLENDS:
        raise ValueError(f"blend '{blend}' is not one of {BLENDS}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout '{layout}' is not one of {LAYOUTS}")
    h, w = frame_u8.shape[:2]
    ph, pw = max(h, patch), max(w, patch)
    padded = np.pad(frame_u8, ((0, ph - h), (0, pw - w), (0, 0)), mode="edge")
    x = normalise(padded)
    rows, cols = positions(ph, patch, stride), positions(pw, patch, stride)
    grid = [(r, c) for r in rows for c in cols]
    themes = theme_indices(theme_map, len(rows), len(cols))

    outputs: list[np.ndarray | None] = [None] * len(grid)
    for t in sorted(set(themes.tolist())):
        members = [k for k in range(len(grid)) if themes[k] == t]
        crops = [x[grid[k][0]:grid[k][0] + patch, grid[k][1]:grid[k][1] + patch] for k in members]
        for k, out in zip(members, _run_model(models[t], crops, batch, layout)):
            outputs[k] = out

    if blend == "paste":
        out = np.zeros((ph, pw, 3), dtype=np.float32)
        for (r, c), y in zip(grid, outputs):
            out[r:r + patch, c:c + patch] = y
    else:
        wmap = weights(patch, stride)
        acc = np.zeros((ph, pw, 3), dtype=np.float32)
        norm = np.zeros((ph, pw), dtype=np.float32)
        for (r, c), y in zip(grid, outputs):
            acc[r:r + patch, c:c + patch] += wmap[:, :, None] * y
            norm[r:r + patch, c:c + patch] += wmap
        out = acc / norm[:, :, None]
    return out[:h, :w]


def render_frame(frame_u8: np.ndarray, models: Sequence[PatchModel], *, patch: int, stride: int,
                 blend: str = "feather", batch: int = 16, theme_map: int | np.ndarray = 0,
                 layout: str = "NCHW") -> np.ndarray:
    """Spec v1 end to end: uint8 H×W×3 in, uint8 H×W×3 out."""
    return quantise(render_float(frame_u8, models, patch=patch, stride=stride, blend=blend, batch=batch,
                                 theme_map=theme_map, layout=layout))
