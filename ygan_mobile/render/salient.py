"""Salient-region-only rendering: only the patches where the frame has the most structure are
transformed; the rest of the frame keeps its input pixels.

Saliency is the luminance gradient magnitude, averaged over each grid patch; the top `fraction`
of patches (those above the 1 − fraction quantile) go through their theme's model, the others
through the identity, so flat regions stay exactly as they were and feathering softens the border.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ygan_mobile.render import torch_pipeline, theme_map
from ygan_mobile.render.torch_pipeline import PatchModel


def saliency(frame_u8: np.ndarray) -> np.ndarray:
    """H×W gradient magnitude of the luminance (central differences)."""
    gy, gx = np.gradient(theme_map.luminance(frame_u8))
    return np.hypot(gx, gy)


def salient_patches(frame_u8: np.ndarray, patch: int, stride: int, fraction: float) -> np.ndarray:
    """(rows, cols) bool: the ceil(fraction·K) grid patches of highest mean saliency (ties: row-major)."""
    score = theme_map.patch_means(saliency(theme_map.padded(frame_u8, patch)), patch, stride)
    chosen = np.argsort(-score, axis=None, kind="stable")[:math.ceil(fraction * score.size)]
    mask = np.zeros(score.size, bool)
    mask[chosen] = True
    return mask.reshape(score.shape)


def render_salient(frame_u8: np.ndarray, models: Sequence[PatchModel], *, patch: int, stride: int,
                   fraction: float = 0.5, blend: str = torch_pipeline.DEFAULT_BLEND, batch: int = torch_pipeline.DEFAULT_BATCH,
                   theme_map: int | np.ndarray = 0) -> np.ndarray:
    """Spec v1 with every non-salient patch mapped to an extra identity 'theme'."""
    mask = salient_patches(frame_u8, patch, stride, fraction)
    theme_grid = np.where(mask, np.broadcast_to(np.asarray(theme_map), mask.shape), len(models))
    return torch_pipeline.render_frame(frame_u8, [*models, lambda x: x], patch=patch, stride=stride, blend=blend,
                             batch=batch, theme_map=theme_grid)
