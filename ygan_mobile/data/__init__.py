"""Training data for both domains, embedded (no download) or from the user's own folder or video.

domain_a: photographs (embedded: data.photos). domain_b: one theme (embedded: data.themes).
Both return a PatchSplit whose held-out images never contribute training patches.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ygan_mobile.data.elements import cut_into_elements
from ygan_mobile.data.patches import PatchSampler, PatchSplit, make_split, samplers, split_by_source
from ygan_mobile.data.photos import PHOTO_NAMES, NamedImage, load_photo, load_photos
from ygan_mobile.data.sources import load_source
from ygan_mobile.data.themes import THEMES, render_theme

if TYPE_CHECKING:
    from ygan_mobile.data.degrade import Degradation

__all__ = ["NamedImage", "PatchSampler", "PatchSplit", "PHOTO_NAMES", "THEMES", "domain_a", "domain_b",
           "load_photo", "load_photos", "load_source", "make_split", "photographs", "render_theme",
           "restoration_target", "split_by_source", "theme_split", "theme_tile_size"]


def theme_tile_size(patch: int) -> int:
    """A tile is one patch: each holds one whole element, placed and sized at random (data.themes)."""
    return patch


def photographs(patch: int, path: str | os.PathLike | None = None) -> list[NamedImage]:
    """Domain A's source images: the user's at `path`, else the embedded photographs."""
    return load_source(path, patch) if path else list(load_photos())


def domain_a(patch: int, seed: int, holdout: float, path: str | os.PathLike | None = None,
             degradation: "Degradation | None" = None) -> PatchSplit:
    """Photographs; with a restoration `degradation`, their degraded copies (docs/restore.md)."""
    images = photographs(patch, path)
    if degradation is not None:
        from ygan_mobile.data.restoration import degraded_split

        return degraded_split(images, patch, seed, holdout, degradation)
    return make_split(images, patch, seed, holdout)


def restoration_target(patch: int, seed: int, holdout: float, degradation: "Degradation",
                       path: str | os.PathLike | None = None) -> PatchSplit:
    """Domain B of a restoration task: the clean photographs, split and cropped like domain A, so
    the same step draws the same crops from both."""
    from ygan_mobile.data.restoration import clean_split

    images = photographs(patch, path)
    return clean_split(images, patch, seed, holdout, degradation)


def theme_split(theme: str, patch: int, seed: int, holdout: float, path: str | os.PathLike | None = None,
                count: int = 160) -> tuple[list[NamedImage], list[NamedImage]]:
    """A theme's training and held-out images: drawn tiles; or, with `path`, the user's images split by
    source and then cut into element tiles when they are sheets of elements (data.elements)."""
    if not path:
        return split_by_source(render_theme(theme, count, theme_tile_size(patch), seed), holdout, seed)
    train, held = split_by_source(load_source(path, patch), holdout, seed)
    return cut_into_elements(train, held, patch, seed)


def domain_b(theme: str, patch: int, seed: int, holdout: float, path: str | os.PathLike | None = None,
             count: int = 160) -> PatchSplit:
    """With `path` the theme is the user's images and `theme` only names it; else it is drawn."""
    return samplers(*theme_split(theme, patch, seed, holdout, path, count), patch, seed)
