"""`ygan eval PRESET BUNDLE`: the command-line face of restore.evaluate.

Why the preset is named again: it says which task and degradation the user means to measure, and a
bundle built with other settings (another task, another noise σ) would answer a different question,
so a mismatch is refused instead of silently evaluated.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ygan_mobile.errors import YganError


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("preset", help="the restoration preset the bundle was built with (colorize, denoise, superres2, superres4, "
                   "deblur, NAME-full, or a TOML path)")
    p.add_argument("bundle", help="a bundle written by 'ygan build' with that preset")
    p.add_argument("--side", type=int, default=256, help="largest side of the centred held-out crop (default: 256)")
    p.add_argument("--threads", type=int, default=2, help="runtime threads for the artifacts (default: 2)")
    p.add_argument("--out", help="output folder (default: BUNDLE/eval)")


def check_preset(preset: str, bundle_degradation: dict) -> None:
    from ygan_mobile.config import Config, load_preset, teacher_tables

    wanted = Config.from_dict(teacher_tables(load_preset(preset))).data
    if not wanted.task:
        raise YganError(f"preset '{preset}' is not a restoration preset: use colorize, denoise, superres2, superres4 or deblur")
    if wanted.degradation_dict() != bundle_degradation:
        raise YganError(f"the bundle was built for {bundle_degradation}, preset '{preset}' means {wanted.degradation_dict()}: "
                        "pass the preset the bundle was built with")


def run_eval(args: argparse.Namespace) -> int:
    from ygan_mobile.restore import eval_report
    from ygan_mobile.restore.evaluate import evaluate_bundle, teacher_config

    bundle = Path(args.bundle)
    if args.side < 32:
        raise YganError(f"--side {args.side} is too small: use 32 or more")
    check_preset(args.preset, teacher_config(bundle).data.degradation_dict())
    start = time.perf_counter()
    e = evaluate_bundle(bundle, side=args.side, threads=args.threads, log=lambda name: print(f"  evaluating {name}", flush=True))
    written = eval_report.write(e, Path(args.out) if args.out else bundle / "eval")
    print(eval_report.markdown(e))
    print(f"evaluated {len(e.rows)} methods on {len(e.images)} held-out images in {time.perf_counter() - start:.0f} s")
    for path in written:
        print(f"  {path}")
    return 0
