"""Torch CPU time per frame through the render pipeline: teacher vs distilled student, one run.

Absolute times on shared machines are noisy (DESIGN §9); the two models are timed interleaved in
the same process, so the ratio is the number to read.

    python benchmarks/student_vs_teacher.py --student runs/student [--teacher runs/teacher] [--size 512]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch

from distill import frames
from distill.checkpoint import load_student
from distill.macs import patch_cost
from distill.train import load_inputs
from ygan_mobile.checkpoint import load_model
from ygan_mobile.errors import YganError
from ygan_mobile.render.torch_pipeline import default_stride


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", required=True, help="distill run directory or student.safetensors")
    parser.add_argument("--teacher", help="teacher run directory (default: the one the student was distilled from)")
    parser.add_argument("--size", type=int, default=512, help="square frame side (default 512)")
    parser.add_argument("--stride", type=int, default=0, help="render stride (default: half the patch)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    args = parser.parse_args(argv)
    try:
        student, ckpt = load_student(args.student)
        teacher, tckpt = load_model(args.teacher or ckpt.teacher["path"])
    except YganError as exc:
        print(f"student_vs_teacher: error: {exc}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    theme, patch = ckpt.themes[0], ckpt.student.patch
    stride = args.stride or default_stride(patch)
    frame = frames.heldout_frame(load_inputs(tckpt.config), args.size)
    t_model, s_model = teacher.patch_model(theme), student.patch_model(theme)
    result = {
        "frame": [args.size, args.size], "patch": patch, "stride": stride, "theme": theme, "threads": torch.get_num_threads(),
        "teacher": patch_cost(t_model, patch).to_dict(), "student": patch_cost(s_model, patch).to_dict(),
        **frames.time_pair(t_model, s_model, frame, patch, stride, args.repeats),
    }
    print(json.dumps(result, indent=2))
    print(f"teacher {result['teacher_seconds'] * 1e3:.0f} ms, student {result['student_seconds'] * 1e3:.0f} ms per "
          f"{args.size}² frame: {result['speedup']:.1f}× faster ({result['teacher']['macs'] / result['student']['macs']:.1f}× fewer MACs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
