"""Theme tiles matched to photograph patches by their coarse light, the targets of the theme-match
term ‖G(E(x)) − y*(x)‖² (docs/training.md).

y*(x) is the training tile of the theme whose luminance, averaged over a cells × cells grid, is
nearest to x's: a real element, lit like the patch it replaces. The nearest tile is a pure function
of x, so the generator can learn the mapping (a random pick among near tiles would average into a
blur); different patches find different tiles, which keeps the elements varied.

With `relight`, the tile's luminance is shifted to x's mean, so the photograph's light comes through
as a continuous function of x and the pool only has to supply shapes: a small pool (32 tiles) then
gives sharper elements without giving up the structure (docs/training.md, probes P0–P7). Shifted
far, a tile clips: harmless for a dark glyph on a light ground (the ground goes white), fatal for a
bright galaxy on a night sky lifted to a white wall (the galaxy goes white). With `fit` the tile's
contrast is scaled down instead, just enough to stay in range (docs/training.md, fifth round).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from ygan_mobile.data.patches import PatchSplit, to_tensor

USER_CROPS = 2000
LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


def coarse_light(x: torch.Tensor, cells: int) -> torch.Tensor:
    """(N,3,P,P) in [-1,1] → (N, cells²): the luminance averaged over a cells × cells grid."""
    return F.adaptive_avg_pool2d((x * LUMA).sum(1, keepdim=True), cells).flatten(1)


@dataclass(frozen=True)
class ThemePool:
    tiles: torch.Tensor  # (N,3,P,P) float32 in [-1,1]: the theme's training tiles and their mirror images
    keys: torch.Tensor  # (N, cells²)
    cells: int
    relight: bool = False  # shift each matched tile's luminance to the patch's mean
    fit: bool = False  # re-light by scaling the tile's contrast into [-1, 1] around the patch's mean, not clipping

    @classmethod
    def of(cls, split: PatchSplit, cells: int, size: int = 0, relight: bool = False, fit: bool = False) -> "ThemePool":
        """The first `size` (0: all) whole training tiles and their mirror images when they are one
        patch each (the drawn themes); for a user's --data-b images, `size` (0: USER_CROPS) fixed
        random crops of them.

        A mirror image's key is its tile's key grid mirrored, not recomputed: recomputed, the 1×1 keys
        of a tile and its mirror differed in the last bit (the sum's order), so the nearest of the two
        flipped at the tile's own key, in the middle of the brightness interval it serves, and the
        generator learned the average of an element and its mirror image there — two overlaid eyes
        (docs/training.md, fifth round). A mirror whose key equals its tile's (every mirror of a 1×1
        key, a symmetric tile's of any key) can never be the nearest, so it is not kept: the
        candidates of `match(x, choices)` are then different lights, not a tile and its mirror."""
        p = split.train.patch
        tiles = [i.pixels for i in split.train.images if i.pixels.shape[:2] == (p, p)]
        if len(tiles) < len(split.train.images):
            x = split.train.batch(0, size or USER_CROPS)  # a pure function of the seed, flips included
            return cls(x, coarse_light(x, cells), cells, relight, fit)
        first = to_tensor(np.stack(tiles[:size or None]))
        keys = coarse_light(first, cells)
        mirrored = keys.view(-1, cells, cells).flip(-1).flatten(1)
        new = (mirrored != keys).any(1)
        return cls(torch.cat([first, first.flip(-1)[new]]), torch.cat([keys, mirrored[new]]), cells, relight, fit)

    def spaced(self, gap: float) -> "ThemePool":
        """The tiles whose keys lie at least `gap` from the key of every tile kept before them, in
        pool order. Where keys crowd, neighbouring tiles serve brightness intervals a few grey
        levels wide; the generator cannot resolve z that finely and draws their average. Spaced,
        each kept tile serves an interval at least `gap` wide (docs/training.md, seventh round)."""
        kept = [0]
        for i in range(1, len(self.keys)):
            if torch.cdist(self.keys[i:i + 1], self.keys[kept]).min() >= gap:
                kept.append(i)
        return replace(self, tiles=self.tiles[kept], keys=self.keys[kept])

    def match(self, x: torch.Tensor, choices: int = 1) -> torch.Tensor:
        """The nearest tile to each patch of x by coarse light, (N,3,P,P), re-lit if asked; with
        `choices` > 1 that many nearest tiles, nearest first, (N,choices,3,P,P)."""
        with torch.no_grad():
            distance = torch.cdist(coarse_light(x, self.cells), self.keys)
            mean_x = coarse_light(x, 1).view(-1, 1, 1, 1)
            if choices == 1:
                return self._relit(self.tiles[distance.argmin(1)], mean_x)
            nearest = distance.topk(min(choices, len(self.tiles)), largest=False).indices  # (N, k), sorted
            k = nearest.shape[1]
            tiles = self._relit(self.tiles[nearest.flatten()], mean_x.repeat_interleave(k, 0))
            return tiles.view(len(x), k, *tiles.shape[1:])

    def _relit(self, tiles: torch.Tensor, mean_x: torch.Tensor) -> torch.Tensor:
        """Each tile re-lit to its patch's mean light `mean_x` (M,1,1,1), as `relight` and `fit` ask."""
        if not self.relight:
            return tiles
        mean_t = coarse_light(tiles, 1).view(-1, 1, 1, 1)
        if not self.fit:
            return (tiles + (mean_x - mean_t)).clamp(-1, 1)  # equal in R, G and B: a pure luminance shift
        above = (tiles.amax((1, 2, 3), keepdim=True) - mean_t).clamp_min(1e-3)
        below = (mean_t - tiles.amin((1, 2, 3), keepdim=True)).clamp_min(1e-3)
        gain = torch.minimum((1 - mean_x) / above, (mean_x + 1) / below).clamp(0, 1)
        return (mean_x + (tiles - mean_t) * gain).clamp(-1, 1)
