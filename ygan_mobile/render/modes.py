"""The method's renderers beyond the parity core: random and salient sampling, feedback,
stereoscopic pairs and several themes in one frame. All build on spec.py."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ygan_mobile.render import spec
from ygan_mobile.render.spec import PatchModel


def luminance_bands(frame_u8: np.ndarray, patch: int, stride: int, n_themes: int) -> np.ndarray:
    """Theme map rule: each patch's mean luminance picks one of `n_themes` equal bands (dark → first)."""
    h, w = frame_u8.shape[:2]
    padded = np.pad(frame_u8, ((0, max(0, patch - h)), (0, max(0, patch - w)), (0, 0)), mode="edge")
    lum = padded.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    rows = spec.positions(padded.shape[0], patch, stride)
    cols = spec.positions(padded.shape[1], patch, stride)
    means = np.array([[lum[r:r + patch, c:c + patch].mean() for c in cols] for r in rows])
    return np.minimum((means / 256.0 * n_themes).astype(np.int64), n_themes - 1)


def salient_map(frame_u8: np.ndarray, patch: int, stride: int, n_themes: int, fraction: float,
                theme_map: np.ndarray | int = 0) -> np.ndarray:
    """Only the `fraction` of grid patches with the strongest edges (mean gradient magnitude of the
    luminance) are transformed; the rest get index `n_themes`, the identity, and keep the input."""
    h, w = frame_u8.shape[:2]
    padded = np.pad(frame_u8, ((0, max(0, patch - h)), (0, max(0, patch - w)), (0, 0)), mode="edge")
    lum = padded.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    gy, gx = np.gradient(lum)
    mag = np.hypot(gx, gy)
    rows = spec.positions(padded.shape[0], patch, stride)
    cols = spec.positions(padded.shape[1], patch, stride)
    score = np.array([[mag[r:r + patch, c:c + patch].mean() for c in cols] for r in rows])
    themes = np.broadcast_to(np.asarray(theme_map), score.shape).copy()
    themes[score < np.quantile(score, 1 - fraction)] = n_themes
    return themes


def render_salient(frame_u8, models: Sequence[PatchModel], *, patch, stride, fraction=0.5, blend="feather",
                   batch=16, theme_map=0) -> np.ndarray:
    themes = salient_map(frame_u8, patch, stride, len(models), fraction, theme_map)
    return spec.render_frame(frame_u8, [*models, lambda x: x], patch=patch, stride=stride, blend=blend,
                             batch=batch, theme_map=themes)


def random_boxes(h: int, w: int, patch: int, coverage: float, rng: np.random.Generator,
                 scale=(0.5, 2.0), max_aspect: float = 2.0, limit: int = 100_000) -> list[tuple[int, int, int, int]]:
    """Boxes (top, left, height, width) of random size, aspect and position until `coverage` of the
    frame is covered: size = P·scale, aspect ratio in [1/max_aspect, max_aspect], log-uniform."""
    covered = np.zeros((h, w), bool)
    boxes = []
    while covered.mean() < coverage and len(boxes) < limit:
        s = patch * rng.uniform(*scale)
        a = np.exp(rng.uniform(-np.log(max_aspect), np.log(max_aspect)))
        bh = int(np.clip(round(s * np.sqrt(a)), 2, h))
        bw = int(np.clip(round(s / np.sqrt(a)), 2, w))
        top, left = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
        boxes.append((top, left, bh, bw))
        covered[top:top + bh, left:left + bw] = True
    return boxes


def _ramp(n: int) -> torch.Tensor:
    """Feather ramp over a box side: a quarter of the side on each end."""
    return spec.window(n, n - max(1, n // 4)) if n > 1 else torch.ones(1)


def render_random(frame_u8: np.ndarray, model: PatchModel, *, patch: int, coverage: float = 0.8,
                  seed: int = 0, batch: int = 16) -> np.ndarray:
    """Random overlapping crops, resized to P (bilinear, align_corners=False), transformed, resized
    back and feather-blended; pixels no crop touched keep the input."""
    h, w = frame_u8.shape[:2]
    x = spec.to_float(frame_u8)
    boxes = random_boxes(h, w, patch, coverage, np.random.default_rng(seed))
    crops = torch.cat([F.interpolate(x[None, :, t:t + bh, l:l + bw], size=(patch, patch), mode="bilinear",
                                     align_corners=False) for t, l, bh, bw in boxes])
    outs = spec.run_batched(model, crops, batch)
    acc, norm = torch.zeros_like(x), torch.zeros(h, w)
    for (t, l, bh, bw), out in zip(boxes, outs):
        back = F.interpolate(out[None], size=(bh, bw), mode="bilinear", align_corners=False)[0]
        weight = _ramp(bh)[:, None] * _ramp(bw)[None, :]
        acc[:, t:t + bh, l:l + bw] += back * weight
        norm[t:t + bh, l:l + bw] += weight
    y = torch.where(norm > 0, acc / norm.clamp_min(1e-12), x)
    return spec.to_u8(y)


def resized(model: PatchModel, model_patch: int, patch: int) -> PatchModel:
    """Run a model trained at `model_patch` on crops of another size (bilinear both ways)."""
    if model_patch == patch:
        return model

    def run(x: torch.Tensor) -> torch.Tensor:
        inner = F.interpolate(x, size=(model_patch, model_patch), mode="bilinear", align_corners=False)
        return F.interpolate(model(inner), size=(patch, patch), mode="bilinear", align_corners=False)

    return run


def stereo_pair(frame_u8: np.ndarray, disparity: int) -> tuple[np.ndarray, np.ndarray]:
    """A right view made from one image: shifted left by `disparity` pixels, the edge repeated."""
    right = np.concatenate([frame_u8[:, disparity:], np.repeat(frame_u8[:, -1:], disparity, axis=1)], axis=1)
    return frame_u8, right


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return np.concatenate([left, right], axis=1)
