"""Random overlapping patch sampling: crops of random size, aspect and position (under a seed)
until a given fraction of the frame is covered, each resized to the model's P, transformed,
resized back and feather-blended. Pixels no crop touched keep the input.

Each new box is placed around a still-uncovered pixel drawn at random, so every box adds coverage
and even coverage 1.0 is reached after a few times (frame area / box area) boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ygan_mobile.render import torch_pipeline, theme_map
from ygan_mobile.render.torch_pipeline import PatchModel

PROBES = 32
"""Random pixels tried per box before falling back to listing every uncovered pixel."""


@dataclass(frozen=True)
class Box:
    top: int
    left: int
    height: int
    width: int


def _uncovered_pixel(covered: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    flat = covered.reshape(-1)
    probes = rng.integers(0, flat.size, PROBES)
    free = probes[~flat[probes]]
    index = free[0] if free.size else rng.choice(np.flatnonzero(~flat))
    return divmod(int(index), covered.shape[1])


def random_boxes(h: int, w: int, patch: int, coverage: float, rng: np.random.Generator,
                 scale: tuple[float, float] = (0.5, 2.0), max_aspect: float = 2.0) -> list[Box]:
    """Side P·scale (uniform), aspect ratio log-uniform in [1/max_aspect, max_aspect], clipped to
    the frame; boxes are drawn until at least `coverage` of the h×w pixels are covered."""
    covered = np.zeros((h, w), bool)
    n_covered, boxes = 0, []
    while n_covered < coverage * h * w:
        side = patch * rng.uniform(*scale)
        aspect = np.exp(rng.uniform(-np.log(max_aspect), np.log(max_aspect)))
        bh = int(np.clip(round(side * np.sqrt(aspect)), 1, h))
        bw = int(np.clip(round(side / np.sqrt(aspect)), 1, w))
        y, x = _uncovered_pixel(covered, rng)
        top = int(rng.integers(max(0, y - bh + 1), min(y, h - bh) + 1))
        left = int(rng.integers(max(0, x - bw + 1), min(x, w - bw) + 1))
        region = covered[top:top + bh, left:left + bw]
        n_covered += region.size - int(region.sum())
        region[:] = True
        boxes.append(Box(top, left, bh, bw))
    return boxes


def ramp(n: int) -> torch.Tensor:
    """Feather weights along a box side: linear over a quarter of the side at each end, never 0."""
    r = max(1, n // 4)
    i = torch.arange(n, dtype=torch.float32)
    return torch.minimum(torch.ones(n), torch.minimum((i + 0.5) / r, (n - i - 0.5) / r))


def render_random(frame_u8: np.ndarray, models: Sequence[PatchModel], *, patch: int, coverage: float = 0.8,
                  seed: int = 0, batch: int = torch_pipeline.DEFAULT_BATCH) -> np.ndarray:
    """With several models, each box's theme is the luminance band of its input crop (theme_map.py)."""
    h, w = frame_u8.shape[:2]
    x = torch_pipeline.to_float(frame_u8)
    boxes = random_boxes(h, w, patch, coverage, np.random.default_rng(seed))
    crops = torch.cat([F.interpolate(x[None, :, b.top:b.top + b.height, b.left:b.left + b.width],
                                     size=(patch, patch), mode="bilinear", align_corners=False) for b in boxes])
    luma = theme_map.luminance(frame_u8)
    box_themes = theme_map.band([luma[b.top:b.top + b.height, b.left:b.left + b.width].mean() for b in boxes], len(models))
    outs = torch.empty_like(crops)
    for t in np.unique(box_themes):
        chosen = torch.from_numpy(np.flatnonzero(box_themes == t))
        outs[chosen] = torch_pipeline.run_batched(models[int(t)], crops[chosen], batch).to(torch.float32)

    acc, norm = torch.zeros_like(x), torch.zeros(h, w)
    for b, out in zip(boxes, outs):
        back = F.interpolate(out[None], size=(b.height, b.width), mode="bilinear", align_corners=False)[0]
        weight = ramp(b.height)[:, None] * ramp(b.width)[None, :]
        acc[:, b.top:b.top + b.height, b.left:b.left + b.width] += back * weight
        norm[b.top:b.top + b.height, b.left:b.left + b.width] += weight
    return torch_pipeline.to_u8(torch.where(norm > 0, acc / norm.clamp_min(1e-12), x))
