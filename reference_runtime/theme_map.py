"""Theme maps for `render`: which model each patch of the spec v1 grid goes through (step 8).

The rules of `ygan render`, so the runtime splits a frame as the PyTorch path does: copies of
ygan_mobile/render/theme_map.py (several themes: luminance bands) and of the patch choice in
ygan_mobile/render/salient.py (salient sampling), each labelled `# Copied from …` and kept so by
tests/test_copies.py: the runtime imports nothing of ours.
"""

from __future__ import annotations

import math

import numpy as np

from reference_runtime.pipeline import positions

# Copied from ygan_mobile.luma.BT601
BT601 = (0.299, 0.587, 0.114)  # R, G, B
# Copied from ygan_mobile.render.theme_map.LUMA
LUMA = np.array(BT601, np.float32)


# Copied from ygan_mobile.render.theme_map.luminance
def luminance(frame_u8: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of a uint8 H×W×3 frame, float32 in [0, 255]."""
    return frame_u8.astype(np.float32) @ LUMA


# Copied from ygan_mobile.render.theme_map.band
def band(mean_luma: np.ndarray | float, n_themes: int) -> np.ndarray:
    """Band index of a mean luminance in [0, 255]: n equal bands over [0, 256)."""
    return np.minimum((np.asarray(mean_luma) / 256.0 * n_themes).astype(np.int64), n_themes - 1)


# Copied from ygan_mobile.render.theme_map.padded
def padded(frame_u8: np.ndarray, patch: int) -> np.ndarray:
    """Spec step 2: edge replication at the bottom/right up to at least P on each axis."""
    h, w = frame_u8.shape[:2]
    return np.pad(frame_u8, ((0, max(0, patch - h)), (0, max(0, patch - w)), (0, 0)), mode="edge")


# Copied from ygan_mobile.render.theme_map.patch_means with torch_pipeline.positions->positions
def patch_means(values: np.ndarray, patch: int, stride: int) -> np.ndarray:
    """(rows, cols) means of a padded H×W map over the spec grid's patches."""
    rows = positions(values.shape[0], patch, stride)
    cols = positions(values.shape[1], patch, stride)
    return np.array([[values[r:r + patch, c:c + patch].mean() for c in cols] for r in rows])


# Copied from ygan_mobile.render.theme_map.luminance_bands
def luminance_bands(frame_u8: np.ndarray, patch: int, stride: int, n_themes: int) -> np.ndarray:
    """(rows, cols) theme map: each grid patch's mean luminance band."""
    return band(patch_means(luminance(padded(frame_u8, patch)), patch, stride), n_themes)


# Copied from ygan_mobile.render.salient.saliency with theme_map.luminance->luminance
def saliency(frame_u8: np.ndarray) -> np.ndarray:
    """H×W gradient magnitude of the luminance (central differences)."""
    gy, gx = np.gradient(luminance(frame_u8))
    return np.hypot(gx, gy)


# Copied from ygan_mobile.render.salient.salient_patches with theme_map.patch_means->patch_means, theme_map.padded->padded
def salient_patches(frame_u8: np.ndarray, patch: int, stride: int, fraction: float) -> np.ndarray:
    """(rows, cols) bool: the ceil(fraction·K) grid patches of highest mean saliency (ties: row-major)."""
    score = patch_means(saliency(padded(frame_u8, patch)), patch, stride)
    chosen = np.argsort(-score, axis=None, kind="stable")[:math.ceil(fraction * score.size)]
    mask = np.zeros(score.size, bool)
    mask[chosen] = True
    return mask.reshape(score.shape)
