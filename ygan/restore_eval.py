"""`ygan eval`: a restoration bundle against ground truth, beside the classical baselines.

Why whole held-out images through the patch pipeline: that is what the phone computes, seams and
blending included, and the held-out photographs (the teacher's own split, by source image) were
never seen by the teacher, the student or the int8 calibration. Each image is degraded once, as a
whole, with a fixed seed; a centred crop of at most `side` pixels keeps the Core ML interpreter and
non-local means affordable on 2 cores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from reference_runtime import metrics
from reference_runtime.defaults import DEFAULT_THREADS
from ygan_mobile.config import Config
from ygan_mobile.data import photographs, split_by_source
from ygan_mobile.data.degrade import Degradation
from ygan_mobile.data.restoration import clean_images
from ygan_mobile.errors import YganError
from ygan_mobile.restore.baselines import INPUT_NAME, baselines
from ygan_mobile.restore.colourfulness import colourfulness

_EVAL_NOISE = 13


@dataclass
class Pair:
    name: str
    clean: np.ndarray  # uint8 H×W×3
    degraded: np.ndarray


def _box(h: int, w: int, side: int, multiple: int) -> tuple[slice, slice]:
    ch, cw = min(h, side) // multiple * multiple, min(w, side) // multiple * multiple
    top, left = (h - ch) // 2 // multiple * multiple, (w - cw) // 2 // multiple * multiple
    return slice(top, top + ch), slice(left, left + cw)


def heldout_pairs(cfg: Config, side: int) -> list[Pair]:
    """The teacher's held-out photographs, each degraded whole and then cropped (same box in both)."""
    d = cfg.data.degradation
    source = photographs(cfg.model.patch, cfg.data.data_a or None)
    _, held = split_by_source(clean_images(source, d), cfg.data.holdout, cfg.train.seed)
    pairs = []
    for k, image in enumerate(held):
        degraded = d.apply(image.pixels, np.random.default_rng([cfg.train.seed, _EVAL_NOISE, k]))
        rows, cols = _box(*image.pixels.shape[:2], side, d.scale if d.task == "superres" else 1)
        pairs.append(Pair(image.name, np.ascontiguousarray(image.pixels[rows, cols]), np.ascontiguousarray(degraded[rows, cols])))
    return pairs


@dataclass
class Method:
    name: str
    kind: str  # input | baseline | teacher | student | artifact
    restore: Callable[[np.ndarray], np.ndarray]  # degraded uint8 frame → restored uint8 frame
    artifact: dict | None = None


def torch_patch_model(module: torch.nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return module(torch.from_numpy(np.ascontiguousarray(x))).numpy()
    return run


def pipelined(model: Callable[[np.ndarray], np.ndarray], pipeline: dict, **grid: int) -> Callable[[np.ndarray], np.ndarray]:
    """Frames restored through the runtime's API at the bundle's stride and blend: `model` a runner
    (its patch size and batch from its artifact) or a plain callable with `grid` = patch and batch."""
    from reference_runtime.api import render_frame

    def restore(frame: np.ndarray) -> np.ndarray:
        return render_frame(frame, model, stride=pipeline["stride"], blend=pipeline["blend"], **grid)
    return restore


def methods(bundle: Path, d: Degradation, threads: int) -> list[Method]:
    """Input, baselines, teacher and student (torch, batch 256: the result does not depend on it)
    and every patch-model artifact of the bundle, all through the bundle's pipeline settings."""
    from distill.checkpoint import load_student
    from reference_runtime.api import open_bundle, open_model
    from reference_runtime.backends import BackendError
    from reference_runtime.manifest import ManifestError
    from ygan.bundle_paths import STUDENT_CKPT, TEACHER_CKPT
    from ygan_mobile.checkpoint import load_model

    try:
        b = open_bundle(bundle)
    except ManifestError as exc:
        raise YganError(str(exc)) from None
    found = classical_methods(d)
    teacher, _ = load_model(bundle / TEACHER_CKPT)
    student, _ = load_student(bundle / STUDENT_CKPT)
    grid = {"patch": b.pipeline["patch"], "batch": 256}
    found.append(Method("teacher (PyTorch)", "teacher",
                        pipelined(torch_patch_model(teacher.patch_model(d.task).eval()), b.pipeline, **grid)))
    found.append(Method("student (PyTorch)", "student",
                        pipelined(torch_patch_model(student.patch_model(d.task)), b.pipeline, **grid)))
    for a in b.artifacts:
        if a["role"] != "patch_model" or a.get("theme") != d.task:
            continue
        try:
            runner = open_model(b, a["id"], threads=threads)
        except BackendError as exc:
            raise YganError(str(exc)) from None
        found.append(Method(a["id"], "artifact", pipelined(runner, b.pipeline), a))
    return found


def classical_methods(d: Degradation) -> list[Method]:
    """The degraded input as it is and the task's classical baselines: what the models must beat."""
    return [Method(INPUT_NAME[d.task], "input", lambda frame: frame),
            *(Method(name, "baseline", run) for name, run in baselines(d).items())]


def score(out: np.ndarray, truth: np.ndarray, task: str) -> dict[str, float]:
    s = {"psnr": metrics.psnr(out, truth, data_range=255.0), "ssim": metrics.ssim(out, truth)}
    if task == "colorize":
        s["colourfulness"] = colourfulness(out)
    return s


def mean_scores(per_image: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.mean([s[k] for s in per_image])) for k in per_image[0]}


def teacher_config(bundle: Path) -> Config:
    from ygan.bundle_paths import TEACHER_CKPT
    from ygan_mobile.checkpoint import load

    path = bundle / TEACHER_CKPT
    if not path.is_file():
        raise YganError(f"'{bundle}' has no {TEACHER_CKPT}: pass a bundle made by 'ygan build'")
    cfg = load(path.parent).config
    if cfg.data.degradation is None:
        raise YganError(f"'{bundle}' was built for art themes ({', '.join(cfg.data.themes)}), not a restoration task: "
                        f"measure its mosaic quality with 'ygan eval {bundle}' (no preset)")
    return cfg


def finite(x: float) -> float | None:
    return None if math.isinf(x) else x


@dataclass
class Evaluation:
    task: str
    degradation: dict
    images: list[str]
    rows: list[dict]  # one per method: name, kind, artifact id/precision/size, mean scores, per image
    outputs: dict[str, list[np.ndarray]]  # method name → restored frames (for the pictures)
    pairs: list[Pair]


def evaluate_bundle(bundle: Path, side: int = 256, threads: int = DEFAULT_THREADS,
                    log: Callable[[str], None] = lambda _: None) -> Evaluation:
    cfg = teacher_config(bundle)
    d = cfg.data.degradation
    pairs = heldout_pairs(cfg, side)
    if not pairs:
        raise YganError(f"the teacher's split of '{bundle}' has no held-out images to evaluate on")
    rows, outputs = [], {}
    for method in methods(bundle, d, threads):
        log(method.name)
        restored = [method.restore(p.degraded) for p in pairs]
        per_image = [score(out, p.clean, d.task) for out, p in zip(restored, pairs)]
        row = {"method": method.name, "kind": method.kind, **mean_scores(per_image),
               "per_image": {p.name: s for p, s in zip(pairs, per_image)}}
        if method.artifact:
            row.update(artifact=method.artifact["id"], format=method.artifact["format"],
                       precision=method.artifact["precision"], bytes=method.artifact["size"])
        rows.append(row)
        outputs[method.name] = restored
    if d.task == "colorize":
        truth = {"method": "ground truth", "kind": "truth", "psnr": math.inf, "ssim": 1.0,
                 "colourfulness": float(np.mean([colourfulness(p.clean) for p in pairs]))}
        rows.append(truth)
    student = next(r for r in rows if r["kind"] == "student")
    for r in rows:
        if r["kind"] == "artifact":
            r["psnr_vs_student"] = r["psnr"] - student["psnr"]
    return Evaluation(d.task, cfg.data.degradation_dict(), [p.name for p in pairs], rows, outputs, pairs)
