"""Score a renderer: every scored photograph through every theme, the numbers of metrics.py.

A renderer is any `(frame uint8 H×W×3, theme) → frame`: the torch teacher or student through the
torch pipeline, or a shipped artifact through the reference runtime's (the orchestration layer
builds those), so one judge scores all of them on the same frames.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ygan_mobile.mosaic.heldout import HeldOut
from ygan_mobile.mosaic.judge import Judge, accuracy, train_judge
from ygan_mobile.mosaic.metrics import grid_patches, mosaic_scores

Renderer = Callable[[np.ndarray, str], np.ndarray]
MIN_JUDGE_ACCURACY = 0.9  # below this the judge's scores do not count (DESIGN §11)


def fit_judge(held: HeldOut, seed: int = 0, steps: int = 600) -> tuple[Judge, dict[str, float]]:
    """The judge and its accuracy on real patches it never learned from (per class and mean)."""
    judge = train_judge(held.judge_photo, held.judge_themes, steps=steps, seed=seed)
    test_photo = np.concatenate([grid_patches(f.pixels, held.judge_photo.shape[1]) for f in held.frames])
    return judge, accuracy(judge, test_photo, held.test_themes)


def score(render: Renderer, themes: list[str], held: HeldOut, judge: Judge, patch: int) -> dict[str, dict[str, float]]:
    """Per theme: recognisability, both baselines, structure r and variety over the scored frames."""
    inputs = [f.pixels for f in held.frames]
    out = {}
    for theme in themes:
        outputs = [render(f, theme) for f in inputs]
        out[theme] = mosaic_scores(judge, theme, inputs, outputs, patch, held.test_themes[theme])
    return out
