"""The runtime's Python API: open a bundle, run its models, render frames, verify parity.

What an app developer or a CI script calls instead of the command line (docs/runtime.md, "Python
API"). Everything goes through the manifest, as the apps do: `open_bundle` refuses a bundle whose
files do not match it, and a model opened from it knows its own patch size, fixed batch, layout and
quantisation, so `render_frame` needs nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from reference_runtime import fast_paths, multiscale as spec_v2, pipeline
from reference_runtime.backends import Runner, open_artifact
from reference_runtime.defaults import DEFAULT_THREADS
from reference_runtime.manifest import Bundle, artifact_patch, read_manifest


def open_bundle(path: str | Path) -> Bundle:
    """The bundle at `path`, its manifest validated and every file's sha256 checked.

    Raises `ManifestError` (one line naming the file) for a bundle that must not be run. The result
    has `.artifacts` (the manifest's entries), `.pipeline` (patch, stride, blend, …) and `.themes`."""
    return read_manifest(path)


def open_model(bundle: Bundle | str | Path, artifact_id: str, *, threads: int = DEFAULT_THREADS) -> Runner:
    """A runner for one artifact of the bundle, e.g. `"tflite/patch_model.flowers.int8-full"`.

    The runner is callable: `runner(x)` takes and returns float32 NCHW batches of the artifact's
    fixed batch, quantising and transposing as the manifest says, so it can be passed wherever a
    model callable is expected. Raises KeyError for an id the manifest lacks, `BackendError` when
    this machine cannot run the artifact (`BackendUnavailable` when its runtime is not installed)."""
    if not isinstance(bundle, Bundle):
        bundle = open_bundle(bundle)
    return open_artifact(bundle.root, bundle.artifact(artifact_id), threads=threads)


@dataclass(frozen=True)
class _Drive:
    """How the pipeline runs a frame's models: what it calls, in which layout, at which patch size and batch."""

    models: list
    layout: str
    patch: int
    batch: int


def _drive(model: Runner | Sequence[Runner] | Callable[[np.ndarray], np.ndarray], patch: int | None = None,
           batch: int | None = None) -> _Drive:
    """Full-integer runners are fed bytes through their tables (NHWC) when every model of the frame
    is one, as the apps feed them; runners that share a layout are called in it (`run_native`: no
    transposes around each call, the same values); anything else on float32 NCHW. A runner's patch
    size and batch come from its manifest entry; a plain callable needs `patch` and `batch`."""
    models = list(model) if isinstance(model, Sequence) else [model]
    if not models:
        raise ValueError("render_frame needs at least one model")
    specs = {(artifact_patch(m.artifact), m.artifact["batch"]) for m in models if hasattr(m, "artifact")}
    if len(specs) > 1:
        raise ValueError(f"the models disagree on patch size and batch {sorted(specs)}: pass artifacts of one build")
    known_patch, known_batch = specs.pop() if specs else (None, None)
    patch, batch = patch or known_patch, batch or known_batch
    if patch is None or batch is None:
        raise ValueError("a plain callable model needs patch= and batch= (a runner from open_model knows both)")
    integers = [m.integer_model() if hasattr(m, "integer_model") else None for m in models]
    if all(i is not None for i in integers):
        return _Drive(integers, "NHWC", patch, batch)
    layouts = {m.artifact["layout"] if hasattr(m, "run_native") else None for m in models}
    if len(layouts) == 1 and None not in layouts:
        return _Drive([m.run_native for m in models], layouts.pop(), patch, batch)
    return _Drive(models, "NCHW", patch, batch)


def grid_stride(patch: int, stride: int | None = None) -> int:
    """The stride `render_frame` uses: the one given, else the patch size (patches abut: the
    real-time setting the apps use)."""
    return stride or patch


def render_frame(frame_u8: np.ndarray, model: Runner | Sequence[Runner] | Callable[[np.ndarray], np.ndarray], *,
                 stride: int | None = None, blend: str = pipeline.DEFAULT_BLEND, theme_map: int | np.ndarray = 0,
                 patch: int | None = None, batch: int | None = None,
                 workspace: pipeline.Workspace | None = None, multiscale: spec_v2.Multiscale | None = None) -> np.ndarray:
    """A uint8 H×W×3 RGB frame through the patch-render pipeline (spec v1), a new uint8 frame out.

    `model` is a runner from `open_model`, a list of them (one per theme, chosen per patch by
    `theme_map`: an index, or a rows×cols grid of indices), or any callable on float32 NCHW batches —
    then `patch` and `batch` must be given. A runner's patch size and batch come from its manifest
    entry. `stride` defaults to the patch size (patches abut: the real-time setting the apps use);
    the bundle's golden frames use `bundle.pipeline["stride"]`. Rendering a video, pass one
    `pipeline.Workspace()` as `workspace` for every frame.

    `multiscale` (a `multiscale.Multiscale`) renders spec v2's cells instead of the grid: `stride`,
    `blend` and `theme_map` do not apply (several models split the cells by luminance bands), and the
    workspace carries the layout from one frame of a video to the next."""
    d = _drive(model, patch, batch)
    if multiscale is not None:
        if stride is not None or np.ndim(theme_map) != 0 or theme_map != 0:
            raise ValueError("multiscale renders spec v2's cells: stride and theme_map belong to spec v1's grid")
        return spec_v2.render(frame_u8, d.models, patch=d.patch, settings=multiscale, batch=d.batch, layout=d.layout,
                              workspace=workspace).frame
    return fast_paths.render_frame(frame_u8, d.models, patch=d.patch, stride=grid_stride(d.patch, stride), blend=blend,
                                   batch=d.batch, theme_map=theme_map, layout=d.layout, workspace=workspace)


def render_float(frame_u8: np.ndarray, model: Runner | Sequence[Runner] | Callable[[np.ndarray], np.ndarray], *,
                 stride: int | None = None, blend: str = pipeline.DEFAULT_BLEND, theme_map: int | np.ndarray = 0,
                 patch: int | None = None, batch: int | None = None,
                 workspace: pipeline.Workspace | None = None) -> np.ndarray:
    """`render_frame` before its rounding: the blended float32 H×W×3 in [-1, 1] that parity is
    measured on (verify), by the general path, the models driven as `render_frame` drives them."""
    d = _drive(model, patch, batch)
    return pipeline.render_float(frame_u8, d.models, patch=d.patch, stride=grid_stride(d.patch, stride), blend=blend,
                                 batch=d.batch, theme_map=theme_map, layout=d.layout, workspace=workspace)


def render_multiscale(frame_u8: np.ndarray, model: Runner | Sequence[Runner] | Callable[[np.ndarray], np.ndarray], *,
                      multiscale: spec_v2.Multiscale, patch: int | None = None, batch: int | None = None,
                      workspace: pipeline.Workspace | None = None, keep_float: bool = False) -> spec_v2.Rendered:
    """Spec v2 with everything it computed: the frame, its layout, each cell's theme and, with
    `keep_float`, the models' float outputs on each cell's patch (what parity is measured on)."""
    d = _drive(model, patch, batch)
    return spec_v2.render(frame_u8, d.models, patch=d.patch, settings=multiscale, batch=d.batch, layout=d.layout,
                          workspace=workspace, keep_float=keep_float)
