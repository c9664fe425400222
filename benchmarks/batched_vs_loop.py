"""Batched patch rendering against a per-patch loop on a 512×512 frame, same model, same output.

Run: .venv/bin/python benchmarks/batched_vs_loop.py [--checkpoint RUN] [--repeat N]
Without a checkpoint it uses a randomly initialised quick-preset teacher (speed does not depend on
the weights). Prints the median time of each and the speed-up.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from ygan_mobile.models import ModelConfig, YGan
from ygan_mobile.render import spec


def median_seconds(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    if args.checkpoint:
        from ygan_mobile.checkpoint import load_patch_models

        models, patch = load_patch_models(args.checkpoint)
        model = next(iter(models.values()))
    else:
        torch.manual_seed(0)
        cfg = ModelConfig(patch=32, latent=128, width=32)
        fused = YGan.create(cfg, ["theme"]).patch_model("theme").eval()
        patch = cfg.patch
        model = torch.no_grad()(fused)
    frame = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    kw = dict(patch=patch, stride=patch)
    batched = median_seconds(lambda: spec.render_frame(frame, [model], batch=args.batch, **kw), args.repeat)
    loop = median_seconds(lambda: spec.render_frame(frame, [model], batch=1, **kw), args.repeat)
    same = np.array_equal(spec.render_frame(frame, [model], batch=args.batch, **kw), spec.render_frame(frame, [model], batch=1, **kw))
    patches = len(spec.positions(512, patch, patch)) ** 2
    print(f"512×512 frame, P={patch}, {patches} patches, torch threads={torch.get_num_threads()}")
    print(f"batched (B={args.batch}): {batched * 1000:.1f} ms   per-patch loop (B=1): {loop * 1000:.1f} ms")
    print(f"speed-up: {loop / batched:.1f}×   identical output: {same}")


if __name__ == "__main__":
    main()
