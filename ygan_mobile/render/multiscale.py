"""The patch-render pipeline, spec v2 (docs/pipeline.md): cells of several sizes, in torch.

Written from the spec, on purpose unlike the numpy twin in reference_runtime.multiscale: cell sums
come from integral images (the twin sums a pyramid), the layout walks a Python list of cells in the
spec's order (the twin sorts arrays), and resampling is an integer matrix product A·q·Aᵀ (the twin
gathers taps). Each checks the other (tests/ygan_mobile/test_render_multiscale.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from ygan_mobile.render.torch_pipeline import DEFAULT_BATCH, PatchModel, run_chunk, to_u8

DEFAULT_THRESHOLD = 64  # a cell whose block-luma variance (levels²) is above this splits
DEFAULT_HYSTERESIS = 16  # video: split cells stay split down to T − Hy, new ones need T + Hy
DEFAULT_BUDGET = 512  # at most this many cells (model inputs) per frame
DEFAULT_LARGEST = 4  # largest cell: 4·P
DEFAULT_SMALLEST = 2  # smallest cell: P/2

Cell = tuple[int, int, int]  # top, left, size


@dataclass(frozen=True)
class MultiscaleOptions:
    """Spec v2's parameters; `largest`/`smallest` are cell sizes in pixels, None for 4·P and P/2."""

    threshold: int = DEFAULT_THRESHOLD
    hysteresis: int = DEFAULT_HYSTERESIS
    budget: int = DEFAULT_BUDGET
    largest: int | None = None
    smallest: int | None = None

    def sizes(self, patch: int) -> list[int]:
        problem = settings_problem(self.threshold, self.hysteresis, self.budget, self.largest, self.smallest, patch)
        if problem:
            raise ValueError(problem)
        out = [self.largest or DEFAULT_LARGEST * patch]
        while out[-1] > (self.smallest or patch // DEFAULT_SMALLEST):
            out.append(out[-1] // 2)
        return out


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


@dataclass
class LayoutState:
    """What a video carries from frame to frame: the previous frame's split cells and what they were for."""

    key: tuple | None = None
    split: set[Cell] = field(default_factory=set)


class CellStats:
    """S1 and S2 of any cell from integral images of the 2×2-block luma (spec steps 2–3)."""

    def __init__(self, padded: torch.Tensor):
        top_left = padded[0::2, 0::2].to(torch.int64)  # (H2/2, W2/2, 3): one pixel per 2×2 block
        y = (top_left[..., 0] * 77 + top_left[..., 1] * 150 + top_left[..., 2] * 29 + 128) >> 8
        self.i1 = torch.nn.functional.pad(y.cumsum(0).cumsum(1), (1, 0, 1, 0))
        self.i2 = torch.nn.functional.pad((y * y).cumsum(0).cumsum(1), (1, 0, 1, 0))

    def sums(self, cell: Cell) -> tuple[int, int]:
        top, left, size = (v // 2 for v in cell)
        out = []
        for ii in (self.i1, self.i2):
            out.append(int(ii[top + size, left + size] - ii[top, left + size] - ii[top + size, left] + ii[top, left]))
        return out[0], out[1]

    def detail(self, cell: Cell) -> int:
        s1, s2 = self.sums(cell)
        n = (cell[2] // 2) ** 2
        return (n * s2 - s1 * s1) // (n * n)

    def band(self, cell: Cell, n_themes: int) -> int:
        s1, _ = self.sums(cell)
        n = (cell[2] // 2) ** 2
        return min((n_themes * s1) // (256 * n), n_themes - 1)


def layout(stats: CellStats, height: int, width: int, padded_shape: tuple[int, int], sizes: list[int],
           o: MultiscaleOptions, state: LayoutState) -> list[Cell]:
    """Spec step 4, literally: the leaves in paste order (step 5); updates `state` for the next frame."""
    key = (tuple(padded_shape), tuple(sizes), o.threshold, o.hysteresis, o.budget)
    prev = state.split if state.key == key else None
    big = sizes[0]
    leaves = [(r, c, big) for r in range(0, padded_shape[0], big) for c in range(0, padded_shape[1], big)]
    count, split = len(leaves), set()
    for size in sizes[:-1]:
        def bar(cell: Cell) -> int:
            if prev is None:
                return o.threshold
            return o.threshold - o.hysteresis if cell in prev else o.threshold + o.hysteresis

        cand = [cell for cell in leaves if cell[2] == size and stats.detail(cell) > bar(cell)]
        cand.sort(key=lambda cell: (prev is None or cell not in prev, -stats.detail(cell), cell[0], cell[1]))
        half = size // 2
        for top, left, _ in cand:
            kids = [(t, l, half) for t in (top, top + half) for l in (left, left + half) if t < height and l < width]
            if count + len(kids) - 1 > o.budget:
                break
            leaves.remove((top, left, size))
            leaves += kids
            count += len(kids) - 1
            split.add((top, left, size))
    state.key, state.split = key, split
    return sorted(leaves, key=lambda cell: (-cell[2], cell[0], cell[1]))


def _mean_pool(x: torch.Tensor, factor: int) -> torch.Tensor:
    """(n, 3, A, A) int64 → (n, 3, A/f, A/f): the f×f box mean rounded half up."""
    n, ch, a, _ = x.shape
    sums = x.reshape(n, ch, a // factor, factor, a // factor, factor).sum(dim=(3, 5))
    return (sums + factor * factor // 2) // (factor * factor)


def to_patch(padded: torch.Tensor, cells: list[Cell], patch: int) -> torch.Tensor:
    """Spec step 6: (n, 3, P, P) int64, each cell's box mean (C ≥ P) or replication (C < P)."""
    out = []
    for top, left, size in cells:
        x = padded[top:top + size, left:left + size].permute(2, 0, 1)[None].to(torch.int64)
        if size >= patch:
            out.append(_mean_pool(x, size // patch))
        else:
            g = patch // size
            out.append(x.repeat_interleave(g, dim=2).repeat_interleave(g, dim=3))
    return torch.cat(out)


def upsampling_matrix(size: int, patch: int) -> torch.Tensor:
    """(C, P) int64 A with A[t, lo] += 2f − r, A[t, hi] += r: spec step 8's bilinear taps as a matrix."""
    f = size // patch
    a = torch.zeros(size, patch, dtype=torch.int64)
    for t in range(size):
        num = 2 * t + 1 - f
        i0 = num // (2 * f)
        r = num - 2 * f * i0
        a[t, min(max(i0, 0), patch - 1)] += 2 * f - r
        a[t, min(max(i0 + 1, 0), patch - 1)] += r
    return a


def to_cell(q: torch.Tensor, size: int) -> torch.Tensor:
    """Spec step 8: (3, P, P) int64 rounded output → (3, C, C) int64 cell pixels."""
    patch = q.shape[-1]
    if size == patch:
        return q
    if size < patch:
        return _mean_pool(q[None], patch // size)[0]
    f = size // patch
    a = upsampling_matrix(size, patch)
    return (a @ q @ a.T + 2 * f * f) // (4 * f * f)


@dataclass
class MultiscaleFrame:
    """A rendered frame (uint8 H×W×3), its leaves (K, 4: top, left, size, theme) in paste order and the
    model's float outputs on each leaf's patch (K, P, P, 3), before rounding."""

    frame: np.ndarray
    cells: np.ndarray
    floats: np.ndarray


def render(frame_u8: np.ndarray, models: Sequence[PatchModel], *, patch: int, options: MultiscaleOptions,
           batch: int = DEFAULT_BATCH, state: LayoutState | None = None, themed: bool | None = None) -> MultiscaleFrame:
    """Spec v2 end to end. Several models split the cells by luminance bands (by default when there are
    several); pass one `state` for every frame of a video."""
    sizes = options.sizes(patch)
    state = state if state is not None else LayoutState()
    h, w = frame_u8.shape[:2]
    big = sizes[0]
    h2, w2 = -(-h // big) * big, -(-w // big) * big
    x = torch.from_numpy(np.ascontiguousarray(frame_u8)).permute(2, 0, 1)[None].to(torch.float32)
    padded = torch.nn.functional.pad(x, (0, w2 - w, 0, h2 - h), mode="replicate")[0].permute(1, 2, 0).to(torch.uint8)
    stats = CellStats(padded)
    cells = layout(stats, h, w, (h2, w2), sizes, options, state)
    n_themes = len(models) if themed is None or themed else 1
    themes = [stats.band(cell, n_themes) for cell in cells]
    patches = to_patch(padded, cells, patch)
    floats = torch.empty(patches.shape, dtype=torch.float32)
    for t in sorted(set(themes)):
        members = [k for k, theme in enumerate(themes) if theme == t]
        for start in range(0, len(members), batch):
            chunk = members[start:start + batch]
            xin = patches[chunk].to(torch.float32).div_(127.5).sub_(1)
            floats[chunk] = run_chunk(models[t], xin, batch).to(torch.float32)
    rounded = torch.from_numpy(to_u8(floats)).permute(0, 3, 1, 2).to(torch.int64)
    out = torch.empty(3, h2, w2, dtype=torch.int64)
    for (top, left, size), q in zip(cells, rounded):
        out[:, top:top + size, left:left + size] = to_cell(q, size)
    table = np.array([[*cell, theme] for cell, theme in zip(cells, themes)], np.int32).reshape(-1, 4)
    return MultiscaleFrame(out[:, :h, :w].permute(1, 2, 0).to(torch.uint8).contiguous().numpy(), table,
                           floats.permute(0, 2, 3, 1).contiguous().numpy())
