"""The patch-render pipeline, spec v2 (docs/pipeline.md): cells of several sizes, in numpy.

Read top to bottom in the spec's order — pad, block luma, cell statistics, layout, patches, model,
cells, paste — so that a port can follow it. Everything but the model call and v1's normalisation
and rounding around it is integer arithmetic, vectorised over all the cells of one size: the only
Python loops run over the few cell sizes, channels and resampling phases and over the model's
chunks. Written independently of the torch version (ygan_mobile/render/multiscale.py), which is
tested against this one. docs/speed.md ("Spec v2") says where its time goes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from reference_runtime.fast_paths import run_encoded, run_integer
from reference_runtime.pipeline import IntegerModel, PatchModel, Workspace, normalise, quantise, run_chunk

# Copied from ygan_mobile.render.multiscale.DEFAULT_THRESHOLD
DEFAULT_THRESHOLD = 64  # a cell whose block-luma variance (levels²) is above this splits
# Copied from ygan_mobile.render.multiscale.DEFAULT_HYSTERESIS
DEFAULT_HYSTERESIS = 16  # video: split cells stay split down to T − Hy, new ones need T + Hy
# Copied from ygan_mobile.render.multiscale.DEFAULT_BUDGET
DEFAULT_BUDGET = 512  # at most this many cells (model inputs) per frame
# Copied from ygan_mobile.render.multiscale.DEFAULT_LARGEST
DEFAULT_LARGEST = 4  # largest cell: 4·P
# Copied from ygan_mobile.render.multiscale.DEFAULT_SMALLEST
DEFAULT_SMALLEST = 2  # smallest cell: P/2
LUMA_WEIGHTS = (77, 150, 29)  # BT.601 in 256ths: 77 + 150 + 29 = 256


@dataclass(frozen=True)
class Multiscale:
    """Spec v2's parameters. `largest` and `smallest` are cell sizes in pixels; None means 4·P and P/2."""

    threshold: int = DEFAULT_THRESHOLD
    hysteresis: int = DEFAULT_HYSTERESIS
    budget: int = DEFAULT_BUDGET
    largest: int | None = None
    smallest: int | None = None

    def sizes(self, patch: int) -> list[int]:
        """The cell sizes C_0 > … > C_K, largest first; ValueError (one line) for sizes spec v2 does not allow."""
        problem = settings_problem(self.threshold, self.hysteresis, self.budget, self.largest, self.smallest, patch)
        if problem:
            raise ValueError(problem)
        sizes = [self.largest or DEFAULT_LARGEST * patch]
        while sizes[-1] > (self.smallest or patch // DEFAULT_SMALLEST):
            sizes.append(sizes[-1] // 2)
        return sizes

    def record(self, patch: int) -> dict:
        """The settings as a manifest records them (cell sizes in pixels)."""
        sizes = self.sizes(patch)
        return {"largest_cell": sizes[0], "smallest_cell": sizes[-1], "threshold": self.threshold,
                "hysteresis": self.hysteresis, "budget": self.budget}


# Copied from ygan_mobile.render.multiscale.settings_problem
def settings_problem(threshold: int, hysteresis: int, budget: int, largest: int | None = None,
                     smallest: int | None = None, patch: int | None = None) -> str | None:
    """Why spec v2 cannot run with these settings, or None; the cell sizes are checked when `patch` is
    known (None: before the model, and its patch size, is loaded)."""
    def doubling(big: int, small: int) -> bool:
        return big >= small and big % small == 0 and bin(big // small).count("1") == 1

    if patch is not None:
        largest = largest or DEFAULT_LARGEST * patch
        smallest = smallest or max(1, patch // DEFAULT_SMALLEST)
        if patch < 2 or patch % 2:
            return f"patch {patch}: spec v2 needs an even patch size"
        if not doubling(largest, patch):
            return f"largest cell {largest} must be the patch {patch} times a power of two (e.g. {4 * patch})"
        if smallest < 2 or not doubling(patch, smallest):
            return f"smallest cell {smallest} must be the patch {patch} divided by a power of two, and at least 2 (e.g. {patch // 2})"
    if threshold < 0:
        return f"threshold {threshold} must be 0 or more (a luma variance in levels², e.g. {DEFAULT_THRESHOLD})"
    if not 0 <= hysteresis <= threshold:
        return f"hysteresis {hysteresis} must be between 0 and the threshold {threshold}"
    if budget < 1:
        return f"budget {budget} must be at least 1 cell per frame (e.g. {DEFAULT_BUDGET})"
    return None


@dataclass(frozen=True)
class Layout:
    """A frame's cells (step 4) and what the next frame needs of it: `split[k]` marks the cells of size
    sizes[k] that split, on the (H2/C_k, W2/C_k) grid; `key` says which frames may use it as `prev`."""

    key: tuple
    sizes: list[int]
    split: list[np.ndarray]  # one bool grid per size but the smallest
    leaves: list[np.ndarray]  # one bool grid per size: the cells drawn
    details: list[np.ndarray]  # one int64 grid per size: detail(cell)

    def cells(self, themes: np.ndarray | None = None) -> np.ndarray:
        """(K, 4) int32 top, left, size, theme of every leaf in paste order (step 5): the golden `layout`."""
        rows = []
        for size, leaf in zip(self.sizes, self.leaves):
            r, c = np.nonzero(leaf)
            rows.append(np.stack([r * size, c * size, np.full(len(r), size)], axis=1))
        out = np.concatenate(rows).astype(np.int32)
        theme = np.zeros(len(out), np.int32) if themes is None else themes.astype(np.int32)
        return np.concatenate([out, theme[:, None]], axis=1)


# Step 1
@dataclass(frozen=True)
class Padded:
    """Step 1's padded frame, H2 × W2, as horizontal bands top to bottom, each a whole number of the
    largest cells high, so that no step needs it in one piece: when the frame is as wide as the padded
    frame (its width a multiple of Cmax, as 512, 640, 1280 and 1920 are for the default 128), its rows
    down to the last whole row of largest cells are the frame itself (a view) and only the rows below
    are copied, the last row replicated (at 1280×720, 128 rows of 768 instead of the whole frame);
    otherwise one band, the whole frame padded."""

    bands: list[tuple[int, np.ndarray]]  # (first row, rows × W2 × channels), top to bottom
    shape: tuple[int, int, int]  # H2, W2, channels


def pad_to_cells(frame_u8: np.ndarray, largest: int) -> Padded:
    """Edge replication at the bottom and right up to multiples of the largest cell."""
    h, w, ch = frame_u8.shape
    h2, w2 = -(-h // largest) * largest, -(-w // largest) * largest
    if w2 != w:
        return Padded([(0, np.pad(frame_u8, ((0, h2 - h), (0, w2 - w), (0, 0)), mode="edge"))], (h2, w2, ch))
    whole = h // largest * largest
    bands = [(0, frame_u8[:whole])] if whole else []
    if whole < h2:
        bands.append((whole, np.pad(frame_u8[whole:], ((0, h2 - h), (0, 0), (0, 0)), mode="edge")))
    return Padded(bands, (h2, w2, ch))


# Step 2
def block_luma(padded: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(H2/2, W2/2) uint16 (into `out` when given): the BT.601 luma (77·R + 150·G + 29·B + 128) >> 8
    of each 2×2 block's top-left pixel, exact in 16 bits (the sum is at most 256·255 + 128)."""
    s = padded[0::2, 0::2]
    r, g, b = LUMA_WEIGHTS
    y = np.multiply(s[..., 0], r, dtype=np.uint16, out=out)
    term = np.multiply(s[..., 1], g, dtype=np.uint16)
    y += term
    np.multiply(s[..., 2], b, out=term, dtype=np.uint16)
    y += term
    y += 128
    y >>= 8
    return y


def padded_luma(padded: Padded, ws: Workspace) -> np.ndarray:
    """Step 2 on every band of the padded frame, into one workspace buffer."""
    h2, w2, _ = padded.shape
    y = ws.get("v2.luma", (h2 // 2, w2 // 2), np.uint16)
    for top, band in padded.bands:
        block_luma(band, y[top // 2:(top + len(band)) // 2])
    return y


# Step 3
def box_sum(x: np.ndarray, k: int, dtype: type) -> np.ndarray:
    """Sums over k×k blocks of the two axes after the first of an (n, A, B, …) array, as `dtype`: k
    slices added per axis (numpy reduces a reshape's short axes far slower than it adds slices)."""
    rows = x[:, 0::k].astype(dtype)
    for u in range(1, k):
        rows += x[:, u::k]
    out = rows[:, :, 0::k].copy()
    for v in range(1, k):
        out += rows[:, :, v::k]
    return out


def cell_sums(y: np.ndarray, sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(S1, S2) on each size's grid of cells, int64: block sums at the smallest size, then each larger
    size as the sum of its four children (exact in integers). The smallest cells' sums are taken in
    32 bits (y² ≤ 255² fits 16, k²·255² fits 32 up to k = 256 blocks a side), the rest in 64."""
    k = sizes[-1] // 2
    first = np.uint32 if k <= 256 else np.int64
    s1 = box_sum(y[None], k, first)[0].astype(np.int64)
    s2 = box_sum(np.multiply(y, y, dtype=np.uint16)[None], k, first)[0].astype(np.int64)
    sums = [(s1, s2)]
    for _ in sizes[:-1]:
        s1, s2 = (s[0::2, 0::2] + s[1::2, 0::2] + s[0::2, 1::2] + s[1::2, 1::2] for s in (s1, s2))
        sums.append((s1, s2))
    return sums[::-1]


def detail(s1: np.ndarray, s2: np.ndarray, size: int) -> np.ndarray:
    """(n·S2 − S1²) div n², n = (C/2)² blocks: the cell's block-luma variance in levels², floored."""
    n = (size // 2) ** 2
    return (n * s2 - s1 * s1) // (n * n)


def band(s1: np.ndarray, size: int, n_themes: int) -> np.ndarray:
    """min((m·S1) div (256·n), m − 1): the luminance band of each cell, darkest → theme 0."""
    n = (size // 2) ** 2
    return np.minimum((n_themes * s1) // (256 * n), n_themes - 1)


# Step 4
def live_grid(size: int, grid_shape: tuple[int, int], height: int, width: int) -> np.ndarray:
    """Cells whose top-left corner lies in the frame (the others lie wholly in the padding)."""
    r = np.arange(grid_shape[0])[:, None] * size < height
    c = np.arange(grid_shape[1])[None, :] * size < width
    return r & c


@functools.lru_cache(maxsize=8)
def level_grids(sizes: tuple[int, ...], height: int, width: int, padded: tuple[int, int]
                ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """What the layout needs of a frame's shape alone, made once per shape (a video's frames share it):
    the largest cells' live grid and, for each size but the smallest, its children's live grid and
    each cell's number of live children (flat, row-major). Read-only."""
    shape = (padded[0] // sizes[0], padded[1] // sizes[0])
    top = live_grid(sizes[0], shape, height, width)
    levels = []
    for size in sizes[:-1]:
        kid_live = live_grid(size // 2, (shape[0] * 2, shape[1] * 2), height, width)
        kids = kid_live.reshape(shape[0], 2, shape[1], 2).sum(axis=(1, 3)).reshape(-1)
        levels.append((kid_live, kids))
        shape = kid_live.shape
    for a in [top, *(a for level in levels for a in level)]:
        a.flags.writeable = False
    return top, levels


def choose_layout(frame_shape: tuple[int, int], padded_shape: tuple[int, int], sums: list[tuple[np.ndarray, np.ndarray]],
                  sizes: list[int], settings: Multiscale, prev: Layout | None) -> Layout:
    """Level by level, largest cells first: the candidates above their bar, those split in the previous
    frame first, then by detail, then row-major, split while the budget holds."""
    height, width = frame_shape
    key = (padded_shape, tuple(sizes), settings.threshold, settings.hysteresis, settings.budget)
    if prev is not None and prev.key != key:
        prev = None
    details = [detail(s1, s2, size) for (s1, s2), size in zip(sums, sizes)]
    active, levels = level_grids(tuple(sizes), height, width, tuple(padded_shape))
    count = int(active.sum())
    splits, leaves = [], []
    for k, (kid_live, all_kids) in enumerate(levels):
        flat = details[k].reshape(-1)
        if prev is None:
            cand = np.flatnonzero(active.reshape(-1) & (flat > settings.threshold))
            cand = cand[np.lexsort((cand, -flat[cand]))]
        else:
            was = prev.split[k].reshape(-1)
            bar = np.where(was, settings.threshold - settings.hysteresis, settings.threshold + settings.hysteresis)
            cand = np.flatnonzero(active.reshape(-1) & (flat > bar))
            cand = cand[np.lexsort((cand, -flat[cand], ~was[cand]))]
        kids = all_kids[cand]
        fits = count + np.cumsum(kids - 1) <= settings.budget
        taken = cand[:int(np.argmin(fits)) if not fits.all() else len(cand)]
        split = np.zeros(active.size, bool)
        split[taken] = True
        split = split.reshape(active.shape)
        count += int(kids[:len(taken)].sum() - len(taken))
        splits.append(split)
        leaves.append(active & ~split)
        active = np.repeat(np.repeat(split, 2, axis=0), 2, axis=1) & kid_live
    leaves.append(active)
    return Layout(key, sizes, splits, leaves, details)


# Steps 6 and 8 share a box mean and a way round numpy's per-run cost. numpy runs an inner loop per
# run of elements along the innermost axis it can form; interleaved RGB taken a pixel at a time gives
# runs of three, so those steps work one channel at a time, where a channel's samples form one long
# strided run (2–4× faster at 512², the bytes unchanged).
def box_mean(x: np.ndarray, k: int, out: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
    """(n, k·A, k·B, 3) uint8 → `out` (n, A, B, 3) uint8: each k×k block's mean rounded half up,
    (Σ + k²/2) >> 2e. The k rows of a block are added as whole rows, then the k columns a channel at a
    time; the sums in buffers of `ws`."""
    ws = ws if ws is not None else Workspace()
    n, h, w, ch = x.shape
    kind = np.uint16 if k <= 16 else np.uint32  # k²·255 + k²/2 fits 16 bits up to k = 16
    rows = np.add(x[:, 0::k], x[:, 1::k], dtype=kind, out=ws.rows(f"v2.box.{h}.{k}", n, (h // k, w, ch), kind))
    for u in range(2, k):
        rows += x[:, u::k]
    sums = ws.rows(f"v2.box.{h}.{k}.sums", n, out.shape[1:], kind)
    for c in range(ch):
        np.add(rows[:, :, 0::k, c], rows[:, :, 1::k, c], out=sums[..., c])
        for v in range(2, k):
            sums[..., c] += rows[:, :, v::k, c]
    sums += kind(k * k // 2)
    return np.right_shift(sums, 2 * (k.bit_length() - 1), out=out, casting="unsafe")


def replicate(cells: np.ndarray, g: int, out: np.ndarray, ws: Workspace | None = None) -> None:
    """(n, C, C, 3) → `out` (n, C·g, C·g, 3): each pixel as a g×g block. Each channel's pixels go g
    times along a widened row (one long strided run per channel and copy), then each widened row is
    copied to the g rows of its blocks as contiguous bytes."""
    n, size, _, ch = cells.shape
    wide = (ws if ws is not None else Workspace()).rows(f"v2.wide.{size}", n, (size, size, g, ch), cells.dtype)
    for v in range(g):
        for c in range(ch):
            wide[..., v, c] = cells[..., c]
    np.copyto(out.reshape(n, size, g, size * g * ch), wide.reshape(n, size, 1, size * g * ch))


# Step 6
def cell_patches(padded: np.ndarray, size: int, rows: np.ndarray, cols: np.ndarray, patch: int, out: np.ndarray,
                 ws: Workspace, encode: Callable[[np.ndarray, np.ndarray | None], np.ndarray] | None = None) -> None:
    """Writes into `out` (n, P, P, 3) the patch of each cell (`rows`, `cols` on the grid of C-px cells of
    `padded`, a band of the padded frame): its box mean rounded half up (C > P), the cell
    (C = P) or its replication (C < P). With `encode` (an integer model's input table, bytes to bytes)
    `out` holds the model's input: the table is applied before the replication, so a small cell's
    pixels are looked up once instead of (P/C)² times — the same bytes, as the table maps each byte
    on its own."""
    h2, w2, ch = padded.shape
    with ws.phase("resample"):
        cells = padded.reshape(h2 // size, size, w2 // size, size, ch)[rows, :, cols]  # (n, C, C, 3), a copy
        if size > patch:
            target = out if encode is None else ws.rows(f"v2.means.{size}", len(rows), out.shape[1:], np.uint8)
            cells = box_mean(cells, size // patch, target, ws)
    if encode is not None:
        with ws.phase("convert"):
            cells = encode(cells, out if size >= patch else None)
    with ws.phase("resample"):
        if size < patch:
            replicate(cells, patch // size, out, ws)
        elif cells is not out:
            np.copyto(out, cells)


# Step 7
def run_patches(models: Sequence[PatchModel | IntegerModel], patches: np.ndarray, themes: np.ndarray, batch: int,
                layout: str, ws: Workspace, keep_float: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Every patch through its theme's model in chunks of B (theme by theme, paste order): the rounded
    uint8 outputs and, with `keep_float`, the float32 outputs before rounding (the parity gate).
    An integer model driven in NHWC is fed bytes through its tables, as v1's fast path feeds it."""
    done = np.empty(patches.shape, np.uint8)
    floats = np.empty(patches.shape, np.float32) if keep_float else None
    for theme in np.unique(themes).tolist():
        members = np.flatnonzero(themes == theme)
        model = models[theme]
        if isinstance(model, IntegerModel) and layout == "NHWC" and not keep_float:
            out, _ = run_integer(model, np.ascontiguousarray(patches[members]), batch, ws)
            done[members] = out
            continue
        float_model = model.as_float if isinstance(model, IntegerModel) else model
        for start in range(0, len(members), batch):
            chunk = members[start:start + batch]

            def fill(out: np.ndarray) -> None:
                with ws.phase("convert"):
                    normalise(patches[chunk], out)

            y = run_chunk(float_model, fill, len(chunk), patches.shape[1:], batch, layout, ws)
            if floats is not None:
                floats[chunk] = y
            with ws.phase("convert"):
                done[chunk] = quantise(y)
    return done, floats


def byte_fed(models: Sequence[PatchModel | IntegerModel], layout: str, keep_float: bool) -> IntegerModel | None:
    """The model whose input table encodes the cells' patches when every model of the frame can be fed
    bytes with that one table (integer models driven in NHWC, the same encoding, no float outputs
    kept), else None: then step 6 writes pixels and `run_patches` converts them."""
    first = models[0]
    if layout != "NHWC" or keep_float or not all(isinstance(m, IntegerModel) for m in models):
        return None
    same = all(np.array_equal(m.encode, first.encode) and m.padding == first.padding for m in models)
    return first if same else None


def run_encoded_patches(models: Sequence[IntegerModel], encoded: np.ndarray, themes: np.ndarray, batch: int,
                        ws: Workspace) -> np.ndarray:
    """Step 7 on patches already in the models' input bytes: theme by theme in chunks of B, paste
    order, each model's output bytes back to pixels through its table. With one theme the patches go
    to the model where they lie."""
    done = ws.rows("v2.done", len(encoded), encoded.shape[1:], np.uint8)
    for theme in np.unique(themes).tolist():
        members = np.flatnonzero(themes == theme)
        if len(members) == len(encoded):
            run_encoded(models[theme], encoded, batch, ws, done)
            continue
        out = np.empty((len(members), *encoded.shape[1:]), np.uint8)
        run_encoded(models[theme], encoded[members], batch, ws, out)
        done[members] = out
    return done


# Step 8
def bilinear_taps(size: int, patch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """lo, hi, w0, w1 of each of the cell's C rows (or columns): half-pixel centres, edges clamped,
    weights in units of 1/(2f)."""
    f = size // patch
    t = np.arange(size)
    num = 2 * t + 1 - f
    i0 = num // (2 * f)
    r = num - 2 * f * i0
    lo, hi = np.clip(i0, 0, patch - 1), np.clip(i0 + 1, 0, patch - 1)
    return lo, hi, (2 * f - r).astype(np.uint32), r.astype(np.uint32)


def patch_to_cell(done: np.ndarray, size: int, ws: Workspace | None = None) -> np.ndarray:
    """(n, P, P, 3) uint8 rounded outputs → (n, C, C, 3) uint8 cells: integer bilinear up (C > P),
    as is (C = P), box mean rounded half up (C < P); in buffers of `ws`, valid until its next frame."""
    n, patch, _, ch = done.shape
    if size == patch:
        return done
    ws = ws if ws is not None else Workspace()
    out = ws.rows(f"v2.cells.{size}", n, (size, size, ch), np.uint8)
    if size < patch:
        return box_mean(done, patch // size, out, ws)
    f = size // patch
    enlarge(done, f, lambda phi, rows: np.copyto(out[:, phi::f], rows), ws)
    return out


# Step 9
def paste(frame: np.ndarray, size: int, rows: np.ndarray, cols: np.ndarray, done: np.ndarray, ws: Workspace) -> None:
    """Steps 8 and 9 for the cells of one size: each rounded patch in `done` back to its cell, written
    into the padded frame at (`rows`, `cols`) on its grid of C-px cells. An enlarged cell is written
    one phase of its rows at a time, from a buffer still in cache, instead of as whole cells."""
    grid = frame.reshape(frame.shape[0] // size, size, frame.shape[1] // size, size, frame.shape[2])
    f = size // done.shape[1]
    if f > 1:
        def put(phi: int, phase_rows: np.ndarray) -> None:
            grid[rows, phi::f, cols] = phase_rows

        enlarge(done, f, put, ws)
    else:
        grid[rows, :, cols] = patch_to_cell(done, size, ws)


PhaseRows = Callable[[int, np.ndarray], None]
"""Takes step 8's rounded rows of one phase φ of every enlarged cell, (n, P, C, 3) uint8: the rows φ,
φ + f, φ + 2f, … of each cell, valid during the call."""


def enlarge(done: np.ndarray, f: int, put: PhaseRows, ws: Workspace) -> None:
    """Step 8's bilinear enlargement by f, rows first as the spec has it: each row across (from the
    small P×P patch's channel planes into rows of interleaved pixels), then the rows down (whole rows,
    contiguous) with the rounding shift, handed to `put` a phase of rows at a time. The spec's + 2f²
    is folded into the first pass as + f on every value: the second pass's weights sum to 2f, so it
    turns f into 2f² (exact in integers, and the first pass is the smaller)."""
    n, patch, _, ch = done.shape
    size = patch * f
    kind = np.uint16 if f <= 8 else np.uint32  # o ≤ 4f²·255 + 2f²
    name = f"v2.enlarge.{size}"
    planes = ws.rows(f"{name}.planes", n, (ch, patch, patch), kind)
    for c in range(ch):
        planes[:, c] = done[..., c]
    down = ws.rows(f"{name}.down", n, (patch + 2, size, ch), kind)  # pixel rows, the edge rows repeated
    _enlarge_across(planes, f, down, kind, ws, name, rounding=f)
    down[:, 0], down[:, -1] = down[:, 1], down[:, -2]
    _enlarge_down(down, f, put, kind, ws, f"{name}.down", 2 * (f.bit_length() - 1) + 2)


def _phases(f: int) -> list[tuple[int, int, bool]]:
    """(w0, w1, before) of each phase φ of step 8's taps: output t = f·j + φ is w0·x[lo] + w1·x[hi]
    with lo = j − 1, hi = j for the first f/2 phases (`before`) and lo = j, hi = j + 1 for the others
    (clamped at the edges), and the weights (2f − r, r) are the same for every j: `bilinear_taps`,
    the spec's form, read by phase (tests/reference_runtime/test_multiscale.py checks they agree)."""
    out = []
    for phi in range(f):
        before = 2 * phi + 1 < f
        r = 2 * phi + 1 + f if before else 2 * phi + 1 - f
        out.append((2 * f - r, r, before))
    return out


def _weighed(x: np.ndarray, f: int, kind: type, ws: Workspace, name: str, rounding: int) -> dict[int, np.ndarray]:
    """x times each of the f odd weights below 2f, so that each phase is one addition. `rounding` is
    added to the copies whose weight is above f: each phase takes exactly one of those (w0 + w1 = 2f,
    w0 ≠ w1), so every output gets it once."""
    weighed = {1: x}
    for w in range(3, 2 * f, 2):
        weighed[w] = np.multiply(x, kind(w), out=ws.rows(f"{name}.{w}", len(x), x.shape[1:], kind))
        if w > f and rounding:
            weighed[w] += kind(rounding)
    return weighed


def _enlarge_across(planes: np.ndarray, f: int, down: np.ndarray, kind: type, ws: Workspace, name: str,
                    rounding: int) -> None:
    """Step 8's taps along the rows of the patches' channel planes (n, 3, P, P), written straight into
    the interleaved pixel rows of `down` (n, P + 2, P·f, 3), between its edge rows. Each cell's plane
    is read as one signal of P² samples: a sample's neighbour one step before or after in memory is
    its neighbour in its row everywhere but at the row's first or last sample, where the spec clamps,
    and those are written again from the clamped taps. A phase of a channel lies in `down` at one
    stride too (P·f·3 between rows is P times f·3 along one), so each addition is one long run per
    cell (numpy's cost is per run: on rows of 32 samples the short passes cost more than the long ones)."""
    n, ch, length, _ = planes.shape
    weighed = _weighed(planes.reshape(n, ch, length * length), f, kind, ws, f"{name}.across", rounding)
    rows = down[:, 1:-1]
    for phi, (w0, w1, before) in enumerate(_phases(f)):
        edge = slice(0, None, length) if before else slice(length - 1, None, length)  # j = 0 or j = L − 1
        for c in range(ch):
            lo, hi, phase = weighed[w0][:, c], weighed[w1][:, c], rows[:, :, phi::f, c].reshape(n, length * length)
            np.add(lo[:, :-1], hi[:, 1:], out=phase[:, 1:] if before else phase[:, :-1])
            np.add(lo[:, edge], hi[:, edge], out=phase[:, edge])


def _enlarge_down(down: np.ndarray, f: int, put: PhaseRows, kind: type, ws: Workspace, name: str, shift: int) -> None:
    """Step 8's taps down the rows of `down` (n, P + 2, C, 3: the P rows with the edge row repeated
    at both ends) and its rounding shift: each phase (`_phases`) one addition of two shifted slices of
    the weighed copies (`_weighed`) into a buffer a phase in size, shifted to bytes and handed to
    `put` while the buffers are in cache (no full-size array of sums)."""
    n, length = len(down), down.shape[1] - 2
    weighed = _weighed(down, f, kind, ws, name, 0)
    sums = ws.rows(f"{name}.phase", n, (length, *down.shape[2:]), kind)
    rounded = ws.rows(f"{name}.rounded", n, (length, *down.shape[2:]), np.uint8)
    for phi, (w0, w1, before) in enumerate(_phases(f)):
        start = 0 if before else 1
        np.add(weighed[w0][:, start:start + length], weighed[w1][:, start + 1:start + 1 + length], out=sums)
        put(phi, np.right_shift(sums, shift, out=rounded, casting="unsafe"))


@dataclass
class Rendered:
    """One frame of spec v2: the uint8 frame, its layout, each leaf's theme and (when asked) the
    model's float outputs on each leaf's patch, in paste order."""

    frame: np.ndarray
    layout: Layout
    themes: np.ndarray
    floats: np.ndarray | None


def render(frame_u8: np.ndarray, models: Sequence[PatchModel | IntegerModel], *, patch: int, settings: Multiscale,
           batch: int, layout: str = "NCHW", workspace: Workspace | None = None, themed: bool | None = None,
           keep_float: bool = False) -> Rendered:
    """Spec v2 steps 1–10. Several models split the cells by luminance bands (`themed`, by default
    when there are several). The layout of the previous frame rendered with this `workspace` is its
    `prev` (hysteresis); pass one workspace per video. Integer models that share an input table are
    fed bytes from step 6 on (`byte_fed`), as the apps feed them."""
    ws = workspace if workspace is not None else Workspace()
    sizes = settings.sizes(patch)
    h, w = frame_u8.shape[:2]
    with ws.phase("cells"):
        padded = pad_to_cells(frame_u8, sizes[0])
        sums = cell_sums(padded_luma(padded, ws), sizes)
        chosen = choose_layout((h, w), padded.shape[:2], sums, sizes, settings, ws.previous_layout)
        ws.previous_layout = chosen
        n_themes = len(models) if themed is None or themed else 1
        per_size = [(size, *np.nonzero(leaf)) for size, leaf in zip(sizes, chosen.leaves) if leaf.any()]
        themes = np.concatenate([band(sums[sizes.index(size)][0][r, c], size, n_themes) for size, r, c in per_size])
    fed = byte_fed(models, layout, keep_float)
    encode = None if fed is None else _encoder(fed, ws)
    kind = np.uint8 if fed is None else fed.encode.dtype  # pixels, or the models' input bytes
    patches = ws.rows("v2.patches", len(themes), (patch, patch, frame_u8.shape[2]), kind)
    start = 0
    for size, r, c in per_size:
        for top, rows in padded.bands:  # the cells of a band are a run of the row-major order
            first, end = np.searchsorted(r, (top // size, (top + len(rows)) // size))
            if end > first:
                cell_patches(rows, size, r[first:end] - top // size, c[first:end], patch,
                             patches[start:start + end - first], ws, encode)
                start += end - first
    if fed is None:
        done, floats = run_patches(models, patches, themes, batch, layout, ws, keep_float)
    else:
        done, floats = run_encoded_patches(models, patches, themes, batch, ws), None
    with ws.phase("resample"):
        out = np.empty(padded.shape, np.uint8)
        start = 0
        for size, r, c in per_size:
            paste(out, size, r, c, done[start:start + len(r)], ws)
            start += len(r)
    return Rendered(out[:h, :w], chosen, themes, floats)  # a view of a new array: cropping needs no copy


def _encoder(model: IntegerModel, ws: Workspace) -> Callable[[np.ndarray, np.ndarray | None], np.ndarray]:
    """Pixels → the model's input bytes (its `encode` table), into `out` or else a workspace buffer."""
    def encode(pixels: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        if out is None:
            out = ws.rows(f"v2.encoded.{pixels.shape[1]}", len(pixels), pixels.shape[1:], model.encode.dtype)
        model.encode_map.apply(pixels, out, ws.rows(f"v2.scratch.{pixels.shape[1]}", len(pixels), pixels.shape[1:], bool))
        return out
    return encode
