"""A second, independent judge of theme recognisability, for checking the build's own (issue 19).

The build's judge is a CNN trained by this project; a number it likes could be a number only it
likes. This one shares nothing with it but the question: histogram-of-oriented-gradient features
(scikit-image) of the luminance, standardised per patch, with an RBF support-vector classifier
(scikit-learn), trained on theme tiles drawn with seeds no training run used (`--tile-seed`) and
on photograph patches from the teacher's training split. It scores the bundle's fp32 ONNX patch
models, run through the reference runtime as an adopter would, on the teacher's held-out
photographs, and prints the same table shape as `ygan eval`: its own accuracy on real held-out
patches, the recognisability of each theme, and the two baselines (input, colour filter).

    .venv/bin/python scripts/independent_judge.py BUNDLE [--side 512]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from skimage.feature import hog
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from reference_runtime import open_bundle, open_model, render_frame
from reference_runtime.manifest import ManifestError
from ygan.build_quality import teacher_config
from ygan_mobile.data import render_theme, theme_tile_size
from ygan_mobile.errors import YganError
from ygan_mobile.mosaic.heldout import heldout
from ygan_mobile.mosaic.judge import jitter, luminance, standardise
from ygan_mobile.mosaic.metrics import colour_filter, grid_patches

TILES = 1500  # fresh tiles per theme, half to train on and half to test on


def features(patches: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """uint8 (N,P,P,3) → HOG of the standardised luminance (jittered when training)."""
    lum = luminance(patches)
    if rng is not None:
        lum = jitter(lum, rng)
    lum = standardise(lum)
    cell = max(4, patches.shape[1] // 4)
    return np.stack([hog(p, orientations=9, pixels_per_cell=(cell, cell), cells_per_block=(2, 2)) for p in lum])


def fresh_tiles(theme: str, patch: int, seed: int) -> np.ndarray:
    return np.stack([t.pixels for t in render_theme(theme, TILES, theme_tile_size(patch), seed)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--side", type=int, default=512, help="longer side of the scored photographs")
    parser.add_argument("--tile-seed", type=int, default=9000, help="seed of the fresh theme tiles (training uses seed+1+i)")
    args = parser.parse_args(argv)
    cfg = teacher_config(args.bundle)
    patch, themes = cfg.model.patch, list(cfg.data.themes)
    held = heldout(patch, cfg.train.seed, cfg.data.holdout, themes, cfg.data.theme_tiles, args.side)

    rng = np.random.default_rng(args.tile_seed)
    train_x, train_y, test = [features(held.judge_photo, rng)], [np.zeros(len(held.judge_photo), int)], {}
    for k, theme in enumerate(themes, start=1):
        tiles = fresh_tiles(theme, patch, args.tile_seed + k)
        train_x.append(features(tiles[0::2], rng))
        train_y.append(np.full(len(tiles[0::2]), k))
        test[theme] = tiles[1::2]
    # An RBF SVM, not a linear model: on the quick bundle's real held-out patches logistic regression
    # reached 87% (flowers 77%), the SVM 96% (each class ≥ 91%), gradient boosting 94% at 8× the time.
    judge = make_pipeline(StandardScaler(), SVC(C=3.0))
    judge.fit(np.concatenate(train_x), np.concatenate(train_y))

    def share(patches: np.ndarray, k: int) -> float:
        return float((judge.predict(features(patches)) == k).mean())

    cut_in = np.concatenate([grid_patches(f.pixels, patch) for f in held.frames])  # the scored photographs' patches
    called = judge.predict(features(cut_in))
    acc = {"photo": float((called == 0).mean()), **{t: share(test[t], k) for k, t in enumerate(themes, start=1)}}
    acc["mean"] = float(np.mean(list(acc.values())))
    bundle = open_bundle(args.bundle)
    rows = {}
    for k, theme in enumerate(themes, start=1):
        model = open_model(bundle, f"onnx/patch_model.{theme}")
        cut_out = np.concatenate([grid_patches(render_frame(f.pixels, model, stride=patch), patch) for f in held.frames])
        rows[theme] = {"recognisable": share(cut_out, k), "baseline_input": float((called == k).mean()),
                       "baseline_colour": share(colour_filter(cut_in, cut_out), k)}
    print(json.dumps({"judge": "HOG + RBF SVM", "accuracy": acc,
                      "frames": [f.name for f in held.frames], "side": args.side, "themes": rows}, indent=2))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (YganError, ManifestError) as exc:  # no teacher checkpoint, a manifest that fails its checks: one line, exit 2
        print(f"independent_judge: {exc}", file=sys.stderr)
        sys.exit(2)
