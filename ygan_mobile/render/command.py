"""`ygan render`: an image or a video through a trained checkpoint's patch pipeline.

Options are checked and the input is opened before the models load, so bad input fails fast with
one YganError line; outputs are written atomically by ingest, so a failure leaves no file behind.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ygan_mobile import ingest
from ygan_mobile.atomic import unwritable
from ygan_mobile.errors import YganError
from ygan_mobile.render.multiscale import MultiscaleOptions, settings_problem
from ygan_mobile.render.renderer import SAMPLINGS, RenderOptions, make_renderer
from ygan_mobile.render.torch_pipeline import BLENDS, DEFAULT_BATCH, DEFAULT_BLEND, default_stride


def add_render_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="an image or a video file")
    p.add_argument("-o", "--out", "--output", required=True,
                   help="output image or video (format from the extension); --output is the old spelling")
    p.add_argument("--checkpoint", help="a run directory or checkpoint written by 'ygan train' (or --bundle)")
    p.add_argument("--theme", action="append",
                   help="theme(s) to use, repeatable or comma-separated (default: all in the checkpoint); "
                        "several themes split the frame by luminance bands, darkest → first")
    p.add_argument("--patch", type=int, help="crop size on the frame (default: the model's patch size)")
    p.add_argument("--stride", type=int, help="grid stride, 1 ≤ S ≤ patch (default: patch/2; with --bundle, the patch size)")
    p.add_argument("--blend", choices=BLENDS, default=DEFAULT_BLEND)
    p.add_argument("--sampling", choices=SAMPLINGS, default="grid",
                   help="grid (spec v1), random crops until --coverage, the salient patches only, or multiscale "
                        "(spec v2: cells from --largest-cell down to --smallest-cell, split where the photograph has detail)")
    p.add_argument("--coverage", type=float, default=0.8,
                   help="random: fraction of the frame covered; salient: fraction of patches transformed")
    add_multiscale_arguments(p)
    p.add_argument("--feedback", type=int, default=0, help="feed the output back through the pipeline N more times")
    p.add_argument("--stereo", action="store_true", help="write a side-by-side stereoscopic pair (left | right)")
    p.add_argument("--disparity", type=int, default=8, help="stereo: horizontal shift of the right view in pixels")
    p.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="patches per model call (the artifact's fixed batch B)")
    p.add_argument("--size", type=int, help="processing size: the frame's longer side in pixels")
    p.add_argument("--fps", type=float, help="video: output frame rate (frames resampled by time)")
    p.add_argument("--seed", type=int, default=0, help="random sampling seed")
    p.add_argument("--strict", action="store_true",
                   help="video: fail (writing nothing) when the file decodes to fewer frames than its header promises")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


MULTISCALE = ("budget", "threshold", "hysteresis", "largest_cell", "smallest_cell")


def add_multiscale_arguments(p: argparse.ArgumentParser) -> None:
    """Spec v2's settings (docs/pipeline.md); None leaves the spec's default."""
    o = MultiscaleOptions()
    p.add_argument("--budget", type=int, help=f"multiscale: at most N cells (model inputs) per frame (default: {o.budget})")
    p.add_argument("--threshold", type=int,
                   help=f"multiscale: a cell splits where its luma variance (levels²) is above this (default: {o.threshold})")
    p.add_argument("--hysteresis", type=int,
                   help=f"multiscale, video: split cells stay split down to threshold − H, new ones need threshold + H (default: {o.hysteresis})")
    p.add_argument("--largest-cell", type=int, help="multiscale: largest cell in pixels, the patch times a power of two (default: 4·patch)")
    p.add_argument("--smallest-cell", type=int, help="multiscale: smallest cell in pixels, the patch over a power of two (default: patch/2)")


def multiscale_options(args: argparse.Namespace) -> MultiscaleOptions:
    """The multiscale settings given, the spec's defaults for the rest."""
    given = {k: getattr(args, k) for k in ("budget", "threshold", "hysteresis") if getattr(args, k) is not None}
    return MultiscaleOptions(**given, largest=args.largest_cell, smallest=args.smallest_cell)


def check_multiscale(args: argparse.Namespace, patch: int | None = None) -> MultiscaleOptions:
    """Spec v2's settings (the spec's defaults without --sampling multiscale); refused in one line: its
    options without --sampling multiscale, spec v1's --stride with it, and settings spec v2 cannot run
    (the cell sizes once the patch size is known)."""
    given = [name for name in MULTISCALE if getattr(args, name) is not None]
    if args.sampling != "multiscale":
        if given:
            raise YganError(f"--{given[0].replace('_', '-')} sets spec v2's cells: add --sampling multiscale")
        return MultiscaleOptions()
    if args.stride is not None:
        raise YganError("--stride belongs to spec v1's grid: --sampling multiscale pastes cells of several sizes")
    o = multiscale_options(args)
    problem = settings_problem(o.threshold, o.hysteresis, o.budget, o.largest, o.smallest, patch)
    if problem:
        raise YganError(f"--sampling multiscale: {problem}")
    return o


def check_arguments(args: argparse.Namespace) -> None:
    """Everything that does not need the model: ranges, extensions, image vs video."""
    problems = [
        (args.patch is not None and args.patch < 2, f"--patch {args.patch} is too small: use at least 2"),
        (args.stride is not None and args.stride < 1, f"--stride {args.stride} must be at least 1"),
        (not 0 < args.coverage <= 1, f"--coverage {args.coverage} must be in (0, 1], e.g. 0.8"),
        (args.feedback < 0, f"--feedback {args.feedback} must be 0 or more"),
        (args.disparity < 1, f"--disparity {args.disparity} must be at least 1 pixel"),
        (args.batch < 1, f"--batch {args.batch} must be at least 1"),
        (args.size is not None and args.size < 1, f"--size {args.size} must be at least 1 pixel"),
        (args.fps is not None and not args.fps > 0, f"--fps {args.fps} must be positive, e.g. 30"),
    ]
    for bad, message in problems:
        if bad:
            raise YganError(message)
    check_multiscale(args, args.patch)
    out = Path(args.out)
    problem = unwritable(out)
    if problem:
        raise YganError(f"output '{out}' {problem}: choose a writable file path with -o")
    if not (ingest.is_image_path(out) or ingest.is_video_path(out)):
        raise YganError(f"output '{out}' has no image or video extension: use e.g. .png, .jpg or .mp4")
    if ingest.is_video_path(args.input) != ingest.is_video_path(out):
        raise YganError(f"input '{args.input}' and output '{out}' must both be images or both videos: change the output extension")


BATCH_BYTES = 1 << 30  # one batch of float32 patches may take at most 1 GiB


def processing_shape(height: int, width: int, size: int | None) -> tuple[int, int]:
    """The frame's shape after --size (the longer side, aspect kept), as ingest.resize_to makes it."""
    if not size:
        return height, width
    scale = size / max(width, height)
    return max(1, round(height * scale)), max(1, round(width * scale))


def check_fits(height: int, width: int, patch: int, batch: int) -> None:
    """Refuse, before any work, a request whose frame or batch cannot fit: the pipelines stream
    patches, so memory is the frame (padded to at least the patch) plus a batch of patches."""
    ph, pw = max(height, patch), max(width, patch)
    if ph * pw > ingest.MAX_PIXELS:
        raise YganError(f"rendering {width}×{height} with --patch {patch} means a {pw}×{ph} frame, more than the "
                        f"{ingest.MAX_PIXELS:,}-pixel limit: use a smaller --size or --patch")
    need = batch * 3 * patch * patch * 4
    if need > BATCH_BYTES:
        raise YganError(f"--patch {patch} with --batch {batch} needs {need / 2**30:.1f} GiB for one batch of patches, "
                        f"more than {BATCH_BYTES / 2**30:.0f} GiB: use a smaller --patch or --batch")


def options(args: argparse.Namespace, model_patch: int) -> RenderOptions:
    patch = args.patch or model_patch
    stride = args.stride or default_stride(patch)
    if stride > patch:
        raise YganError(f"--stride {stride} is larger than the patch size {patch}: use 1 ≤ S ≤ {patch}")
    return RenderOptions(patch=patch, stride=stride, blend=args.blend, sampling=args.sampling, coverage=args.coverage,
                         feedback=args.feedback, stereo=args.stereo, disparity=args.disparity, batch=args.batch,
                         seed=args.seed, multiscale=check_multiscale(args, patch))


def run_render(args: argparse.Namespace) -> int:
    from ygan_mobile.checkpoint import load_patch_models
    from ygan_mobile.render.video import render_video

    check_arguments(args)
    video = ingest.is_video_path(args.input)
    if video:
        info = ingest.video_info(args.input)
        height, width = info.height, info.width
    else:
        frame = ingest.load_image(args.input)
        height, width = frame.shape[:2]
    if args.patch:
        check_fits(*processing_shape(height, width, args.size), args.patch, args.batch)
    if not video and args.size:
        frame = ingest.resize_to(frame, args.size)
    themes = [t for item in args.theme or [] for t in item.split(",") if t] or None
    models, model_patch = load_patch_models(args.checkpoint, themes)
    check_fits(*processing_shape(height, width, args.size), args.patch or model_patch, args.batch)
    render = make_renderer(list(models.values()), model_patch, options(args, model_patch))
    if video:
        count = render_video(args.input, args.out, render, fps=args.fps, size=args.size, progress=not args.quiet,
                             strict=args.strict)
        print(f"wrote {args.out} ({count} frames, themes: {', '.join(models)})")
    else:
        ingest.save_image(args.out, render(frame))
        print(f"wrote {args.out} (themes: {', '.join(models)})")
    return 0
