"""Stereoscopic pairs from one frame: the right view is the left one shifted by a horizontal
disparity; both views go through the same renderer and are written side by side (left | right)."""

from __future__ import annotations

import numpy as np


def right_view(frame_u8: np.ndarray, disparity: int) -> np.ndarray:
    """Content moved left by `disparity` pixels (at most W − 1), the right edge column repeated."""
    d = min(disparity, frame_u8.shape[1] - 1)
    return np.concatenate([frame_u8[:, d:], np.repeat(frame_u8[:, -1:], d, axis=1)], axis=1)


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return np.concatenate([left, right], axis=1)
