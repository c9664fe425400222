"""Theme tiles matched to photograph patches by their coarse light, the targets of the theme-match
term ‖G(E(x)) − y*(x)‖² (docs/training.md).

y*(x) is the training tile of the theme whose luminance, averaged over a cells × cells grid, is
nearest to x's: a real element, lit like the patch it replaces. The nearest tile is a pure function
of x, so the generator can learn the mapping (a random pick among near tiles would average into a
blur); different patches find different tiles, which keeps the elements varied.

With `relight`, the tile's luminance is shifted to x's mean, so the photograph's light comes through
as a continuous function of x and the pool only has to supply shapes: a small pool (32 tiles) then
gives sharper elements without giving up the structure (docs/lab/2026-12-04-stamp-recipe.md, probes P0–P7). Shifted
far, a tile clips: harmless for a dark glyph on a light ground (the ground goes white), fatal for a
bright galaxy on a night sky lifted to a white wall (the galaxy goes white). With `fit` the tile's
contrast is scaled down instead, just enough to stay in range (docs/lab/2026-12-04-stamp-recipe.md, fifth round).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from ygan_mobile.data.patches import PatchSplit, to_tensor
from ygan_mobile.luma import BT601

USER_CROPS = 2000
SPREAD_PATCHES = 4000  # the photographs' training patches whose mean light a narrow pool's keys are spread over
LUMA = torch.tensor(BT601).view(1, 3, 1, 1)


def luma(x: torch.Tensor) -> torch.Tensor:
    """(N,3,P,P) → (N,1,P,P): BT.601 luminance."""
    return (x * LUMA).sum(1, keepdim=True)


def coarse_light(x: torch.Tensor, cells: int, centred: bool = False) -> torch.Tensor:
    """(N,3,P,P) in [-1,1] → (N, cells²): the luminance averaged over a cells × cells grid; `centred`
    takes the grid's own mean away, so the key is the light's layout, not its level."""
    key = F.adaptive_avg_pool2d(luma(x), cells).flatten(1)
    return key - key.mean(1, keepdim=True) if centred else key


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of each channel, edges replicated (what lies beyond the patch is unknown)."""
    radius = max(1, int(3 * sigma))
    k = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=x.dtype) / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    x = F.pad(x, (radius,) * 4, mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


@dataclass(frozen=True)
class Lighting:
    """How a matched tile takes on its patch's light and colour inside the cell (docs/training.md,
    "The art recipe"), after the tile was moved to the patch's mean light.

    light: x's light layout (its luminance low-passed with σ = light_sigma px, minus its mean) is added
    to the tile with this weight, so the photograph's edges inside the cell show through the element;
    flatten: the share of the tile's own low-passed layout taken away first (1 would replace the
    tile's light below σ entirely, which erases an element that is itself a blob of light, a star);
    flatten_dark: below this mean light (0 black, 1 white) a tile takes away proportionally less of its
    layout, none at black: a dark cell has no room under the tile's light for the element's own
    contrast, and a flattened skull left only its outline there (0: the same share in every cell);
    chroma: the share of x's colour (its chroma, low-passed with σ = chroma_sigma) replacing the
    tile's (0: the theme's own colours; 1: the photograph's);
    contrast: last, the element's light contrast (its luminance about its mean) is scaled down to at
    most this many times x's own (the RMS of x's light layout), never below contrast_floor of what it
    was: where the photograph is flat (a night sky, a wall) the element is drawn fainter, where it has
    detail at full strength, so a flat photograph stays flat enough to be seen (0: every element at
    full strength)."""
    light: float = 0.0
    light_sigma: float = 4.0
    flatten: float = 0.0
    flatten_dark: float = 0.0
    chroma: float = 0.0
    chroma_sigma: float = 2.0
    contrast: float = 0.0
    contrast_floor: float = 0.0

    def patch_terms(self, x: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """What the patches x (N,3,P,P) give every tile matched to them: their light layout (N,1,P,P) and
        their chroma (N,3,P,P), each None when unused — computed once per batch, shared by every theme."""
        lx = luma(x)
        layout = gaussian_blur(lx, self.light_sigma) - lx.mean((2, 3), keepdim=True) if self.light or self.contrast else None
        chroma = gaussian_blur(x - lx, self.chroma_sigma) if self.chroma else None
        return layout, chroma

    def apply(self, tiles: torch.Tensor, terms: tuple[torch.Tensor | None, torch.Tensor | None]) -> torch.Tensor:
        """tiles (already at their patches' mean light, (M,3,P,P)) and their patches' `patch_terms`."""
        layout_x, chroma_x = terms
        if self.light or self.flatten:
            lt = luma(tiles)
            mean = lt.mean((2, 3), keepdim=True)
            layout_t = gaussian_blur(lt, self.light_sigma) - mean
            added = self.light * layout_x if self.light else 0.0
            flatten = self.flatten
            if self.flatten_dark:
                flatten = flatten * ((mean + 1) / (2 * self.flatten_dark)).clamp(0, 1)
            tiles = (tiles + added - flatten * layout_t).clamp(-1, 1)
        if self.chroma:
            lt = luma(tiles)
            tiles = (lt + self.chroma * chroma_x + (1 - self.chroma) * (tiles - lt)).clamp(-1, 1)
        if self.contrast:
            lt = luma(tiles)
            about = lt - lt.mean((2, 3), keepdim=True)
            own = about.pow(2).mean((2, 3), keepdim=True).sqrt().clamp_min(1e-3)
            wanted = self.contrast * layout_x.pow(2).mean((2, 3), keepdim=True).sqrt()
            gain = (wanted / own).clamp(self.contrast_floor, 1)
            tiles = (tiles + (gain - 1) * about).clamp(-1, 1)  # equal in R, G and B: the colour stays
        return tiles


@dataclass(frozen=True)
class ThemePool:
    tiles: torch.Tensor  # (N,3,P,P) float32 in [-1,1]: the theme's training tiles and their mirror images
    keys: torch.Tensor  # (N, cells²)
    cells: int
    relight: bool = False  # shift each matched tile's luminance to the patch's mean
    fit: bool = False  # re-light by scaling the tile's contrast into [-1, 1] around the patch's mean, not clipping
    centred: bool = False  # keys are the light's layout (the grid minus its mean), not its level
    lighting: Lighting = Lighting()  # the patch's own light and colour inside the cell, after the mean

    @classmethod
    def of(cls, split: PatchSplit, cells: int, size: int = 0, relight: bool = False, fit: bool = False,
           centred: bool = False, lighting: Lighting = Lighting()) -> "ThemePool":
        """The first `size` (0: all) whole training tiles and their mirror images when they are one
        patch each (the drawn themes, and a user's --data-b sheets cut into element tiles by
        data.elements); for user images used whole (photographs, textures), `size` (0: USER_CROPS)
        fixed random crops of them.

        A mirror image's key is its tile's key grid mirrored, not recomputed: recomputed, the 1×1 keys
        of a tile and its mirror differed in the last bit (the sum's order), so the nearest of the two
        flipped at the tile's own key, in the middle of the brightness interval it serves, and the
        generator learned the average of an element and its mirror image there — two overlaid eyes
        (docs/lab/2026-12-04-stamp-recipe.md, fifth round). A mirror whose key equals its tile's
        (every mirror of a 1×1 key, a symmetric tile's of any key) can never be the nearest, so it is
        not kept: the candidates of `match(x, choices)` are then different lights, not a tile and its mirror."""
        p = split.train.patch
        tiles = [i.pixels for i in split.train.images if i.pixels.shape[:2] == (p, p)]
        if len(tiles) < len(split.train.images):
            x = split.train.batch(0, size or USER_CROPS)  # a pure function of the seed, flips included
            return cls(x, coarse_light(x, cells, centred), cells, relight, fit, centred, lighting)
        first = to_tensor(np.stack(tiles[:size or None]))
        keys = coarse_light(first, cells, centred)
        mirrored = keys.view(-1, cells, cells).flip(-1).flatten(1)
        new = (mirrored != keys).any(1)
        return cls(torch.cat([first, first.flip(-1)[new]]), torch.cat([keys, mirrored[new]]), cells, relight, fit,
                   centred, lighting)

    def coverage(self, light: torch.Tensor) -> float:
        """The share of the photographs' patches whose mean light `light` (M,) lies between the pool's
        lowest and highest 1×1 key: the part of the photographs' light the tiles' own keys serve."""
        keys = self.keys.flatten()
        return ((light >= keys.min()) & (light <= keys.max())).float().mean().item()

    def spread(self, light: torch.Tensor) -> "ThemePool":
        """The tiles keep their order by key, but tile i of N takes as its key the (i + ½)/N quantile of
        the photographs' patches' mean light `light` (M,), so each tile serves an equal share of them.
        A pool whose elements are all alike in light (ink on paper: every tile paper-bright) otherwise
        gives every patch darker than the paper the same tile; re-lit, a tile still takes its patch's
        light, so only who serves whom changes (docs/training.md, "Narrow pools"). 1×1 keys only."""
        if self.cells != 1 or self.centred:
            raise ValueError("spread keys are one mean light per tile: match_cells = 1, match_centred = false")
        order = self.keys.flatten().argsort(stable=True)
        light = light.flatten().sort().values
        n = len(order)
        keys = torch.empty_like(self.keys)
        keys[order, 0] = light[((torch.arange(n) + 0.5) / n * len(light)).long()]
        return replace(self, keys=keys)

    def spaced(self, gap: float) -> "ThemePool":
        """The tiles whose keys lie at least `gap` from the key of every tile kept before them, in
        pool order. Where keys crowd, neighbouring tiles serve brightness intervals a few grey
        levels wide; the generator cannot resolve z that finely and draws their average. Spaced,
        each kept tile serves an interval at least `gap` wide (docs/lab/2026-12-04-stamp-recipe.md, seventh round)."""
        kept = [0]
        for i in range(1, len(self.keys)):
            if torch.cdist(self.keys[i:i + 1], self.keys[kept]).min() >= gap:
                kept.append(i)
        return replace(self, tiles=self.tiles[kept], keys=self.keys[kept])

    def match(self, x: torch.Tensor, choices: int = 1, terms: tuple | None = None) -> torch.Tensor:
        """The nearest tile to each patch of x by coarse light, (N,3,P,P), re-lit if asked; with
        `choices` > 1 that many nearest tiles, nearest first, (N,choices,3,P,P). `terms`: the
        lighting's patch_terms(x), when the caller has them already (one batch, several themes)."""
        with torch.no_grad():
            terms = self.lighting.patch_terms(x) if terms is None else terms
            distance = torch.cdist(coarse_light(x, self.cells, self.centred), self.keys)
            if choices == 1:
                return self._relit(self.tiles[distance.argmin(1)], x, terms)
            nearest = distance.topk(min(choices, len(self.tiles)), largest=False).indices  # (N, k), sorted
            k = nearest.shape[1]
            each = tuple(None if t is None else t.repeat_interleave(k, 0) for t in terms)
            tiles = self._relit(self.tiles[nearest.flatten()], x.repeat_interleave(k, 0), each)
            return tiles.view(len(x), k, *tiles.shape[1:])

    def _relit(self, tiles: torch.Tensor, x: torch.Tensor, terms: tuple) -> torch.Tensor:
        """Each tile re-lit to its patch x's mean light, as `relight` and `fit` ask, then given x's own
        light and colour inside the cell as `lighting` asks."""
        if self.relight:
            tiles = self._moved(tiles, coarse_light(x, 1).view(-1, 1, 1, 1))
        return self.lighting.apply(tiles, terms)

    def _moved(self, tiles: torch.Tensor, mean_x: torch.Tensor) -> torch.Tensor:
        """Each tile moved to its patch's mean light `mean_x` (M,1,1,1): shifted and clipped, or with
        `fit` its contrast scaled into range."""
        mean_t = coarse_light(tiles, 1).view(-1, 1, 1, 1)
        if not self.fit:
            return (tiles + (mean_x - mean_t)).clamp(-1, 1)  # equal in R, G and B: a pure luminance shift
        above = (tiles.amax((1, 2, 3), keepdim=True) - mean_t).clamp_min(1e-3)
        below = (mean_t - tiles.amin((1, 2, 3), keepdim=True)).clamp_min(1e-3)
        gain = torch.minimum((1 - mean_x) / above, (mean_x + 1) / below).clamp(0, 1)
        return (mean_x + (tiles - mean_t) * gain).clamp(-1, 1)
