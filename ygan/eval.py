"""`ygan eval PRESET BUNDLE` (restoration: ygan.restore_eval) and `ygan eval BUNDLE` (art themes: the
mosaic quality of ygan.build_quality, the measurement of `ygan build`'s quality stage).

Why a restoration preset is named again: it says which task and degradation the user means to measure, and a
bundle built with other settings (another task, another noise σ) would answer a different question,
so a mismatch is refused instead of silently evaluated.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from reference_runtime.defaults import DEFAULT_THREADS
from ygan_mobile.errors import YganError


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.usage = "%(prog)s [-h] [--side N] [--steps N] [--judges N] [--clip VIDEO] [--frames N] [--threads N] [-o DIR] [-q] [PRESET] BUNDLE"
    p.add_argument("targets", nargs="+", metavar="[PRESET] BUNDLE",
                   help="a bundle written by 'ygan build'; for a restoration bundle first the preset it was built with "
                   "(colorize, denoise, superres2, superres4, deblur, NAME-full, or a TOML path), for art themes none")
    p.add_argument("--side", type=int, default=None, help="restoration: largest side of the centred held-out crop "
                   "(default: 256); art: longer side of the scored held-out photographs (default: 512)")
    p.add_argument("--steps", type=int, default=None, help="art bundles: judge training steps (default: what the "
                   "bundle's quality stage used, else quality.steps' default)")
    p.add_argument("--judges", type=int, default=None, help="art bundles: judges whose shares are averaged (default: what "
                   "the bundle's quality stage used, else quality.judges' default)")
    p.add_argument("--clip", help="art bundles: measure flicker (DESIGN §11) on this video, every frame at its own rate, "
                   "instead of the photographs' quality")
    p.add_argument("--frames", type=int, default=0, help="--clip: the clip's first N frames (default: all)")
    p.add_argument("--threads", type=int, default=None, help="threads of the renders: art bundles' models (default: one fewer "
                   f"than the cores, as the build's quality stage), restoration bundles' artifacts (default: {DEFAULT_THREADS})")
    p.add_argument("-o", "--out", help="output folder (default: BUNDLE/eval)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines: print only the results and the files written")


def check_preset(preset: str, bundle_degradation: dict) -> None:
    from ygan_mobile.config import Config, load_preset, teacher_tables

    wanted = Config.from_dict(teacher_tables(load_preset(preset))).data
    if not wanted.task:
        raise YganError(f"preset '{preset}' is not a restoration preset: use colorize, denoise, superres2, superres4 or deblur")
    if wanted.degradation_dict() != bundle_degradation:
        raise YganError(f"the bundle was built for {bundle_degradation}, preset '{preset}' means {wanted.degradation_dict()}: "
                        "pass the preset the bundle was built with")


def run_eval(args: argparse.Namespace) -> int:
    if len(args.targets) > 2:
        raise YganError(f"ygan eval takes [PRESET] BUNDLE, got {len(args.targets)} arguments: {' '.join(args.targets)}")
    if args.frames and not args.clip:
        raise YganError("--frames counts the frames of --clip VIDEO: pass --clip too")
    if len(args.targets) == 1:
        return run_clip_eval(Path(args.targets[0]), args) if args.clip else run_mosaic_eval(Path(args.targets[0]), args)
    if args.clip:
        raise YganError("--clip measures an art bundle's flicker: pass the bundle alone, without a restoration preset")
    args.preset, args.bundle = args.targets
    return run_restore_eval(args)


def _built_settings(bundle: Path) -> dict[str, int]:
    """The quality settings the bundle's own measurement used (quality.json), so eval measures what
    build measured; a bundle without one gets the build's defaults."""
    import json

    from reference_runtime.bundle_files import QUALITY
    from ygan.build_config import QualitySettings

    settings = QualitySettings().to_dict()
    try:
        doc = json.loads((bundle / QUALITY).read_text())
        built = doc.get("settings", {})
        settings.update({k: int(built[k]) for k in ("side", "steps", "retry_steps") if k in built})
        settings["judges"] = int(built.get("judges", 1)) if built else settings["judges"]  # before stop 32: one judge
        settings.update(doc.get("targets", {}))
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    return settings


def _log(args: argparse.Namespace, log: Callable[[str], None]) -> Callable[[str], None]:
    return (lambda _: None) if args.quiet else log


def run_mosaic_eval(bundle: Path, args: argparse.Namespace) -> int:
    """The mosaic quality of an art bundle: the same measurement as `ygan build`'s quality stage,
    written to --out (default BUNDLE/eval) so the build's own quality.json and manifest stay as built."""
    import json

    from ygan.build_judges import JudgeJob, JudgeSettings
    from ygan.build_quality import measure, preset_label, table, teacher_config, write
    from ygan.build_state import FILENAME as BUILD_STATE

    cfg = teacher_config(bundle)
    if cfg.data.task:
        raise YganError(f"'{bundle}' is a restoration bundle ({cfg.data.task}): name the preset it was built with, "
                        f"e.g. 'ygan eval {cfg.data.task} {bundle}'")
    built = _built_settings(bundle)
    side = args.side if args.side is not None else built["side"]
    steps = args.steps if args.steps is not None else built["steps"]
    judges = args.judges if args.judges is not None else built["judges"]
    if side < 2 * cfg.model.patch or steps < 1 or judges < 1:
        raise YganError(f"--side must be at least two patches ({2 * cfg.model.patch}), --steps and --judges at least 1")
    try:
        meta = json.loads((bundle / BUILD_STATE).read_text()).get("meta", {})
        preset = preset_label(meta.get("preset", ""), meta.get("overrides", []))
    except (OSError, ValueError, AttributeError):
        preset = ""
    start = time.perf_counter()
    targets = {k: v for k, v in built.items() if k.startswith("min_")}
    job = JudgeJob(bundle, JudgeSettings(steps=steps, retry_steps=built["retry_steps"], count=judges, side=side))
    measured = measure(bundle, job, threads=args.threads or 0, preset=preset, targets=targets,
                       log=_log(args, lambda text: print(f"  {text}", flush=True)))
    written = write(measured, Path(args.out) if args.out else bundle / "eval")
    for line in table(measured.doc):
        print(line)
    print(f"scored {len(measured.doc['models'])} models on {len(measured.doc['frames'])} held-out photographs "
          f"in {time.perf_counter() - start:.0f} s")
    for path in written:
        print(f"  {path}")
    return 0


def run_clip_eval(bundle: Path, args: argparse.Namespace) -> int:
    """Flicker of an art bundle's models on a video (ygan.eval_clip), written to --out (default BUNDLE/eval)."""
    from ygan import eval_clip
    from ygan.build_quality import teacher_config

    side = args.side if args.side is not None else _built_settings(bundle)["side"]
    patch = teacher_config(bundle).model.patch
    if side < 2 * patch or args.frames < 0 or args.frames == 1:
        raise YganError(f"--side must be at least two patches ({2 * patch}) and --frames 0 (all) or at least 2")
    if args.steps is not None or args.judges is not None:
        raise YganError("--steps and --judges set the judges of the photographs' quality: --clip fits none")
    start = time.perf_counter()
    measured = eval_clip.measure_clip(bundle, Path(args.clip), side=side, limit=args.frames, threads=args.threads or 0,
                                      log=_log(args, lambda text: print(f"  {text}", flush=True)))
    written = eval_clip.write(measured, Path(args.out) if args.out else bundle / "eval")
    for line in eval_clip.table(measured["doc"]):
        print(line)
    print(f"rendered {measured['doc']['frames']} frames per model and theme in {time.perf_counter() - start:.0f} s")
    for path in written:
        print(f"  {path}")
    return 0


def run_restore_eval(args: argparse.Namespace) -> int:
    from ygan import restore_eval_report as eval_report
    from ygan.restore_eval import evaluate_bundle, teacher_config

    bundle = Path(args.bundle)
    if args.side is None:
        args.side = 256
    if args.side < 32:
        raise YganError(f"--side {args.side} is too small: use 32 or more")
    check_preset(args.preset, teacher_config(bundle).data.degradation_dict())
    start = time.perf_counter()
    e = evaluate_bundle(bundle, side=args.side, threads=args.threads or DEFAULT_THREADS,
                        log=_log(args, lambda name: print(f"  evaluating {name}", flush=True)))
    written = eval_report.write(e, Path(args.out) if args.out else bundle / "eval")
    print(eval_report.markdown(e))
    print(f"evaluated {len(e.rows)} methods on {len(e.images)} held-out images in {time.perf_counter() - start:.0f} s")
    for path in written:
        print(f"  {path}")
    return 0
