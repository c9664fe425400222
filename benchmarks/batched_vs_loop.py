"""Batched patch rendering against a per-patch loop on a 512×512 frame.

Same pipeline (ygan_mobile.render.torch_pipeline), same model, same frame, same output: only the number of
patches per model call differs, B against 1. The model is the teacher's fused G(E(x)) at a preset's
size with random weights (speed does not depend on the weights), or a trained checkpoint's first
theme — a teacher (`ygan train`) or a student (`ygan distill`, the model the phone runs).

Run: .venv/bin/python benchmarks/batched_vs_loop.py [--preset quick|full] [--checkpoint RUN]
         [--batch B] [--stride S] [--threads N] [--repeat N]
Prints median and p90 of each, the speed-up, whether the outputs are identical, and the machine's
load average: on a shared machine absolute times are noisy, so read the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from ygan_mobile.config import Config, load_preset, teacher_tables
from ygan_mobile.models import YGan
from ygan_mobile.render import torch_pipeline

TARGET = 5.0
"""The speed-up issue 4 asks batching to deliver."""


def timed(fn, repeat: int) -> tuple[float, float, np.ndarray]:
    """Median and p90 seconds over `repeat` runs after one warm-up, and the last result."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.9 * (len(times) - 1)))], result


def load_model(args: argparse.Namespace):
    if args.checkpoint:
        from convert.source import load_networks

        net = load_networks(args.checkpoint)
        return torch.no_grad()(net.patch_model(net.themes[0])), net.patch, f"{net.kind} checkpoint {args.checkpoint}"
    torch.manual_seed(0)
    cfg = Config.from_dict(teacher_tables(load_preset(args.preset))).model
    fused = YGan.create(cfg, ["theme"]).patch_model("theme").eval()
    what = f"{args.preset}-preset teacher G(E(x)), random weights, encoder {'→'.join(map(str, [3, *cfg.channels()]))}"
    if not args.channels_last:
        return torch.no_grad()(fused), cfg.patch, what
    fused = fused.to(memory_format=torch.channels_last)
    run = torch.no_grad()(lambda x: fused(x.contiguous(memory_format=torch.channels_last)))
    return run, cfg.patch, what + ", channels_last"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="full", help="model size from this preset (default: full, the teacher)")
    parser.add_argument("--checkpoint", help="time a trained checkpoint's first theme instead")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--stride", type=int, help="default: P/2, as `ygan render`")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--channels-last", action="store_true",
                        help="run the random-weight teacher in channels_last memory format (both sides)")
    parser.add_argument("--size", type=int, default=512, help="frame side in pixels")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model, patch, what = load_model(args)
    stride = args.stride or torch_pipeline.default_stride(patch)
    frame = np.random.default_rng(0).integers(0, 256, (args.size, args.size, 3), dtype=np.uint8)
    load_before = os.getloadavg()[0]

    def render(batch: int) -> np.ndarray:
        return torch_pipeline.render_frame(frame, [model], patch=patch, stride=stride, batch=batch)

    batched, batched_p90, out_batched = timed(lambda: render(args.batch), args.repeat)
    loop, loop_p90, out_loop = timed(lambda: render(1), args.repeat)
    patches = len(torch_pipeline.positions(args.size, patch, stride)) ** 2
    speedup = loop / batched
    print(f"{args.size}×{args.size} frame, P={patch}, S={stride}, {patches} patches; {what}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} cores, "
          f"load average {load_before:.1f} → {os.getloadavg()[0]:.1f}, {args.repeat} timed runs each")
    print(f"batched (B={args.batch}):    median {batched * 1000:8.1f} ms   p90 {batched_p90 * 1000:8.1f} ms")
    print(f"per-patch loop (B=1): median {loop * 1000:8.1f} ms   p90 {loop_p90 * 1000:8.1f} ms")
    print(f"speed-up {speedup:.2f}× (target ≥ {TARGET:g}×: {'met' if speedup >= TARGET else 'NOT met'}); "
          f"outputs differ by at most {int(np.abs(out_batched.astype(int) - out_loop).max())} level(s) "
          f"(float sums in another order)")


if __name__ == "__main__":
    main()
