"""`ygan distill`: arguments, the run, and its one-screen summary (wired into ygan.cli)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ygan_mobile.errors import YganError

from distill.config import PRESETS, build
from distill.train import DistillResult, distill


def add_distill_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--teacher", required=True, help="teacher run directory or its checkpoint.safetensors (from 'ygan train')")
    parser.add_argument("--preset", default="quick", help=f"{', '.join(PRESETS)}, a restoration preset (denoise, …: its [distill] tables) "
                        "or a path to a TOML distill preset (default: quick)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a preset value, e.g. --set train.steps=500 or --set student.width=12 (repeatable)")
    parser.add_argument("-o", "--out", default="runs/student", help="run directory (default: runs/student)")
    parser.add_argument("--resume", action="store_true", help="continue the distillation in --out from its checkpoint")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run_distill(args: argparse.Namespace) -> int:
    """Exit code: 0 when finished, 130 when interrupted (the checkpoint allows --resume)."""
    teacher = Path(args.teacher)
    if not teacher.exists():
        raise YganError(f"teacher '{teacher}' not found: pass the --out directory of 'ygan train' or its checkpoint.safetensors")
    cfg = build(args.preset, list(args.overrides))
    began = time.monotonic()
    result = distill(teacher, cfg, args.out, resume=args.resume, progress=not args.quiet)
    if result.main:
        print_summary(result, time.monotonic() - began)
    return 130 if result.interrupted else 0


def print_summary(result: DistillResult, seconds: float) -> None:
    m, out = result.metrics, result.out
    cost = m["cost"]
    state = "interrupted — continue with --resume" if result.interrupted else "finished"
    print(f"\ndistillation {state} at step {result.step} in {seconds:.0f} s (training {result.seconds:.0f} s)")
    t, s = cost["teacher"], cost["student"]
    print(f"  {'per patch':<14}{'MACs':>14}{'params':>12}")
    print(f"  {'teacher':<14}{t['macs']:>14,}{t['params']:>12,}")
    print(f"  {'student':<14}{s['macs']:>14,}{s['params']:>12,}")
    print(f"  {'ratio':<14}{cost['mac_ratio']:>13.1f}×{cost['param_ratio']:>11.1f}×")
    if "patch_psnr" in m:
        frame = m["frame"]
        print(f"  student vs teacher PSNR   held-out patches (range 2)   {frame['size']}² frame (uint8, stride {frame['stride']})")
        for theme, value in m["patch_psnr"].items():
            print(f"  {theme:<26}{value:>8.2f} dB{m['frame_psnr'][theme]:>24.2f} dB")
        timing = m["timing"]
        print(f"  torch CPU time per {frame['size']}² frame: teacher {timing['teacher_seconds'] * 1e3:.0f} ms, "
              f"student {timing['student_seconds'] * 1e3:.0f} ms ({timing['speedup']:.1f}× faster)")
        print(f"  side by side {out / 'side_by_side_<theme>.png'}  and  {out / 'patches_<theme>.png'}")
    print(f"  checkpoint   {out / 'student.safetensors'}")
    print(f"  metrics      {out / 'metrics.json'}")
