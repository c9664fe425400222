"""The patch-render pipeline, spec v1 (DESIGN §4), in numpy: what the phone computes.

Written independently of the torch original (explicit accumulation one axis at a time where torch
uses unfold/fold) so that each implementation checks the other. Takes any callable patch model on
numpy arrays with a fixed batch B, in NCHW or NHWC layout.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

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
    """u8 / 127.5 − 1 in float32; the division reads the uint8 array directly (one pass fewer than a
    cast first, same float32 result)."""
    x = np.divide(frame_u8, np.float32(127.5), dtype=np.float32)
    x -= np.float32(1.0)
    return x


def quantise(y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """floor(clip((y + 1)·127.5, 0, 255) + 0.5) as uint8, in place on one float32 copy, into `out`
    when given. The cast to uint8 truncates, which is floor on [0.5, 255.5]: no separate floor pass."""
    t = np.add(y, np.float32(1), dtype=np.float32)
    t *= np.float32(127.5)
    np.clip(t, 0, 255, out=t)
    t += np.float32(0.5)
    if out is None:
        return t.astype(np.uint8)
    np.copyto(out, t, casting="unsafe")
    return out


def _model_chunks(model: PatchModel, patches: np.ndarray, batch: int, layout: str,
                  prepare: Callable[[np.ndarray], np.ndarray] = lambda c: c) -> Iterator[tuple[slice, np.ndarray]]:
    """(where, NHWC float32 outputs) per chunk of B patches in order; `prepare` turns a chunk into the
    model's float input, the last chunk is zero-padded after it and its padding dropped."""
    n = len(patches)
    for start in range(0, n, batch):
        m = min(batch, n - start)
        chunk = prepare(patches[start:start + m])
        if m < batch:
            padded = np.zeros((batch, *chunk.shape[1:]), dtype=np.float32)
            padded[:m] = chunk
            chunk = padded
        if layout == "NCHW":
            y = np.asarray(model(np.ascontiguousarray(chunk.transpose(0, 3, 1, 2))), dtype=np.float32).transpose(0, 2, 3, 1)
        else:
            y = np.asarray(model(np.ascontiguousarray(chunk)), dtype=np.float32)
        if y.shape != chunk.shape:
            raise ValueError(f"patch model returned {y.shape} (as NHWC) for {chunk.shape}: it must map a batch to the same shape")
        yield slice(start, start + m), y[:m]


def _run_model(model: PatchModel, patches: np.ndarray, batch: int, layout: str) -> np.ndarray:
    """(N, P, P, 3) float patches in, their outputs out, in order."""
    out = np.empty_like(patches)
    for where, y in _model_chunks(model, patches, batch, layout):
        out[where] = y
    return out


def _tiles(x: np.ndarray, rows: list[int], cols: list[int], patch: int) -> np.ndarray:
    """All patches of the grid, row-major, as one (rows·cols, P, P, 3) array: picked from a strided
    view of every P×P window (no copy until the pick; 12× faster than indexing rows, then columns,
    on a 1280×720 frame)."""
    windows = sliding_window_view(x, (patch, patch), axis=(0, 1))  # [top, left, channel, i, j]
    picked = windows[np.asarray(rows)[:, None], np.asarray(cols)].transpose(0, 1, 3, 4, 2)
    return np.ascontiguousarray(picked).reshape(-1, patch, patch, x.shape[2])


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
    _check_modes(blend, layout)
    h, w = frame_u8.shape[:2]
    ph, pw = max(h, patch), max(w, patch)
    padded = np.pad(frame_u8, ((0, ph - h), (0, pw - w), (0, 0)), mode="edge")
    x = normalise(padded)
    rows, cols = positions(ph, patch, stride), positions(pw, patch, stride)
    themes = theme_indices(theme_map, len(rows), len(cols))

    tiles = _tiles(x, rows, cols, patch)
    used = sorted(set(themes.tolist()))
    if len(used) == 1:
        outputs = _run_model(models[used[0]], tiles, batch, layout)
    else:
        outputs = np.empty_like(tiles)
        for t in used:
            members = np.flatnonzero(themes == t)
            outputs[members] = _run_model(models[t], tiles[members], batch, layout)
    grid = outputs.reshape(len(rows), len(cols), patch, patch, 3)
    return _blend(grid, rows, cols, ph, pw, window(patch, stride), blend)[:h, :w]


def _blend(grid: np.ndarray, rows: list[int], cols: list[int], ph: int, pw: int, w: np.ndarray, blend: str) -> np.ndarray:
    """Step 5 one axis at a time: the grid is a product of row and column positions and W = w⊗w, so
    Σ_k W·patch_k is a sum over columns within each patch row, then over rows, and Σ_k W is the outer
    product of the 1-D weight sums. For paste, writing columns then rows in order leaves the same
    last writer at every pixel as writing patches row-major."""
    patch = grid.shape[2]
    if _abutting(rows, patch, ph) and _abutting(cols, patch, pw):
        # Patches tile the frame exactly: each pixel has one patch, W = 1 there (O = 0), so both
        # blends are that patch's value, and W·y / W is y bit for bit.
        return grid.transpose(0, 2, 1, 3, 4).reshape(ph, pw, 3)
    strips = np.zeros((len(rows), patch, pw, 3), dtype=np.float32)
    out = np.zeros((ph, pw, 3), dtype=np.float32)
    if blend == "paste":
        for j, c in enumerate(cols):
            strips[:, :, c:c + patch] = grid[:, j]
        for i, r in enumerate(rows):
            out[r:r + patch] = strips[i]
        return out
    for j, c in enumerate(cols):
        strips[:, :, c:c + patch] += w[None, None, :, None] * grid[:, j]
    for i, r in enumerate(rows):
        out[r:r + patch] += w[:, None, None] * strips[i]
    norm_r, norm_c = np.zeros(ph, dtype=np.float32), np.zeros(pw, dtype=np.float32)
    for r in rows:
        norm_r[r:r + patch] += w
    for c in cols:
        norm_c[c:c + patch] += w
    return out / (norm_r[:, None] * norm_c[None, :])[:, :, None]


def _check_modes(blend: str, layout: str) -> None:
    if blend not in BLENDS:
        raise ValueError(f"blend '{blend}' is not one of {BLENDS}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout '{layout}' is not one of {LAYOUTS}")


def _abutting(starts: list[int], patch: int, length: int) -> bool:
    """The positions cover the axis edge to edge with no overlap (S = P and P divides L)."""
    return len(starts) * patch == length and all(p == k * patch for k, p in enumerate(starts))


def render_frame(frame_u8: np.ndarray, models: Sequence[PatchModel], *, patch: int, stride: int,
                 blend: str = "feather", batch: int = 16, theme_map: int | np.ndarray = 0,
                 layout: str = "NCHW") -> np.ndarray:
    """Spec v1 end to end: uint8 H×W×3 in, uint8 H×W×3 out."""
    _check_modes(blend, layout)
    h, w = frame_u8.shape[:2]
    if stride == patch and h % patch == 0 and w % patch == 0 and np.ndim(theme_map) == 0:
        return _render_exact_tiling(frame_u8, models[int(theme_map)], patch, batch, layout)
    return quantise(render_float(frame_u8, models, patch=patch, stride=stride, blend=blend, batch=batch,
                                 theme_map=theme_map, layout=layout))


def _render_exact_tiling(frame_u8: np.ndarray, model: PatchModel, patch: int, batch: int, layout: str) -> np.ndarray:
    """The real-time setting (S = P, P divides both sides, one theme): every pixel lies in exactly one
    patch with weight 1, so tiling and blending are permutations. Permuting the uint8 frame and the
    uint8 result rather than float32 copies, normalising each chunk just before its model call and
    rounding it just after (while it is in cache) keeps the pipeline's share of a frame small. The
    result is bit for bit that of the general path (tests/test_render_pipeline.py)."""
    h, w, c = frame_u8.shape
    rows, cols = h // patch, w // patch
    tiles = np.ascontiguousarray(frame_u8.reshape(rows, patch, cols, patch, c).transpose(0, 2, 1, 3, 4))
    tiles = tiles.reshape(-1, patch, patch, c)
    out = np.empty_like(tiles)
    for where, y in _model_chunks(model, tiles, batch, layout, prepare=normalise):
        quantise(y, out=out[where])
    return out.reshape(rows, cols, patch, patch, c).transpose(0, 2, 1, 3, 4).reshape(h, w, c)
