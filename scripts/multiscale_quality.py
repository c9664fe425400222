"""Spec v1's grid against spec v2's multi-scale cells on a bundle's held-out photographs, with the
judges and numbers of the quality stage (DESIGN §11, docs/build.md "Mosaic quality"): picture r,
detail r, colour r and recognisability, for each theme's int8-full TFLite patch model as the apps run it.

v1's elements are the grid's P×P patches; v2's are its cells, each resized to the judge's P×P (box
average down, bilinear up) before the judges see it. Also writes, per theme, the held-out portrait
rendered both ways (input | v1 | v2).

    .venv/bin/python scripts/multiscale_quality.py BUNDLE OUT_DIR [--settings T:N ...]

--settings takes threshold:budget[:smallest cell[:largest cell]] (the others at their defaults); the
first is the one drawn.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from reference_runtime.api import open_model, render_frame, render_multiscale
from reference_runtime.multiscale import Multiscale
from ygan.build_quality import art_bundle, heldout_of, int8_full_artifacts
from ygan_mobile.mosaic.metrics import mosaic_scores, picture_scores, spread
from ygan_mobile.mosaic.score import fit_judges


def elements(frame: np.ndarray, cells: np.ndarray, patch: int) -> np.ndarray:
    """(K, P, P, 3): each cell's element as drawn (its part inside the frame), resized to P×P."""
    out = []
    for top, left, size, _ in cells.tolist():
        crop = frame[top:top + size, left:left + size]
        image = Image.fromarray(np.ascontiguousarray(crop))
        smaller = crop.shape[0] >= patch and crop.shape[1] >= patch
        out.append(np.asarray(image.resize((patch, patch), Image.BOX if smaller else Image.BILINEAR)))
    return np.stack(out)


def v2_scores(judges, theme: str, inputs: list[np.ndarray], rendered: list, patch: int, real: np.ndarray) -> dict:
    outputs = [r.frame for r in rendered]
    cut = np.concatenate([elements(r.frame, r.layout.cells(), patch) for r in rendered])
    shares = [j.share(cut, theme) for j in judges]
    sizes = np.concatenate([r.layout.cells()[:, 2] for r in rendered])
    return {"recognisability": float(np.mean(shares)), "recognisability_min": min(shares),
            "recognisability_max": max(shares), **picture_scores(inputs, outputs, patch),
            "variety": spread(cut) / max(spread(real), 1e-9), "patches": int(len(cut)),
            "cells_by_size": {int(s): int((sizes == s).sum()) for s in np.unique(sizes)}}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundle", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--settings", nargs="+", default=["64:512"], help="threshold:budget[:smallest cell[:largest cell]] settings")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--judges", type=int, default=3)
    p.add_argument("--side", type=int, default=512)
    args = p.parse_args(argv)
    configs = [Multiscale(threshold=int(t), hysteresis=min(16, int(t)), budget=int(n), smallest=int(small) if small else None,
                          largest=int(large) if large else None)
               for t, n, small, large in ((s.split(":") + ["", ""])[:4] for s in args.settings)]
    cfg, bundle = art_bundle(args.bundle)
    patch, themes = cfg.model.patch, list(cfg.data.themes)
    held = heldout_of(cfg, args.side, print)
    judges, accuracy = fit_judges(held, seed=cfg.train.seed, steps=args.steps, count=args.judges)
    print("judge accuracy", {k: round(v, 3) for k, v in accuracy.items()})
    models = {t: open_model(bundle, a["id"]) for t, a in int8_full_artifacts(bundle.data).items()}
    inputs = [f.pixels for f in held.frames]
    portrait = next(i for i, f in enumerate(held.frames) if f.held)
    doc = {"judge_accuracy": accuracy, "frames": [f.name for f in held.frames], "themes": {}}
    args.out.mkdir(parents=True, exist_ok=True)
    for theme in themes:
        v1 = [render_frame(f, models[theme]) for f in inputs]
        row = {"v1": mosaic_scores(judges, theme, inputs, v1, patch, held.test_themes[theme]), "v2": {}}
        for k, settings in enumerate(configs):
            rendered = [render_multiscale(f, models[theme], multiscale=settings) for f in inputs]
            row["v2"][f"T={settings.threshold} N={settings.budget} {settings.smallest or patch // 2}-{settings.largest or 4 * patch}"] = v2_scores(judges, theme, inputs, rendered, patch,
                                                                               held.test_themes[theme])
            if k == 0:
                face = [inputs[portrait], v1[portrait], rendered[portrait].frame]
                gap = np.full((face[0].shape[0], 8, 3), 255, np.uint8)
                Image.fromarray(np.concatenate([face[0], gap, face[1], gap, face[2]], axis=1)).save(
                    args.out / f"{held.frames[portrait].name}_{theme}.png")
        doc["themes"][theme] = row
        for name, s in [("v1 grid", row["v1"]), *row["v2"].items()]:
            print(f"{theme:8} {name:16} recognisable {s['recognisability']:.3f} ({s['recognisability_min']:.2f}-"
                  f"{s['recognisability_max']:.2f})  picture r {s['picture_r']:.3f}  detail r {s['detail_r']:.3f}  "
                  f"colour r {s['colour_r']:.3f}  variety {s['variety']:.2f}  elements {s['patches']}")
    (args.out / "multiscale_quality.json").write_text(json.dumps(doc, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
