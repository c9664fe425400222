"""Theme-map rules: which theme's generator each patch goes through when a frame mixes themes.

The parity core (torch_pipeline.py, step 8) takes any per-patch index grid; this is the rule `ygan render`
uses with several themes: a patch's mean input luminance picks one of n equal bands, darkest first.
"""

from __future__ import annotations

import numpy as np

from ygan_mobile.luma import BT601
from ygan_mobile.render import torch_pipeline

LUMA = np.array(BT601, np.float32)


def luminance(frame_u8: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of a uint8 H×W×3 frame, float32 in [0, 255]."""
    return frame_u8.astype(np.float32) @ LUMA


def band(mean_luma: np.ndarray | float, n_themes: int) -> np.ndarray:
    """Band index of a mean luminance in [0, 255]: n equal bands over [0, 256)."""
    return np.minimum((np.asarray(mean_luma) / 256.0 * n_themes).astype(np.int64), n_themes - 1)


def padded(frame_u8: np.ndarray, patch: int) -> np.ndarray:
    """Spec step 2: edge replication at the bottom/right up to at least P on each axis."""
    h, w = frame_u8.shape[:2]
    return np.pad(frame_u8, ((0, max(0, patch - h)), (0, max(0, patch - w)), (0, 0)), mode="edge")


def patch_means(values: np.ndarray, patch: int, stride: int) -> np.ndarray:
    """(rows, cols) means of a padded H×W map over the spec grid's patches."""
    rows = torch_pipeline.positions(values.shape[0], patch, stride)
    cols = torch_pipeline.positions(values.shape[1], patch, stride)
    return np.array([[values[r:r + patch, c:c + patch].mean() for c in cols] for r in rows])


def luminance_bands(frame_u8: np.ndarray, patch: int, stride: int, n_themes: int) -> np.ndarray:
    """(rows, cols) theme map: each grid patch's mean luminance band."""
    return band(patch_means(luminance(padded(frame_u8, patch)), patch, stride), n_themes)
