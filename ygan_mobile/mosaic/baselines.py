"""The two mosaics without a network that every build scores beside its models (DESIGN §11).

- one stamp per cell: a fixed element of the theme shifted to each cell's mean light. It shows the
  theme and keeps the coarse light, nothing inside a cell (detail r ≈ 0): what a learned lookup
  table of a few stamps amounts to.
- classical photomosaic (Metapixel-style): for each cell, the theme's own training tile whose 8×8
  luminance layout (minus its mean) is nearest to the cell's, shifted to the cell's mean colour. A
  learned mosaic that does not beat it on the picture numbers at equal recognisability has learned a
  lookup table, not a generator.

Both are renderers like the models' — `(frame, theme) → frame` on the stride-P grid — so the same
code scores them.
"""

from __future__ import annotations

import numpy as np

from ygan_mobile.mosaic.judge import luminance
from ygan_mobile.mosaic.metrics import grid_patches, layout

CHUNK = 1024  # cells per distance matrix, so a large frame does not hold cells × tiles floats at once


def _cells_back(cells: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(N,P,P,3) cells in row-major order → the H×W×3 frame they tile."""
    h, w = shape[:2]
    p = cells.shape[1]
    return cells.reshape(h // p, w // p, p, p, 3).swapaxes(1, 2).reshape(h, w, 3)


def _u8(x: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(x, 0, 255) + 0.5).astype(np.uint8)


def stamp(frame: np.ndarray, tile: np.ndarray) -> np.ndarray:
    """Every P×P cell of `frame` replaced by `tile`, its luminance shifted (equally in R, G and B) to the cell's mean."""
    cells = luminance(grid_patches(frame, tile.shape[0])).mean(axis=(1, 2), dtype=np.float64)
    shift = 255.0 * (cells - luminance(tile[None]).mean(dtype=np.float64))  # luminance is in [0, 1]
    return _cells_back(_u8(tile.astype(np.float64)[None] + shift[:, None, None, None]), frame.shape)


class Photomosaic:
    """The classical photomosaic of one theme's training tiles (uint8 (N,P,P,3))."""

    def __init__(self, tiles: np.ndarray):
        self.tiles = tiles.astype(np.float64)
        self.keys = layout(tiles)
        self.key_norms = (self.keys ** 2).sum(axis=1)
        self.means = self.tiles.mean(axis=(1, 2))  # (N, 3)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        p = self.tiles.shape[1]
        cells = grid_patches(frame, p)
        keys = layout(cells)
        nearest = np.concatenate([
            (self.key_norms[None] - 2 * keys[i:i + CHUNK] @ self.keys.T).argmin(axis=1)  # ‖k‖² is the same for every tile
            for i in range(0, len(keys), CHUNK)])
        shift = cells.astype(np.float64).mean(axis=(1, 2)) - self.means[nearest]
        return _cells_back(_u8(self.tiles[nearest] + shift[:, None, None, :]), frame.shape)
