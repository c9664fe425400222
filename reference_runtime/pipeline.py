"""The patch-render pipeline, spec v1 (DESIGN §4), in numpy: what the phone computes.

Written independently of the torch original (explicit accumulation one axis at a time where torch
uses unfold/fold) so that each implementation checks the other. Takes any callable patch model on
numpy arrays with a fixed batch B, in NCHW or NHWC layout.

This is the general path, which renders any frame (`render_float`, then `quantise`); the shortcuts
to its bytes in the real-time setting, and `render_frame`, which picks one, are in fast_paths.py.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Iterator, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from reference_runtime.byte_maps import ByteMap

PatchModel = Callable[[np.ndarray], np.ndarray]
# Copied from ygan_mobile.render.torch_pipeline.BLENDS
BLENDS = ("feather", "paste")
# Copied from ygan_mobile.render.torch_pipeline.DEFAULT_BLEND
DEFAULT_BLEND = "feather"
# Copied from ygan_mobile.render.torch_pipeline.DEFAULT_BATCH
DEFAULT_BATCH = 16  # patches per model call when the caller names none (an artifact names its own)
LAYOUTS = ("NCHW", "NHWC")


@dataclass
class Workspace:
    """Buffers kept from one frame to the next, and where the frame's time went. A video renders the
    same shapes every frame, and fresh arrays for the tiles, the model's input and the rounding
    cost page faults that at 512² weigh as much as the tiling itself (docs/runtime.md). Pass one
    per model and frame size."""

    buffers: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # per phase, summed until cleared
    previous_layout: object | None = None  # spec v2: the last frame's cells, for the next frame's hysteresis

    def get(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """The buffer called `name`, made anew only when its shape or dtype changed; contents undefined."""
        buf = self.buffers.get(name)
        if buf is None or buf.shape != tuple(shape) or buf.dtype != np.dtype(dtype):
            buf = self.buffers[name] = np.empty(shape, dtype)
        return buf

    def rows(self, name: str, count: int, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """The first `count` rows (each of `shape`) of the buffer called `name`, which keeps the largest
        count asked for so far: spec v2's number of cells of a size changes from frame to frame, and a
        buffer made anew each time it does would cost its page faults every frame. Contents undefined."""
        buf = self.buffers.get(name)
        same = buf is not None and buf.shape[1:] == tuple(shape) and buf.dtype == np.dtype(dtype)
        if not same or len(buf) < count:
            buf = self.buffers[name] = np.empty((max(count, len(buf) if same else 0), *shape), dtype)
        return buf[:count]

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Adds the block's wall time to seconds[name]: "convert" is pixels to model values and back
        (normalising, rounding, byte tables), which `ygan bench` reports apart from tiling and blending."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - began


@dataclass(frozen=True)
class IntegerModel:
    """A patch model with integer input and output (a full-integer TFLite artifact), fed bytes.

    Normalising a pixel and quantising the result to the model's input depend on the pixel's value
    alone, and so do dequantising an output and rounding it back to a pixel: two 256-entry tables
    give exactly the bytes of the float path, in one lookup per value instead of seven float passes
    each way (a table of a simple form, such as the pixel-bytes XOR, is applied as that form:
    `byte_maps`). That is what the phone does with a full-int8 model; the tables come from
    `reference_runtime.backends.byte_tables` (via `LiteRunner.integer_model`), built with the float
    path's own functions."""

    run: Callable[[np.ndarray], np.ndarray]  # (B, P, P, 3) integer batch in, same shape and kind out (NHWC)
    encode: np.ndarray  # (256,) the model's input for each pixel value
    dequantised: np.ndarray  # (256,) float32, each output byte's value (indexed by the byte read as uint8)
    padding: int  # the input value of float 0, which pads the last chunk
    as_float: PatchModel  # the same model on float32 NHWC, for the blending path

    def __post_init__(self) -> None:
        if self.encode.shape != (256,) or self.dequantised.shape != (256,) or self.dequantised.dtype != np.float32:
            raise ValueError("IntegerModel tables must be 256 entries each, dequantised as float32")
        if self.encode.dtype.itemsize != 1:
            raise ValueError(f"IntegerModel input must be one byte per value, not {self.encode.dtype}")

    @cached_property
    def decode(self) -> np.ndarray:
        """(256,) uint8, the pixel for each output byte: its dequantised value rounded as the float path rounds."""
        return quantise(self.dequantised)

    @cached_property
    def encode_map(self) -> ByteMap:
        return ByteMap(self.encode)

    @cached_property
    def decode_map(self) -> ByteMap:
        return ByteMap(self.decode)


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


def normalise(frame_u8: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """u8 / 127.5 − 1 in float32, into `out` when given; the division reads the uint8 array directly
    (one pass fewer than a cast first, same float32 result)."""
    x = np.divide(frame_u8, np.float32(127.5), out=out, dtype=np.float32)
    x -= np.float32(1.0)
    return x


def quantise(y: np.ndarray, out: np.ndarray | None = None, scratch: np.ndarray | None = None) -> np.ndarray:
    """floor(clip((y + 1)·127.5, 0, 255) + 0.5) as uint8, on one float32 copy (`scratch` when given),
    into `out` when given. Two passes fewer than the formula, same bytes: adding 0.5 before the
    clip to [0.5, 255.5] gives the same sum inside the range and the same ends outside it (float
    addition is monotonic), the clip writes uint8 directly, and that cast truncates, which is
    floor on [0.5, 255.5]."""
    t = np.add(y, np.float32(1), out=scratch, dtype=np.float32)
    t *= np.float32(127.5)
    t += np.float32(0.5)
    if out is None:
        out = np.empty(t.shape, np.uint8)
    return np.clip(t, np.float32(0.5), np.float32(255.5), out=out, casting="unsafe")


def run_chunk(model: PatchModel, fill: Callable[[np.ndarray], object], m: int, shape: tuple[int, ...], batch: int,
              layout: str, ws: Workspace) -> np.ndarray:
    """One model call on m ≤ B patches: `fill(out)` writes them as the model's float NHWC input into
    a buffer reused for every call (a frame is many calls), the rest of the batch is zero padding,
    and the NHWC float32 outputs of the m patches come back, valid until the next call (a runner
    may hand back its own buffer)."""
    feed = ws.get("feed", (batch, *shape), np.float32)
    fill(feed[:m])
    if m < batch:
        feed[m:] = 0
    if layout == "NCHW":
        planar = ws.get("feed.nchw", (batch, feed.shape[3], *feed.shape[1:3]), np.float32)
        np.copyto(planar, feed.transpose(0, 3, 1, 2))
        y = np.asarray(model(planar), dtype=np.float32).transpose(0, 2, 3, 1)
    else:
        y = np.asarray(model(feed), dtype=np.float32)
    if y.shape != feed.shape:
        raise ValueError(f"patch model returned {y.shape} (as NHWC) for {feed.shape}: it must map a batch to the same shape")
    return y[:m]


def _chunks(themes: np.ndarray, batch: int) -> list[tuple[int, np.ndarray]]:
    """(theme, patch indices) of every model call: each theme's patches in row-major order in chunks
    of B, as spec v1 step 7 has them. Ordered by the last patch of each chunk, the moment a walk
    over the frame would have filled it, so patch rows complete from the top down."""
    out = []
    for t in np.unique(themes).tolist():
        members = np.flatnonzero(themes == t)
        out += [(t, members[s:s + batch]) for s in range(0, len(members), batch)]
    return sorted(out, key=lambda chunk: chunk[1][-1])


def _patch_rows(models: Sequence[PatchModel], x_u8: np.ndarray, patch: int, rows: list[int], cols: list[int],
                themes: np.ndarray, batch: int, layout: str, ws: Workspace) -> Iterator[tuple[int, np.ndarray]]:
    """(i, the outputs of patch row i as (cols, P, P, C) float32) for every row, top to bottom.

    Streams: a chunk's patches are cut from the uint8 frame and normalised just before its call,
    and a row's outputs are kept only until every patch of it and of the rows above is done, so
    memory is a few patch rows, not every patch of the frame (docs/pipeline.md, "Memory")."""
    n_cols, channels = len(cols), x_u8.shape[2]
    windows = sliding_window_view(x_u8, (patch, patch), axis=(0, 1))  # [top, left, channel, i, j], no copy
    tops, lefts = np.asarray(rows), np.asarray(cols)
    held: dict[int, np.ndarray] = {}
    missing = np.full(len(rows), n_cols)
    ready = 0
    for theme, members in _chunks(themes, batch):
        i, j = np.divmod(members, n_cols)

        def fill(out: np.ndarray) -> None:
            with ws.phase("convert"):
                normalise(windows[tops[i], lefts[j]].transpose(0, 2, 3, 1), out)

        y = run_chunk(models[theme], fill, len(members), (patch, patch, channels), batch, layout, ws)
        for row in np.unique(i).tolist():
            here = i == row
            held.setdefault(row, np.empty((n_cols, patch, patch, channels), np.float32))[j[here]] = y[here]
            missing[row] -= int(here.sum())
        while ready < len(rows) and missing[ready] == 0:
            yield ready, held.pop(ready)
            ready += 1


def theme_indices(theme_map: int | np.ndarray, rows: int, cols: int) -> np.ndarray:
    """One theme index per patch in row-major order, from one index or a (rows, cols) grid."""
    grid = np.asarray(theme_map, dtype=np.int64)
    if grid.ndim == 0:
        return np.full(rows * cols, int(grid), dtype=np.int64)
    if grid.shape != (rows, cols):
        raise ValueError(f"theme map of shape {grid.shape} does not match the {rows}x{cols} patch grid")
    return grid.reshape(-1)


def render_float(frame_u8: np.ndarray, models: Sequence[PatchModel | IntegerModel], *, patch: int, stride: int,
                 blend: str = DEFAULT_BLEND, batch: int = DEFAULT_BATCH, theme_map: int | np.ndarray = 0,
                 layout: str = "NCHW", workspace: Workspace | None = None) -> np.ndarray:
    """Blended float32 H×W×3 output in [-1, 1], before rounding."""
    check_modes(blend, layout)
    ws = workspace if workspace is not None else Workspace()
    models = [m.as_float if isinstance(m, IntegerModel) else m for m in models]
    h, w = frame_u8.shape[:2]
    ph, pw = max(h, patch), max(w, patch)
    padded = np.pad(frame_u8, ((0, ph - h), (0, pw - w), (0, 0)), mode="edge") if (ph, pw) != (h, w) else frame_u8
    rows, cols = positions(ph, patch, stride), positions(pw, patch, stride)
    themes = theme_indices(theme_map, len(rows), len(cols))
    patch_rows = _patch_rows(models, padded, patch, rows, cols, themes, batch, layout, ws)
    return blend_rows(patch_rows, rows, cols, (ph, pw, frame_u8.shape[2]), window(patch, stride), blend)[:h, :w]


def blend_rows(patch_rows: Iterator[tuple[int, np.ndarray]], rows: list[int], cols: list[int],
               shape: tuple[int, int, int], w: np.ndarray, blend: str) -> np.ndarray:
    """Step 5 one axis at a time, one patch row at a time: the grid is a product of row and column
    positions and W = w⊗w, so Σ_k W·patch_k is a sum over columns within each patch row (a strip
    P high), then over the strips in row order; Σ_k W is the outer product of the 1-D weight sums.
    For paste, writing columns then rows in order leaves the same last writer at every pixel as
    writing patches row-major. Each pixel's sum is taken in the same order as when every patch was
    held at once, so the result is the same bit for bit."""
    patch = len(w)
    out = np.zeros(shape, dtype=np.float32)
    strip = np.zeros((patch, shape[1], shape[2]), dtype=np.float32)
    if _abutting(rows, patch, shape[0]) and _abutting(cols, patch, shape[1]):
        # Patches tile the frame exactly: each pixel has one patch, W = 1 there (O = 0), so both
        # blends are that patch's value, and W·y / W is y bit for bit.
        for i, y in patch_rows:
            out[rows[i]:rows[i] + patch] = y.transpose(1, 0, 2, 3).reshape(strip.shape)
        return out
    # With S = P (O = 0) every weight is 1 and the leading columns abut: those patches go into the
    # zeroed strip as one block copy (0 + y is y) and only the overlapping last column is added, and
    # the products by 1 are skipped; each pixel's sum keeps its order, so no bit changes (the
    # general path's share of a 1280×720 frame, issue 22).
    ones = bool(np.all(w == 1))
    lead = abutting_prefix(cols, patch) if ones else 0
    for i, y in patch_rows:
        if blend == "paste":
            for j, c in enumerate(cols):  # the columns cover the strip edge to edge: every pixel is written
                strip[:, c:c + patch] = y[j]
            out[rows[i]:rows[i] + patch] = strip
            continue
        strip.fill(0)
        strip[:, :lead * patch] = y[:lead].transpose(1, 0, 2, 3).reshape(patch, lead * patch, shape[2])
        for j in range(lead, len(cols)):
            strip[:, cols[j]:cols[j] + patch] += y[j] if ones else w[None, :, None] * y[j]
        out[rows[i]:rows[i] + patch] += strip if ones else w[:, None, None] * strip
    if blend == "paste":
        return out
    norm_r, norm_c = np.zeros(shape[0], dtype=np.float32), np.zeros(shape[1], dtype=np.float32)
    for r in rows:
        norm_r[r:r + patch] += w
    for c in cols:
        norm_c[c:c + patch] += w
    out /= (norm_r[:, None] * norm_c[None, :])[:, :, None]
    return out


def check_modes(blend: str, layout: str) -> None:
    if blend not in BLENDS:
        raise ValueError(f"blend '{blend}' is not one of {BLENDS}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout '{layout}' is not one of {LAYOUTS}")


def abutting_prefix(starts: list[int], patch: int) -> int:
    """How many leading positions sit at 0, P, 2P, … (patches that touch without overlapping)."""
    count = 0
    while count < len(starts) and starts[count] == count * patch:
        count += 1
    return count


def _abutting(starts: list[int], patch: int, length: int) -> bool:
    """The positions cover the axis edge to edge with no overlap (S = P and P divides L)."""
    return len(starts) * patch == length and all(p == k * patch for k, p in enumerate(starts))
