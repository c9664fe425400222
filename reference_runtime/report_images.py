"""Pictures for the report: enlarged frames and amplified difference heatmaps, saved as PNG.

Differences are measured in 8-bit levels on the float outputs (|a − b|·127.5), not on the rounded
frames: rounding turns sub-level float noise into scattered 0/1 steps that say nothing about the model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# Dark → bright, perceptually ordered, so "more error" always reads as "more light"; hand-written
# stops (not a library colour map) keep the runtime free of plotting packages.
PALETTE_STOPS = (
    (0.00, (0, 0, 4)),
    (0.25, (66, 10, 104)),
    (0.50, (147, 38, 103)),
    (0.75, (240, 112, 30)),
    (1.00, (252, 255, 164)),
)
LEVELS_PER_UNIT = 127.5  # one unit of the [-1, 1] float range in 8-bit levels
TARGET_WIDTH = 256  # pictures are enlarged to about this width so single pixels stay visible


def palette() -> np.ndarray:
    """(256, 3) uint8 lookup table interpolated linearly between PALETTE_STOPS."""
    at = np.array([s[0] for s in PALETTE_STOPS]) * 255.0
    colours = np.array([s[1] for s in PALETTE_STOPS], dtype=np.float64)
    x = np.arange(256, dtype=np.float64)
    return np.stack([np.interp(x, at, colours[:, c]) for c in range(3)], axis=1).round().astype(np.uint8)


def difference_levels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel largest |a − b| over the channels, in 8-bit levels, for H×W×3 float frames in [-1, 1]."""
    if a.shape != b.shape:
        raise ValueError(f"cannot compare frames of shapes {a.shape} and {b.shape}")
    return np.abs(a.astype(np.float64) - b.astype(np.float64)).max(axis=2) * LEVELS_PER_UNIT


def heatmap(a: np.ndarray, b: np.ndarray, amplify: float) -> np.ndarray:
    """H×W×3 uint8 colour image of |a − b|·amplify levels, saturating at 255."""
    index = np.clip(np.rint(difference_levels(a, b) * amplify), 0, 255).astype(np.uint8)
    return palette()[index]


def scale_for(width: int, target: int = TARGET_WIDTH) -> int:
    """Integer nearest-neighbour factor that brings a frame to about `target` pixels wide."""
    return max(1, round(target / max(1, width)))


def save_png(image_u8: np.ndarray, path: Path, scale: int) -> Path:
    """Enlarge by an integer factor with nearest neighbour (pixels stay square) and write a PNG."""
    if image_u8.dtype != np.uint8 or image_u8.ndim != 3 or image_u8.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 uint8 image, got {image_u8.dtype} {image_u8.shape}")
    image = Image.fromarray(np.ascontiguousarray(image_u8), "RGB")
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    image.save(path, format="PNG")
    return path
