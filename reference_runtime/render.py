"""`python -m reference_runtime render`: a photograph or a video through a bundle's artifacts, as the
phone renders it, without torch (docs/runtime.md, "Render a photograph or a video").

Every frame goes through `api.render_frame`: spec v1's grid or spec v2's multi-scale cells, one
patch-model artifact per theme. The options are those of `ygan render` that these cover: stride,
blend, grid, salient or multiscale sampling (with its budget, threshold, hysteresis and cell sizes),
several themes (luminance bands), processing size and a video's frame rate; `ygan render
--bundle` calls `render` with its own parsed arguments. The options are checked and the input, the
bundle and its models opened before the first frame renders, so a bad request is one line and
writes nothing; outputs are written atomically.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from reference_runtime import media
from reference_runtime.api import grid_stride, open_bundle, open_model, render_frame
from reference_runtime.backends import BackendError, Runner
from reference_runtime.manifest import Bundle, ManifestError, artifact_patch
from reference_runtime.multiscale import Multiscale, settings_problem
from reference_runtime.pipeline import Workspace
from reference_runtime.theme_map import luminance_bands, salient_patches
from reference_runtime.verify import unwritable

SAMPLINGS = ("grid", "salient", "multiscale")  # ygan render's random crops (resized to P and back, bilinear) are in no spec
FORMATS = ("tflite", "onnx", "coreml")
"""Where the precision is in several formats, the first of these renders: the phone's own first."""
DEFAULT_PRECISION = "int8-full"  # the Android app's first choice


class RenderError(Exception):
    """A render request that cannot be honoured; the message says what to pass instead."""


ERRORS = (RenderError, media.MediaError, ManifestError, BackendError)
"""What `render` raises for a request that must not run: each one line, exit 2."""


@dataclass(frozen=True)
class Job:
    """The models of the chosen themes and how a frame goes through them."""

    models: list[Runner]
    themes: list[str]
    patch: int
    stride: int
    blend: str | None  # None: render_frame's default
    sampling: str
    coverage: float
    multiscale: Multiscale = Multiscale()  # spec v2's settings, used with --sampling multiscale

    def render(self, frame: np.ndarray, workspace: Workspace) -> np.ndarray:
        if self.sampling == "multiscale":
            return render_frame(frame, self.models, multiscale=self.multiscale, workspace=workspace)
        models, theme_map = self.theme_map(frame)
        blend = {} if self.blend is None else {"blend": self.blend}
        return render_frame(frame, models, stride=self.stride, theme_map=theme_map, workspace=workspace, **blend)

    def theme_map(self, frame: np.ndarray) -> tuple[list, int | np.ndarray]:
        """The models and the theme map of spec step 8: several themes split the frame by luminance
        bands; salient sampling sends the patches it leaves out through an identity, as ygan render does."""
        grid = luminance_bands(frame, self.patch, self.stride, len(self.models)) if len(self.models) > 1 else 0
        if self.sampling != "salient":
            return self.models, grid
        chosen = salient_patches(frame, self.patch, self.stride, self.coverage)
        return [*self.models, _identity], np.where(chosen, np.broadcast_to(grid, chosen.shape), len(self.models))


def _identity(x: np.ndarray) -> np.ndarray:
    return x


def check_arguments(args: argparse.Namespace) -> None:
    """Everything that needs neither the input nor the bundle: ranges, sampling, the output path."""
    problems = [
        (args.stride is not None and args.stride < 1, f"--stride {args.stride} must be at least 1"),
        (args.sampling not in SAMPLINGS, f"--sampling {args.sampling}: the runtime renders spec v1's grid, so "
                                         f"{' or '.join(SAMPLINGS)}; random crops need ygan render --checkpoint"),
        (not 0 < args.coverage <= 1, f"--coverage {args.coverage} must be in (0, 1], e.g. 0.8"),
        (args.size is not None and args.size < 1, f"--size {args.size} must be at least 1 pixel"),
        (args.fps is not None and not args.fps > 0, f"--fps {args.fps} must be positive, e.g. 30"),
        (args.threads is not None and args.threads < 1, f"--threads {args.threads}: need at least 1 runtime thread"),
    ]
    for bad, message in problems:
        if bad:
            raise RenderError(message)
    check_multiscale(args)
    check_output(args.input, args.out)


# Copied from ygan_mobile.render.command.MULTISCALE
MULTISCALE = ("budget", "threshold", "hysteresis", "largest_cell", "smallest_cell")


# Copied from ygan_mobile.render.command.multiscale_options with MultiscaleOptions->Multiscale
def multiscale_options(args: argparse.Namespace) -> Multiscale:
    """The multiscale settings given, the spec's defaults for the rest."""
    given = {k: getattr(args, k) for k in ("budget", "threshold", "hysteresis") if getattr(args, k) is not None}
    return Multiscale(**given, largest=args.largest_cell, smallest=args.smallest_cell)


# Copied from ygan_mobile.render.command.check_multiscale with MultiscaleOptions->Multiscale, YganError->RenderError
def check_multiscale(args: argparse.Namespace, patch: int | None = None) -> Multiscale:
    """Spec v2's settings (the spec's defaults without --sampling multiscale); refused in one line: its
    options without --sampling multiscale, spec v1's --stride with it, and settings spec v2 cannot run
    (the cell sizes once the patch size is known)."""
    given = [name for name in MULTISCALE if getattr(args, name) is not None]
    if args.sampling != "multiscale":
        if given:
            raise RenderError(f"--{given[0].replace('_', '-')} sets spec v2's cells: add --sampling multiscale")
        return Multiscale()
    if args.stride is not None:
        raise RenderError("--stride belongs to spec v1's grid: --sampling multiscale pastes cells of several sizes")
    o = multiscale_options(args)
    problem = settings_problem(o.threshold, o.hysteresis, o.budget, o.largest, o.smallest, patch)
    if problem:
        raise RenderError(f"--sampling multiscale: {problem}")
    return o


def check_output(source: str, out: str) -> None:
    """An output that can be written, with an image or video extension matching the input's kind."""
    problem = unwritable(Path(out))
    if problem:
        raise RenderError(f"output '{out}' {problem}: choose a writable file path with -o")
    if not (media.is_image_path(out) or media.is_video_path(out)):
        raise RenderError(f"output '{out}' has no image or video extension: use e.g. .png, .jpg or .mp4")
    if media.is_video_path(source) != media.is_video_path(out):
        raise RenderError(f"input '{source}' and output '{out}' must both be images or both videos: change the output extension")


def chosen_themes(requested: list[str] | None, bundle: Bundle) -> list[str]:
    """--theme, repeatable or comma-separated, in the order given; all of the bundle's by default."""
    themes = list(dict.fromkeys(t for item in requested or [] for t in item.split(",") if t)) or bundle.themes
    for theme in themes:
        if theme not in bundle.themes:
            raise RenderError(f"--theme {theme}: the bundle has no such theme (it has {', '.join(bundle.themes)})")
    return themes


def patch_artifact(bundle: Bundle, theme: str, precision: str, fmt: str | None) -> dict:
    """The theme's patch model at this precision (and format, when given; else the first of FORMATS)."""
    mine = [a for a in bundle.artifacts if a["role"] == "patch_model" and a["theme"] == theme]
    fitting = [a for a in mine if a["precision"] == precision and fmt in (None, a["format"])]
    if not fitting:
        have = ", ".join(sorted(f"{a['format']} {a['precision']}" for a in mine)) or "none"
        raise RenderError(f"--precision {precision}{f' --format {fmt}' if fmt else ''}: the bundle has no such patch "
                          f"model for theme '{theme}' (it has {have})")
    return min(fitting, key=lambda a: FORMATS.index(a["format"]))


def prepare(args: argparse.Namespace, height: int, width: int) -> Job:
    """The bundle opened (every sha256 checked) and the request checked against its manifest, then a
    runner per chosen theme: nothing is loaded for a request that must not run."""
    bundle = open_bundle(args.bundle)
    themes = chosen_themes(args.theme, bundle)
    artifacts = [patch_artifact(bundle, t, args.precision, args.format) for t in themes]
    patch = artifact_patch(artifacts[0])
    if args.stride is not None and args.stride > patch:
        raise RenderError(f"--stride {args.stride} is larger than the patch size {patch}: use 1 ≤ S ≤ {patch}")
    check_fits(*processing_shape(height, width, args.size), patch)
    threads = {} if args.threads is None else {"threads": args.threads}
    models = [open_model(bundle, a["id"], **threads) for a in artifacts]
    multiscale = check_multiscale(args, patch)
    return Job(models, themes, patch, grid_stride(patch, args.stride), args.blend, args.sampling, args.coverage, multiscale)


# Copied from ygan_mobile.render.command.processing_shape with ingest.resize_to->media.resize_to
def processing_shape(height: int, width: int, size: int | None) -> tuple[int, int]:
    """The frame's shape after --size (the longer side, aspect kept), as media.resize_to makes it."""
    if not size:
        return height, width
    scale = size / max(width, height)
    return max(1, round(height * scale)), max(1, round(width * scale))


def check_fits(height: int, width: int, patch: int) -> None:
    """Refuse, before any work, a frame that padded to the patch is over media's pixel limit."""
    ph, pw = max(height, patch), max(width, patch)
    if ph * pw > media.MAX_PIXELS:
        raise RenderError(f"rendering {width}×{height} at patch {patch} means a {pw}×{ph} frame, more than the "
                          f"{media.MAX_PIXELS:,}-pixel limit: use a smaller --size")


def progress(frames: Iterable[np.ndarray], total: int | None, quiet: bool) -> Iterable[np.ndarray]:
    """A bar on stderr only when it is a terminal: a redirected log gets no '\\r' frames."""
    if quiet or not sys.stderr.isatty():
        return frames
    from tqdm import tqdm

    return tqdm(frames, total=total, desc="render", unit="frame")


def render_image(args: argparse.Namespace) -> str:
    """The photograph decoded (and refused) before the bundle opens, resized only once it is known to fit."""
    frame = media.load_image(args.input)
    job = prepare(args, *frame.shape[:2])
    if args.size:
        frame = media.resize_to(frame, args.size)
    media.save_image(args.out, job.render(frame, Workspace()))
    return f"wrote {args.out} (themes: {', '.join(job.themes)}; {_artifacts(job)})"


def render_video(args: argparse.Namespace) -> str:
    """Frames decoded lazily, rendered with one workspace, encoded at the source's rate or --fps."""
    info = media.video_info(args.input)
    job = prepare(args, info.height, info.width)
    fps = args.fps or info.fps
    total = round(info.frames * fps / info.fps) if info.fps else None
    frames = progress(media.read_video_frames(args.input, fps=args.fps, size=args.size), total, args.quiet)
    count = 0

    def rendered() -> Iterator[np.ndarray]:
        nonlocal count
        workspace = Workspace()
        for frame in frames:
            yield job.render(frame, workspace)
            count += 1

    media.write_video(args.out, rendered(), fps)
    return f"wrote {args.out} ({count} frames, themes: {', '.join(job.themes)}; {_artifacts(job)})"


def _artifacts(job: Job) -> str:
    """Format and precision of the models that rendered (one for every theme), for the closing line."""
    artifact = job.models[0].artifact
    return f"{artifact['format']} {artifact['precision']}"


def render(args: argparse.Namespace) -> str:
    """Render as the arguments say; returns the line to print. Raises one of ERRORS for a request
    that must not run, before anything is written."""
    check_arguments(args)
    return render_video(args) if media.is_video_path(args.input) else render_image(args)
