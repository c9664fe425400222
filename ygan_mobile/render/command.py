"""`ygan render`: an image or a video through a trained model's patch pipeline."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from ygan_mobile import ingest
from ygan_mobile.errors import YganError

SAMPLINGS = ("grid", "random", "salient")


def add_render_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="an image or a video file")
    p.add_argument("-o", "--output", required=True, help="output image or video (format from the extension)")
    p.add_argument("--checkpoint", required=True, help="a run directory or checkpoint written by 'ygan train'")
    p.add_argument("--theme", action="append", help="theme(s) to use; several themes split the frame by luminance bands")
    p.add_argument("--patch", type=int, help="crop size on the frame (default: the model's patch size)")
    p.add_argument("--stride", type=int, help="grid stride, 1 ≤ S ≤ patch (default: patch/2)")
    p.add_argument("--blend", choices=("feather", "paste"), default="feather")
    p.add_argument("--sampling", choices=SAMPLINGS, default="grid",
                   help="grid (spec v1), random crops until --coverage, or salient patches only")
    p.add_argument("--coverage", type=float, default=0.8, help="random: covered fraction; salient: transformed fraction")
    p.add_argument("--feedback", type=int, default=0, help="feed the output back through the pipeline N more times")
    p.add_argument("--stereo", type=int, nargs="?", const=8, default=0, metavar="DISPARITY",
                   help="write a side-by-side stereoscopic pair (default disparity 8 px)")
    p.add_argument("--batch", type=int, default=16, help="patches per model call")
    p.add_argument("--size", type=int, help="processing size: the longer side of the frame in pixels")
    p.add_argument("--fps", type=float, help="video: output frame rate (frames resampled by time)")
    p.add_argument("--seed", type=int, default=0, help="random sampling seed")


def _check(args: argparse.Namespace, model_patch: int) -> tuple[int, int]:
    patch = args.patch or model_patch
    stride = args.stride or max(1, patch // 2)
    if patch < 2:
        raise YganError(f"--patch {patch} is too small: use at least 2 (the model's is {model_patch})")
    if not 1 <= stride <= patch:
        raise YganError(f"--stride {stride} must be between 1 and the patch size {patch}")
    if not 0 < args.coverage <= 1:
        raise YganError(f"--coverage {args.coverage} must be in (0, 1]")
    if args.feedback < 0 or args.batch < 1 or args.stereo < 0:
        raise YganError("--feedback and --stereo must be ≥ 0 and --batch ≥ 1")
    out = Path(args.output)
    if not (ingest.is_image_path(out) or ingest.is_video_path(out)):
        raise YganError(f"output '{out}' has no image or video extension: use e.g. .png, .jpg or .mp4")
    if ingest.is_video_path(args.input) != ingest.is_video_path(out):
        raise YganError(f"input '{args.input}' and output '{out}' must both be images or both be videos")
    return patch, stride


def make_renderer(args: argparse.Namespace) -> Callable[[np.ndarray], np.ndarray]:
    """Load the models once; return frame → rendered frame with every chosen option applied."""
    from ygan_mobile.checkpoint import load_patch_models
    from ygan_mobile.render import modes, spec

    models_by_theme, model_patch = load_patch_models(args.checkpoint, args.theme)
    patch, stride = _check(args, model_patch)
    models = [modes.resized(m, model_patch, patch) for m in models_by_theme.values()]

    def once(frame: np.ndarray) -> np.ndarray:
        themes = modes.luminance_bands(frame, patch, stride, len(models)) if len(models) > 1 else 0
        if args.sampling == "random":
            return modes.render_random(frame, models[0], patch=patch, coverage=args.coverage, seed=args.seed, batch=args.batch)
        if args.sampling == "salient":
            return modes.render_salient(frame, models, patch=patch, stride=stride, fraction=args.coverage,
                                        blend=args.blend, batch=args.batch, theme_map=themes)
        return spec.render_frame(frame, models, patch=patch, stride=stride, blend=args.blend, batch=args.batch, theme_map=themes)

    def render(frame: np.ndarray) -> np.ndarray:
        views = modes.stereo_pair(frame, args.stereo) if args.stereo else (frame,)
        outs = []
        for view in views:
            for _ in range(1 + args.feedback):
                view = once(view)
            outs.append(view)
        return modes.side_by_side(*outs) if args.stereo else outs[0]

    return render


def run_render(args: argparse.Namespace) -> int:
    render = make_renderer(args)
    if ingest.is_video_path(args.input):
        info = ingest.video_info(args.input)
        fps = args.fps or info.fps
        frames = ingest.read_video_frames(args.input, fps=args.fps, size=args.size)
        total = round(info.frames * fps / info.fps) if info.frames else None
        ingest.write_video(args.output, (render(f) for f in tqdm(frames, total=total, desc="render", unit="frame")), fps)
    else:
        frame = ingest.load_image(args.input)
        if args.size:
            frame = ingest.resize_to(frame, args.size)
        ingest.save_image(args.output, render(frame))
    print(f"wrote {args.output}")
    return 0
