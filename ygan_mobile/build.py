"""`ygan build`: every stage that exists, in order, into one bundle directory."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ygan_mobile.summary import print_train_summary


def build(args: argparse.Namespace) -> int:
    from ygan_mobile.cli import build_config
    from ygan_mobile.train import train

    cfg = build_config(args)
    out = Path(args.out)
    teacher_dir = out / "checkpoints" / "teacher"
    resume = (teacher_dir / "checkpoint.safetensors").is_file()
    began = time.monotonic()
    result = train(cfg, teacher_dir, resume=resume, progress=not args.quiet)
    print_train_summary(result, time.monotonic() - began)
    if result.interrupted:
        return 130
    print(f"\nbundle: {out.resolve()}  (stages built so far: train)")
    print(f"look at: {(teacher_dir / 'samples.png').resolve()}")
    return 0
