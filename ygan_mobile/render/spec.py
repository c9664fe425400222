"""The patch-render pipeline, spec v1 (DESIGN §4), in torch: the "original" every artifact is
compared to. Gathering uses `unfold` views and blending `index_add_`, on purpose unlike the numpy
twin in reference_runtime.pipeline (plain accumulation loops), so each cross-checks the other.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

PatchModel = Callable[[torch.Tensor], torch.Tensor]
BLENDS = ("feather", "paste")


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
    """uint8 H×W×3 → float32 (3,H,W) in [-1, 1]: x = u8 / 127.5 − 1."""
    return torch.from_numpy(np.array(frame_u8, dtype=np.uint8)).permute(2, 0, 1).to(torch.float32) / 127.5 - 1


def to_u8(y: torch.Tensor) -> np.ndarray:
    """float (3,H,W) → uint8 H×W×3: floor(clip((y + 1)·127.5, 0, 255) + 0.5)."""
    u8 = torch.floor(torch.clamp((y.to(torch.float32) + 1) * 127.5, 0, 255) + 0.5)
    return u8.to(torch.uint8).permute(1, 2, 0).contiguous().numpy()


def run_batched(model: PatchModel, patches: torch.Tensor, batch: int) -> torch.Tensor:
    """Chunks of the artifact's fixed batch B; the last chunk zero-padded, its padding dropped."""
    outs = []
    for start in range(0, patches.shape[0], batch):
        chunk = patches[start:start + batch]
        n = chunk.shape[0]
        if n < batch:
            chunk = torch.cat([chunk, chunk.new_zeros((batch - n, *chunk.shape[1:]))])
        with torch.no_grad():
            out = model(chunk)
        if tuple(out.shape) != tuple(chunk.shape):
            raise ValueError(f"patch model returned shape {tuple(out.shape)} for {tuple(chunk.shape)}: it must map (N,3,P,P) to itself")
        outs.append(out[:n])
    return torch.cat(outs)


def theme_indices(theme_map: int | np.ndarray, rows: int, cols: int) -> np.ndarray:
    """One theme index per patch, row-major: a single theme or a (rows, cols) grid of indices."""
    grid = np.asarray(theme_map, dtype=np.int64)
    if grid.ndim == 0:
        return np.full(rows * cols, int(grid))
    if grid.shape != (rows, cols):
        raise ValueError(f"theme map of shape {grid.shape} does not match the {rows}×{cols} patch grid")
    return grid.reshape(-1)


def render_float(frame_u8: np.ndarray, models: Sequence[PatchModel], *, patch: int, stride: int,
                 blend: str = "feather", batch: int = 16, theme_map: int | np.ndarray = 0) -> torch.Tensor:
    """Spec steps 1–5 and 7–8: the blended float32 (3,H,W) output in [-1, 1] (before rounding)."""
    if blend not in BLENDS:
        raise ValueError(f"blend '{blend}' is not one of {BLENDS}")
    h, w = frame_u8.shape[:2]
    x = to_float(frame_u8)
    ph, pw = max(h, patch), max(w, patch)
    if (ph, pw) != (h, w):
        x = torch.nn.functional.pad(x[None], (0, pw - w, 0, ph - h), mode="replicate")[0]
    rows, cols = positions(ph, patch, stride), positions(pw, patch, stride)
    views = x.unfold(1, patch, 1).unfold(2, patch, 1)  # (3, ph−P+1, pw−P+1, P, P), no copy
    r_idx, c_idx = torch.tensor(rows), torch.tensor(cols)
    patches = views[:, r_idx][:, :, c_idx].permute(1, 2, 0, 3, 4).reshape(-1, 3, patch, patch)

    themes = theme_indices(theme_map, len(rows), len(cols))
    outputs = torch.empty_like(patches)
    for t in np.unique(themes):
        chosen = torch.from_numpy(np.flatnonzero(themes == t))
        outputs[chosen] = run_batched(models[int(t)], patches[chosen], batch).to(torch.float32)

    if blend == "paste":
        out = _paste(outputs, rows, cols, ph, pw, patch)
    else:
        out = _feather(outputs, rows, cols, ph, pw, patch, stride)
    return out[:, :h, :w]


def _pixel_index(rows: list[int], cols: list[int], width: int, patch: int) -> torch.Tensor:
    """(K, P·P) flat frame indices of every patch pixel, patches row-major."""
    r = torch.tensor(rows)[:, None, None, None] + torch.arange(patch)[None, None, :, None]
    c = torch.tensor(cols)[None, :, None, None] + torch.arange(patch)[None, None, None, :]
    return (r * width + c).reshape(len(rows) * len(cols), patch * patch)


def _feather(outputs: torch.Tensor, rows, cols, h: int, w: int, patch: int, stride: int) -> torch.Tensor:
    win = window(patch, stride)
    weight = win[:, None] * win[None, :]
    index = _pixel_index(rows, cols, w, patch).reshape(-1)
    acc = torch.zeros(3, h * w, dtype=torch.float32)
    norm = torch.zeros(h * w, dtype=torch.float32)
    acc.index_add_(1, index, (outputs * weight).permute(1, 0, 2, 3).reshape(3, -1))
    norm.index_add_(0, index, weight.expand(outputs.shape[0], patch, patch).reshape(-1))
    return (acc / norm).reshape(3, h, w)


def _paste(outputs: torch.Tensor, rows, cols, h: int, w: int, patch: int) -> torch.Tensor:
    """Later patches overwrite earlier ones: each pixel takes the last patch (row-major) covering it."""
    def last_cover(starts: list[int], length: int) -> torch.Tensor:
        s = torch.tensor(starts)
        return (s[None, :] <= torch.arange(length)[:, None]).sum(1) - 1

    ri, ci = last_cover(rows, h), last_cover(cols, w)
    k = ri[:, None] * len(cols) + ci[None, :]
    dy = torch.arange(h) - torch.tensor(rows)[ri]
    dx = torch.arange(w) - torch.tensor(cols)[ci]
    return outputs[k, :, dy[:, None], dx[None, :]].permute(2, 0, 1)


def render_frame(frame_u8: np.ndarray, models: Sequence[PatchModel], *, patch: int, stride: int,
                 blend: str = "feather", batch: int = 16, theme_map: int | np.ndarray = 0) -> np.ndarray:
    """Spec v1 end to end: uint8 H×W×3 in, uint8 H×W×3 out."""
    return to_u8(render_float(frame_u8, models, patch=patch, stride=stride, blend=blend, batch=batch,
                              theme_map=theme_map))
