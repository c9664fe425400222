"""`ygan convert`: checkpoint in, bundle out, with a progress bar and a one-screen summary.

The lead wires `add_convert_arguments` and `run_convert` into ygan.cli; bad input surfaces
as YganError (one line, exit 2 there). Exit 1 when an artifact misses its parity threshold: the
bundle is still written so the numbers can be inspected, but CI must not ship it.
"""

from __future__ import annotations

import argparse
import sys
import time

from convert.options import DEFAULTS, HALF_PATCH, Options
from convert.plan import FORMATS
from convert.source import KINDS
from reference_runtime.pipeline import BLENDS


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def add_convert_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="student (ygan distill) or teacher (ygan train) run directory or .safetensors")
    parser.add_argument("--source", choices=KINDS, default="auto", help="checkpoint kind; auto reads it from the file (default)")
    parser.add_argument("--targets", type=_csv, default=list(DEFAULTS.targets), help=f"comma list of {','.join(FORMATS)} (default: all)")
    parser.add_argument("--precisions", type=_csv, default=None,
                        help="comma list, e.g. fp32,fp16,int8-dynamic,int8-full,int8-weights,palettized-6bit,palettized-4bit (default: all per target)")
    parser.add_argument("-o", "--out", required=True, help="bundle directory (converted folders and manifest.json are replaced atomically)")
    parser.add_argument("--batch", type=int, default=DEFAULTS.batch, help=f"fixed batch B of every artifact (default: {DEFAULTS.batch})")
    parser.add_argument("--stride", type=int, default=HALF_PATCH, help="pipeline stride S recorded in the manifest and used for golden frames (default: P/2)")
    parser.add_argument("--blend", choices=BLENDS, default=DEFAULTS.blend, help=f"pipeline blend for golden frames (default: {DEFAULTS.blend})")
    parser.add_argument("--calibration", type=int, default=DEFAULTS.calibration,
                        help=f"train patches for int8 calibration, each also as its negative (default: {DEFAULTS.calibration})")
    parser.add_argument("--golden", type=int, default=DEFAULTS.golden, help=f"held-out golden patches (default: {DEFAULTS.golden})")
    parser.add_argument("--threshold", action="append", default=[], metavar="PRECISION=DB",
                        help="override a parity threshold, e.g. --threshold int8-full=30 (repeatable)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _thresholds(items: list[str]) -> dict[str, float]:
    from ygan_mobile.errors import YganError

    out = dict(DEFAULTS.thresholds)
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in out:
            raise YganError(f"--threshold '{item}' must be PRECISION=DB with PRECISION one of {', '.join(out)}")
        try:
            out[key] = float(value)
        except ValueError:
            raise YganError(f"--threshold '{item}': '{value}' is not a number of dB") from None
    return out


def run_convert(args: argparse.Namespace) -> int:
    from convert.bundle import convert, step_count
    from convert.plan import jobs, precisions_for
    from convert.source import load_networks
    from convert.summary import print_summary

    began = time.monotonic()
    opts = Options(targets=args.targets, precisions=args.precisions, batch=args.batch, stride=args.stride,
                   blend=args.blend, calibration=args.calibration, golden=args.golden,
                   thresholds=_thresholds(args.threshold))
    plan = precisions_for(opts.targets, opts.precisions)
    net = load_networks(args.checkpoint, args.source)
    steps = step_count(plan, len(jobs(net, 1)))
    bar = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=steps, unit="step", dynamic_ncols=True, desc="convert")

    started: list[str] = []

    def progress(label: str) -> None:
        """Called as each step starts, so the bar counts the steps already finished."""
        if bar is not None:
            bar.update(1 if started else 0)
            bar.set_postfix_str(label)
        started.append(label)

    try:
        result = convert(net, args.out, opts, progress=progress)
        if bar is not None:
            bar.update(bar.total - bar.n)
    finally:
        if bar is not None:
            bar.close()
    print_summary(result, time.monotonic() - began)
    return 1 if result.failed else 0
