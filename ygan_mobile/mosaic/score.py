"""Score a renderer: every scored photograph through every theme, the numbers of metrics.py.

A renderer is any `(frame uint8 H×W×3, theme) → frame`: the torch teacher or student through the
torch pipeline, or a shipped artifact through the reference runtime's (the orchestration layer
builds those), so the same judges score all of them on the same frames.

Why several judges: on one bundle's renders, eight judges differing only in their seed gave shares
from 36 to 78% (flowers) and 47 to 99% (galaxies), while their accuracy on real patches stayed at
94-95% (docs/lab/2026-12-04-stamp-recipe.md, "Eighth round"). A render is a handful of stamps, each near some
judge's boundary; the mean share of K judges has about 1/sqrt(K) of one judge's spread, and the
spread itself is reported beside it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ygan_mobile.mosaic.baselines import Photomosaic, stamp
from ygan_mobile.mosaic.heldout import HeldOut
from ygan_mobile.mosaic.judge import Judge, accuracy, train_judge
from ygan_mobile.mosaic.metrics import Views, grid_patches, judged_scores, unjudged_scores, views

Renderer = Callable[[np.ndarray, str], np.ndarray]
MIN_JUDGE_ACCURACY = 0.9  # below this the judge's scores do not count (DESIGN §11)


def fit_judges(held: HeldOut, seed: int = 0, steps: int = 600, count: int = 1) -> tuple[list[Judge], dict[str, float]]:
    """`count` judges (seeds seed, seed + 1, …) and their mean accuracy on real patches none learned
    from (per class and mean)."""
    judges = [train_judge(held.judge_photo, held.judge_themes, steps=steps, seed=seed + k) for k in range(count)]
    test_photo = np.concatenate([grid_patches(f.pixels, held.judge_photo.shape[1]) for f in held.frames])
    return judges, mean_accuracy([accuracy(j, test_photo, held.test_themes) for j in judges])


def mean_accuracy(each: list[dict[str, float]]) -> dict[str, float]:
    """Several judges' accuracies (judge.accuracy's, in judge order) averaged per class."""
    return {k: float(np.mean([a[k] for a in each])) for k in each[0]}


def render_all(render: Renderer, themes: list[str], held: HeldOut) -> dict[str, list[np.ndarray]]:
    """Per theme: every scored frame through `render`, in held.frames' order (no judge needed yet)."""
    return {theme: [render(f.pixels, theme) for f in held.frames] for theme in themes}


def picture_numbers(rendered: dict[str, list[np.ndarray]], held: HeldOut, patch: int,
                    seen: list[Views] | None = None) -> dict[str, dict[str, float]]:
    """Per theme of `rendered` (render_all's): the numbers no judge decides (picture, detail, colour and
    structure r, variety). seen: input_views(held, patch), computed once for every model."""
    inputs = [f.pixels for f in held.frames]
    seen = seen if seen is not None else input_views(held, patch)
    return {theme: unjudged_scores(inputs, outputs, patch, held.test_themes[theme], seen) for theme, outputs in rendered.items()}


def input_views(held: HeldOut, patch: int) -> list[Views]:
    """What the picture numbers compare of every scored photograph (metrics.views)."""
    return [views(f.pixels, patch) for f in held.frames]


def judge_numbers(rendered: dict[str, list[np.ndarray]], held: HeldOut, judges: list[Judge], patch: int,
                  input_classes: list[np.ndarray]) -> dict[str, dict[str, float]]:
    """Per theme of `rendered`: recognisability, its range over the judges and both baselines' shares.
    input_classes: input_classes(held, judges, patch), computed once for every model."""
    inputs = [f.pixels for f in held.frames]
    return {theme: judged_scores(judges, theme, inputs, outputs, patch, input_classes) for theme, outputs in rendered.items()}


def input_classes(held: HeldOut, judges: list[Judge], patch: int) -> list[np.ndarray]:
    """Each judge's class of every input patch of the scored frames."""
    cut_in = np.concatenate([grid_patches(f.pixels, patch) for f in held.frames])
    return [j.predict(cut_in) for j in judges]


def baseline_renderers(held: HeldOut) -> dict[str, Renderer]:
    """The mosaics without a network (mosaic.baselines), per theme from its own training tiles: one
    fixed stamp (the theme's first training tile) per cell, and the classical photomosaic."""
    mosaics = {t: Photomosaic(tiles) for t, tiles in held.train_themes.items()}
    return {"one stamp per cell": lambda frame, theme: stamp(frame, held.train_themes[theme][0]),
            "classical photomosaic": lambda frame, theme: mosaics[theme](frame)}
