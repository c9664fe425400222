"""Spec v1's bytes by the quickest route that gives them: `render_frame`, the one dispatch.

The general path (`pipeline.render_float`, then `pipeline.quantise`) renders any frame. In the
real-time setting — stride = patch, one theme — every pixel away from the far edges lies in exactly
one patch with weight 1, so tiling and blending are permutations there, and the four shortcuts of
FAST_PATHS give the general path's bytes for a fraction of its work. Each names the test that
proves it; a shortcut without one does not belong here. `render_frame` lives here rather than in
pipeline.py because it needs both sides: the shortcuts build on the general path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from reference_runtime.pipeline import (DEFAULT_BATCH, DEFAULT_BLEND, IntegerModel, PatchModel, Workspace, abutting_prefix,
                                        blend_rows, check_modes, normalise, positions, quantise, render_float, run_chunk,
                                        window)

Route = Callable[[np.ndarray, "PatchModel | IntegerModel", int, str, int, str, Workspace], np.ndarray]
"""(frame, the theme's model, patch, blend, batch, layout, workspace) → the frame's uint8 bytes."""


@dataclass(frozen=True)
class FastPath:
    """A shortcut to the general path's bytes, and the test that proves them equal."""

    name: str
    render: Route
    proof: str  # tests/…::test_… comparing this route's bytes with the general path's


def render_frame(frame_u8: np.ndarray, models: Sequence[PatchModel | IntegerModel], *, patch: int, stride: int,
                 blend: str = DEFAULT_BLEND, batch: int = DEFAULT_BATCH, theme_map: int | np.ndarray = 0,
                 layout: str = "NCHW", workspace: Workspace | None = None) -> np.ndarray:
    """Spec v1 end to end: uint8 H×W×3 in, a new uint8 H×W×3 array out, by the fast path that
    applies (`fast_path`) or else the general path. Rendering a video, pass the same `workspace`
    for every frame."""
    check_modes(blend, layout)
    ws = workspace if workspace is not None else Workspace()
    path = fast_path(frame_u8.shape, models, patch, stride, theme_map, layout)
    if path is not None:
        return path.render(frame_u8, models[int(theme_map)], patch, blend, batch, layout, ws)
    y = render_float(frame_u8, models, patch=patch, stride=stride, blend=blend, batch=batch,
                     theme_map=theme_map, layout=layout, workspace=ws)
    with ws.phase("convert"):
        return quantise(y)


def fast_path(shape: tuple[int, ...], models: Sequence[PatchModel | IntegerModel], patch: int, stride: int,
              theme_map: int | np.ndarray, layout: str) -> FastPath | None:
    """The shortcut for this frame and grid, or None for the general path: stride = patch and one
    theme; exact tiling when P divides both sides, edge bands when the frame is at least P on both;
    fed bytes when the model is an `IntegerModel` driven in NHWC."""
    h, w = shape[:2]
    if stride != patch or np.ndim(theme_map) != 0:
        return None
    fed_bytes = isinstance(models[int(theme_map)], IntegerModel) and layout == "NHWC"
    if h % patch == 0 and w % patch == 0:
        return EXACT_TILING_BYTES if fed_bytes else EXACT_TILING
    if h >= patch and w >= patch:
        return EDGE_BANDS_BYTES if fed_bytes else EDGE_BANDS
    return None


def _grid(frame: np.ndarray, patch: int) -> np.ndarray:
    """A view of an H×W×C frame as its (rows, cols, P, P, C) patches (S = P divides both sides)."""
    h, w, c = frame.shape
    return frame.reshape(h // patch, patch, w // patch, patch, c).transpose(0, 2, 1, 3, 4)


def _exact_grid(frame_u8: np.ndarray, patch: int, ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """The frame's patches row-major as one (N, P, P, 3) uint8 array (a permutation: S = P divides
    both sides), and the array their rendered bytes go to."""
    grid = _grid(frame_u8, patch)
    tiles = ws.get("tiles.u8", grid.shape, np.uint8)
    np.copyto(tiles, grid)
    tiles = tiles.reshape(-1, *grid.shape[2:])
    return tiles, ws.get("done.u8", tiles.shape, np.uint8)


def _untile(done: np.ndarray, frame_u8: np.ndarray, patch: int) -> np.ndarray:
    """The rendered patches put back in place: a new frame shaped like the input."""
    out = np.empty(frame_u8.shape, np.uint8)  # C order, so the grid below is a view of it
    grid = _grid(out, patch)
    np.copyto(grid, done.reshape(grid.shape))
    return out


def _exact_tiling(frame_u8: np.ndarray, model: PatchModel | IntegerModel, patch: int, blend: str, batch: int,
                  layout: str, ws: Workspace) -> np.ndarray:
    """The real-time setting (S = P, P divides both sides, one theme): every pixel lies in exactly one
    patch with weight 1, so tiling and blending are permutations (and the blend does not matter).
    Permuting the uint8 frame and the uint8 result rather than float32 copies, normalising each
    chunk just before its model call and rounding it just after (while it is in cache), all in
    buffers kept in the workspace, keeps the pipeline's share of a frame small."""
    if isinstance(model, IntegerModel):
        model = model.as_float
    tiles, done = _exact_grid(frame_u8, patch, ws)
    scratch = ws.get("rounding", (min(batch, len(tiles)), patch, patch, frame_u8.shape[2]), np.float32)

    for start in range(0, len(tiles), batch):
        chunk = tiles[start:start + batch]

        def convert_in(out: np.ndarray) -> None:
            with ws.phase("convert"):
                normalise(chunk, out)

        y = run_chunk(model, convert_in, len(chunk), tiles.shape[1:], batch, layout, ws)
        with ws.phase("convert"):
            quantise(y, out=done[start:start + len(chunk)], scratch=scratch[:len(y)])
    return _untile(done, frame_u8, patch)


def _edge_bands(frame_u8: np.ndarray, model: PatchModel | IntegerModel, patch: int, blend: str, batch: int,
                layout: str, ws: Workspace) -> np.ndarray:
    """S = P on sides that are not multiples of P (e.g. 1280×720 with P = 32): the grid is the exact
    tiling of the top-left multiple-of-P core plus one extra patch row at H − P and column at W − P,
    and only those overlap. So the core takes the exact tiling (the frame's uint8 bytes, no float
    frame) and only the bands that the extra row and column touch are blended in float: the bottom
    band from the last core patch row down, the right band from the last core patch column across.
    A pixel of a band is covered by the same patches, summed in the same order, as in the general
    path over the whole frame, so every byte is the same; the price is re-running the last core
    patch row and column, which the general path would blend as a full-frame float accumulate,
    divide and round."""
    h, w = frame_u8.shape[:2]
    core_h, core_w = h - h % patch, w - w % patch
    out = np.empty_like(frame_u8)
    out[:core_h, :core_w] = _exact_tiling(np.ascontiguousarray(frame_u8[:core_h, :core_w]), model, patch, blend, batch,
                                          layout, ws)
    kw = dict(patch=patch, stride=patch, blend=blend, batch=batch, layout=layout, workspace=ws)
    for band, region in (((slice(core_h - patch, h), slice(None)), h % patch), ((slice(None), slice(core_w - patch, w)), w % patch)):
        if region:
            y = render_float(frame_u8[band], [model], **kw)
            with ws.phase("convert"):
                out[band] = quantise(y)
    return out


def run_integer(model: IntegerModel, tiles: np.ndarray, batch: int, ws: Workspace, keep_raw: bool = False
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """(N, P, P, C) uint8 patches through an integer model in chunks of B, bytes through its tables:
    the rendered pixels of every patch and, with `keep_raw`, the model's output bytes themselves."""
    done = ws.get("done.u8", tiles.shape, np.uint8)
    raw = ws.get("raw.int", tiles.shape, model.encode.dtype) if keep_raw else None
    feed = ws.get("feed.int", (batch, *tiles.shape[1:]), model.encode.dtype)
    for start in range(0, len(tiles), batch):
        m = min(batch, len(tiles) - start)
        with ws.phase("convert"):
            model.encode_map.apply(tiles[start:start + m], feed[:m], ws.get("scratch.bool", feed.shape, bool)[:m])
        feed[m:] = model.padding
        y = _run_bytes(model, feed, m, done[start:start + m], ws)
        if raw is not None:
            raw[start:start + m] = y[:m].view(raw.dtype)
    return done, raw


def run_encoded(model: IntegerModel, encoded: np.ndarray, batch: int, ws: Workspace, done: np.ndarray) -> None:
    """(N, P, P, C) patches already in the model's input bytes (its `encode` table applied) through it
    in chunks of B, their pixels written to `done`: each full chunk goes to the model as a view, only
    the last one is copied to be padded."""
    for start in range(0, len(encoded), batch):
        m = min(batch, len(encoded) - start)
        chunk = encoded[start:start + m]
        if m < batch:
            feed = ws.get("feed.int", (batch, *encoded.shape[1:]), encoded.dtype)
            feed[:m] = chunk
            feed[m:] = model.padding
            chunk = feed
        _run_bytes(model, chunk, m, done[start:start + m], ws)


def _run_bytes(model: IntegerModel, feed: np.ndarray, m: int, out: np.ndarray, ws: Workspace) -> np.ndarray:
    """One call of an integer model on a full batch of input bytes; the first m outputs' pixels (decode
    table) into `out`. Returns the model's output bytes, valid until its next call."""
    y = np.asarray(model.run(feed))
    if y.shape != feed.shape or y.dtype.itemsize != 1:
        raise ValueError(f"integer patch model returned {y.shape} {y.dtype} for {feed.shape}: it must map a batch to the same shape, one byte per value")
    with ws.phase("convert"):
        model.decode_map.apply(np.ascontiguousarray(y[:m]), out, ws.get("scratch.bool", feed.shape, bool)[:m])
    return y


def _exact_tiling_bytes(frame_u8: np.ndarray, model: IntegerModel, patch: int, blend: str, batch: int, layout: str,
                        ws: Workspace) -> np.ndarray:
    """The exact tiling with an integer model: bytes through the model's tables, no float at all."""
    tiles, _ = _exact_grid(frame_u8, patch, ws)
    done, _ = run_integer(model, tiles, batch, ws)
    return _untile(done, frame_u8, patch)


def _edge_bands_bytes(frame_u8: np.ndarray, model: IntegerModel, patch: int, blend: str, batch: int, layout: str,
                      ws: Workspace) -> np.ndarray:
    """The edge bands with an integer model fed bytes: every patch of the grid runs once.

    Pixels one patch covers take its bytes through the decode table, as in the exact tiling; the
    bottom and right bands are blended as `_edge_bands` blends them, from the dequantised outputs
    of patches that already ran (`dequantised` is the float path's own dequantise, so the values
    and every byte are the same) instead of running the last core patch row and column a second
    time (40 of the 920 patches of a 1280×720 frame at P = 32)."""
    h, w, c = frame_u8.shape
    rows, cols = positions(h, patch, patch), positions(w, patch, patch)
    nr, nc = abutting_prefix(rows, patch), abutting_prefix(cols, patch)
    core_h, core_w = nr * patch, nc * patch
    tiles = ws.get("tiles.u8", (len(rows), len(cols), patch, patch, c), np.uint8)
    np.copyto(tiles[:nr, :nc], _grid(frame_u8[:core_h, :core_w], patch))
    if len(cols) > nc:
        np.copyto(tiles[:nr, nc], frame_u8[:core_h, w - patch:].reshape(nr, patch, patch, c))
    if len(rows) > nr:
        np.copyto(tiles[nr, :nc], _grid(frame_u8[h - patch:, :core_w], patch)[0])
        if len(cols) > nc:
            np.copyto(tiles[nr, nc], frame_u8[h - patch:, w - patch:])
    done, raw = run_integer(model, tiles.reshape(-1, patch, patch, c), batch, ws, keep_raw=True)
    done, raw = done.reshape(tiles.shape), raw.reshape(tiles.shape)
    out = np.empty_like(frame_u8)
    np.copyto(_grid(out[:core_h, :core_w], patch), done[:nr, :nc])
    values = model.dequantised
    win = window(patch, patch)
    if len(rows) > nr:  # the last core patch row and the extra one, every column
        band = blend_rows(iter([(0, values[raw[nr - 1].view(np.uint8)]), (1, values[raw[nr].view(np.uint8)])]),
                          [0, h - core_h], cols, (patch + h - core_h, w, c), win, blend)
        with ws.phase("convert"):
            quantise(band, out=out[core_h - patch:])
    if len(cols) > nc:  # the last core patch column and the extra one, every row
        pairs = ((i, values[raw[i, nc - 1:].view(np.uint8)]) for i in range(len(rows)))
        band = blend_rows(pairs, rows, [0, w - core_w], (h, patch + w - core_w, c), win, blend)
        with ws.phase("convert"):
            quantise(band, out=out[:, core_w - patch:])
    return out


PROOFS = "tests/reference_runtime/test_fast_paths.py"
EXACT_TILING = FastPath("exact tiling", _exact_tiling, f"{PROOFS}::test_exact_tiling_path_equals_the_general_path")
EDGE_BANDS = FastPath("edge bands", _edge_bands, f"{PROOFS}::test_edge_bands_path_equals_the_general_path")
EXACT_TILING_BYTES = FastPath("exact tiling, fed bytes", _exact_tiling_bytes,
                              f"{PROOFS}::test_integer_model_gives_the_bytes_of_the_float_path")
EDGE_BANDS_BYTES = FastPath("edge bands, fed bytes", _edge_bands_bytes,
                            f"{PROOFS}::test_integer_model_on_sides_not_multiples_of_p_runs_each_patch_once")
FAST_PATHS = (EXACT_TILING, EDGE_BANDS, EXACT_TILING_BYTES, EDGE_BANDS_BYTES)
