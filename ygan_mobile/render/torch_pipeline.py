"""The patch-render pipeline, spec v1 (DESIGN §4), in torch: the "original" every artifact is
compared to. Gathering uses `unfold` views and blending `index_add_`, on purpose unlike the numpy
twin in reference_runtime.pipeline (plain accumulation loops), so each cross-checks the other.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

import numpy as np
import torch

PatchModel = Callable[[torch.Tensor], torch.Tensor]
BLENDS = ("feather", "paste")
DEFAULT_BLEND = "feather"
DEFAULT_BATCH = 16  # patches per model call when the caller names none (an artifact names its own)


def default_stride(patch: int) -> int:
    """Half the patch, at least 1: feathered overlap, the stride of `ygan render`, of a converted
    bundle's manifest and of the student's evaluation when none is given."""
    return max(1, patch // 2)


def positions(length: int, patch: int, stride: int) -> list[int]:
    """p_k = k·S while p_k + P ≤ L; if the last patch stops short of the edge, append L − P."""
    if not 1 <= stride <= patch:
        raise ValueError(f"stride {stride} must be between 1 and the patch size {patch}")
    if length < patch:
        raise ValueError(f"axis of length {length} is shorter than the patch {patch}: pad first")
    out = list(range(0, length - patch + 1, stride))
    if out[-1] + patch < length:
        out.append(length - patch)
    return out


def window(patch: int, stride: int) -> torch.Tensor:
    """w(i) = min(1, (i + 0.5)/O, (P − i − 0.5)/O) with overlap O = P − S; all ones when O = 0."""
    overlap = patch - stride
    if overlap == 0:
        return torch.ones(patch, dtype=torch.float32)
    i = torch.arange(patch, dtype=torch.float64)
    w = torch.minimum(torch.minimum(torch.ones_like(i), (i + 0.5) / overlap), (patch - i - 0.5) / overlap)
    return w.to(torch.float32)


def to_float(frame_u8: np.ndarray) -> torch.Tensor:
    """uint8 H×W×3 → float32 (3,H,W) in [-1, 1]: x = u8 / 127.5 − 1 (in place: one float frame, not three)."""
    x = torch.from_numpy(np.array(frame_u8, dtype=np.uint8)).permute(2, 0, 1).to(torch.float32)
    return x.div_(127.5).sub_(1)


def to_u8(y: torch.Tensor) -> np.ndarray:
    """float (…,3,H,W) → uint8 (…,H,W,3): floor(clip((y + 1)·127.5, 0, 255) + 0.5), in place on one
    copy. The teacher side's one u8 rounding: frames here, patch sheets in plots and distill."""
    u8 = (y.detach().to(torch.float32) + 1).mul_(127.5).clamp_(0, 255).add_(0.5).floor_()
    return u8.to(torch.uint8).movedim(-3, -1).contiguous().numpy()


def run_chunk(model: PatchModel, chunk: torch.Tensor, batch: int) -> torch.Tensor:
    """One model call on at most B patches: padded with zeros to B, the padding's outputs dropped."""
    n = chunk.shape[0]
    if n < batch:
        chunk = torch.cat([chunk, chunk.new_zeros((batch - n, *chunk.shape[1:]))])
    with torch.no_grad():
        out = model(chunk)
    if tuple(out.shape) != tuple(chunk.shape):
        raise ValueError(f"patch model returned shape {tuple(out.shape)} for {tuple(chunk.shape)}: it must map (N,3,P,P) to itself")
    return out[:n]


def run_batched(model: PatchModel, patches: torch.Tensor, batch: int) -> torch.Tensor:
    """Chunks of the artifact's fixed batch B; the last chunk zero-padded, its padding dropped."""
    return torch.cat([run_chunk(model, patches[start:start + batch], batch) for start in range(0, patches.shape[0], batch)])


def theme_indices(theme_map: int | np.ndarray, rows: int, cols: int) -> np.ndarray:
    """One theme index per patch, row-major: a single theme or a (rows, cols) grid of indices."""
    grid = np.asarray(theme_map, dtype=np.int64)
    if grid.ndim == 0:
        return np.full(rows * cols, int(grid))
    if grid.shape != (rows, cols):
        raise ValueError(f"theme map of shape {grid.shape} does not match the {rows}×{cols} patch grid")
    return grid.reshape(-1)


def render_float(frame_u8: np.ndarray, models: Sequence[PatchModel], *, patch: int, stride: int,
                 blend: str = DEFAULT_BLEND, batch: int = DEFAULT_BATCH, theme_map: int | np.ndarray = 0) -> torch.Tensor:
    """Spec steps 1–5 and 7–8: the blended float32 (3,H,W) output in [-1, 1] (before rounding)."""
    if blend not in BLENDS:
        raise ValueError(f"blend '{blend}' is not one of {BLENDS}")
    h, w = frame_u8.shape[:2]
    x = to_float(frame_u8)
    ph, pw = max(h, patch), max(w, patch)
    if (ph, pw) != (h, w):
        x = torch.nn.functional.pad(x[None], (0, pw - w, 0, ph - h), mode="replicate")[0]
    rows, cols = positions(ph, patch, stride), positions(pw, patch, stride)
    themes = theme_indices(theme_map, len(rows), len(cols))
    patch_rows = _patch_rows(x, models, rows, cols, themes, patch, batch)
    if blend == "paste":
        out = _paste(patch_rows, rows, cols, ph, pw, patch)
    else:
        out = _feather(patch_rows, rows, cols, ph, pw, patch, stride)
    return out[:, :h, :w]


def _patch_rows(x: torch.Tensor, models: Sequence[PatchModel], rows: list[int], cols: list[int], themes: np.ndarray,
                patch: int, batch: int) -> Iterator[tuple[int, torch.Tensor]]:
    """(i, outputs of patch row i as (cols, 3, P, P)), top to bottom, in bounded memory.

    Each theme's patches run in row-major chunks of B (spec step 7), gathered from `unfold` views
    only when their chunk runs; chunks run in the order of their last patch, and a row's outputs
    are held only until it and every row above it are complete. Peak memory is the frame plus a
    few patch rows, not every patch of the frame (docs/pipeline.md, "Memory")."""
    # (ph−P+1, pw−P+1, 3, P, P), no copy. A gather from it keeps the frame's memory order (channels
    # last for a frame from numpy): convolutions take another code path, and rounding, on another order.
    patches = x.unfold(1, patch, 1).unfold(2, patch, 1).permute(1, 2, 0, 3, 4)
    n_cols = len(cols)
    r_idx, c_idx = torch.tensor(rows), torch.tensor(cols)
    chunks = [(int(t), members[s:s + batch]) for t in np.unique(themes)
              for members in [np.flatnonzero(themes == t)] for s in range(0, len(members), batch)]
    held: dict[int, torch.Tensor] = {}
    left = [n_cols] * len(rows)
    done = 0
    for t, members in sorted(chunks, key=lambda chunk: chunk[1][-1]):
        i, j = torch.from_numpy(members // n_cols), torch.from_numpy(members % n_cols)
        out = run_chunk(models[t], patches[r_idx[i], c_idx[j]], batch).to(torch.float32)
        for row in torch.unique(i).tolist():
            here = i == row
            held.setdefault(row, out.new_empty((n_cols, 3, patch, patch)))[j[here]] = out[here]
            left[row] -= int(here.sum())
        while done < len(rows) and left[done] == 0:
            yield done, held.pop(done)
            done += 1


def _feather(patch_rows, rows, cols, h: int, w: int, patch: int, stride: int) -> torch.Tensor:
    """Σ W·patch / Σ W by index_add_, one patch row at a time in row order: each pixel's sum is taken
    in row-major patch order, as when all patches were added in one call."""
    win = window(patch, stride)
    weight = win[:, None] * win[None, :]
    acc = torch.zeros(3, h * w, dtype=torch.float32)
    norm = torch.zeros(h * w, dtype=torch.float32)
    for i, outputs in patch_rows:
        index = _pixel_index([rows[i]], cols, w, patch).reshape(-1)
        acc.index_add_(1, index, (outputs * weight).permute(1, 0, 2, 3).reshape(3, -1))
        norm.index_add_(0, index, weight.expand(outputs.shape[0], patch, patch).reshape(-1))
    return acc.div_(norm).reshape(3, h, w)


def _pixel_index(rows: list[int], cols: list[int], width: int, patch: int) -> torch.Tensor:
    """(K, P·P) flat frame indices of every patch pixel, patches row-major."""
    r = torch.tensor(rows)[:, None, None, None] + torch.arange(patch)[None, None, :, None]
    c = torch.tensor(cols)[None, :, None, None] + torch.arange(patch)[None, None, None, :]
    return (r * width + c).reshape(len(rows) * len(cols), patch * patch)


def _paste(patch_rows, rows, cols, h: int, w: int, patch: int) -> torch.Tensor:
    """Later patches overwrite earlier ones: within a patch row each pixel column takes the last
    patch covering it, and rows are written top to bottom, so the last (row-major) patch wins."""
    s = torch.tensor(cols)
    ci = (s[None, :] <= torch.arange(w)[:, None]).sum(1) - 1
    dx = torch.arange(w) - s[ci]
    out = torch.zeros(3, h, w, dtype=torch.float32)
    for i, outputs in patch_rows:
        out[:, rows[i]:rows[i] + patch] = outputs[ci, :, :, dx].permute(1, 2, 0)
    return out


def render_frame(frame_u8: np.ndarray, models: Sequence[PatchModel], *, patch: int, stride: int,
                 blend: str = DEFAULT_BLEND, batch: int = DEFAULT_BATCH, theme_map: int | np.ndarray = 0) -> np.ndarray:
    """Spec v1 end to end: uint8 H×W×3 in, uint8 H×W×3 out."""
    return to_u8(render_float(frame_u8, models, patch=patch, stride=stride, blend=blend, batch=batch,
                              theme_map=theme_map))
