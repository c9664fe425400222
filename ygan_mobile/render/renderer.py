"""One frame → one rendered frame with every `ygan render` option applied: sampling (grid, random,
salient, multiscale), themes, crop size, feedback iterations and stereo pairs, composed around
torch_pipeline.py (spec v1's grid) and multiscale.py (spec v2's cells)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch.nn.functional as F

from ygan_mobile.render import multiscale, random_crops, salient, torch_pipeline, stereo, theme_map
from ygan_mobile.render.torch_pipeline import PatchModel

SAMPLINGS = ("grid", "random", "salient", "multiscale")
Renderer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class RenderOptions:
    patch: int
    stride: int
    blend: str = torch_pipeline.DEFAULT_BLEND
    sampling: str = "grid"
    coverage: float = 0.8   # random: covered fraction of the frame; salient: transformed fraction of patches
    feedback: int = 0       # extra passes of the output through the pipeline
    stereo: bool = False
    disparity: int = 8
    batch: int = torch_pipeline.DEFAULT_BATCH
    seed: int = 0
    multiscale: multiscale.MultiscaleOptions = field(default_factory=multiscale.MultiscaleOptions)


def resized(model: PatchModel, model_patch: int, patch: int) -> PatchModel:
    """Run a model made for model_patch×model_patch on crops of another size (bilinear both ways)."""
    if model_patch == patch:
        return model

    def run(x):
        inner = F.interpolate(x, size=(model_patch, model_patch), mode="bilinear", align_corners=False)
        return F.interpolate(model(inner), size=(patch, patch), mode="bilinear", align_corners=False)

    return run


def one_pass(models: Sequence[PatchModel], o: RenderOptions) -> Renderer:
    """A single pass of the chosen sampling; several models split the frame by luminance bands."""
    def grid_themes(frame: np.ndarray) -> np.ndarray | int:
        return theme_map.luminance_bands(frame, o.patch, o.stride, len(models)) if len(models) > 1 else 0

    if o.sampling == "random":
        return lambda f: random_crops.render_random(f, models, patch=o.patch, coverage=o.coverage, seed=o.seed,
                                                    batch=o.batch)
    if o.sampling == "salient":
        return lambda f: salient.render_salient(f, models, patch=o.patch, stride=o.stride, fraction=o.coverage,
                                                blend=o.blend, batch=o.batch, theme_map=grid_themes(f))
    if o.sampling == "multiscale":
        state = multiscale.LayoutState()  # a video's layout carries over: one state per pass of one view
        return lambda f: multiscale.render(f, models, patch=o.patch, options=o.multiscale, batch=o.batch, state=state).frame
    if o.sampling == "grid":
        return lambda f: torch_pipeline.render_frame(f, models, patch=o.patch, stride=o.stride, blend=o.blend, batch=o.batch,
                                           theme_map=grid_themes(f))
    raise ValueError(f"sampling '{o.sampling}' is not one of {SAMPLINGS}")


def make_renderer(models: Sequence[PatchModel], model_patch: int, o: RenderOptions) -> Renderer:
    """Feedback: the output is fed back `o.feedback` more times. Stereo: both views, side by side.
    Each pass of each view is its own renderer, so multiscale's layout state follows one stream of frames."""
    sized = [resized(m, model_patch, o.patch) for m in models]

    def with_feedback() -> Renderer:
        passes = [one_pass(sized, o) for _ in range(1 + o.feedback)]

        def run(frame: np.ndarray) -> np.ndarray:
            for single in passes:
                frame = single(frame)
            return frame

        return run

    left = with_feedback()
    if not o.stereo:
        return left
    right = with_feedback()
    return lambda f: stereo.side_by_side(left(f), right(stereo.right_view(f, o.disparity)))
