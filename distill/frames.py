"""Whole frames through the patch-render pipeline (DESIGN §4): the held-out test frame and timing.

Why frames and not only patches: the apps run the patch model inside the tile-and-blend pipeline
(DESIGN §4), where feathering averages overlapping patches; the frame PSNR is what a user sees, and
the frame time (tiling and blending included) is what the speed-up buys on a phone.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from ygan_mobile.render.torch_pipeline import render_frame


def square_frame(pixels: np.ndarray, size: int) -> np.ndarray:
    """Centre square crop resized to size×size (bilinear): uint8 H×W×3."""
    h, w = pixels.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = Image.fromarray(np.ascontiguousarray(pixels[top:top + side, left:left + side, :3]))
    return np.asarray(crop.resize((size, size), Image.BILINEAR), dtype=np.uint8)


def heldout_frame(data: Any, size: int) -> np.ndarray:
    """A size×size frame from the largest held-out source image, so the frame is never trained on."""
    images = data.heldout.images
    biggest = max(images, key=lambda im: im.pixels.shape[0] * im.pixels.shape[1])
    return square_frame(biggest.pixels, size)


def render(model: nn.Module, frame: np.ndarray, patch: int, stride: int, batch: int = 64) -> np.ndarray:
    """A uint8 frame through one theme's patch model with the torch render pipeline (feather blend),
    in chunks of `batch` patches (the artifact's fixed batch B on a phone)."""
    with torch.no_grad():
        return render_frame(frame, [model], patch=patch, stride=stride, batch=batch)


def time_pair(teacher: nn.Module, student: nn.Module, frame: np.ndarray, patch: int, stride: int,
              repeats: int) -> dict[str, float]:
    """Median seconds per frame for each model, interleaved in one run after one warm-up each, so
    machine noise hits both alike; the ratio is the number to compare, not the absolute times."""
    seconds: dict[str, list[float]] = {"teacher": [], "student": []}
    models = {"teacher": teacher, "student": student}
    for name, model in models.items():
        render(model, frame, patch, stride)
    for _ in range(repeats):
        for name, model in models.items():
            began = time.perf_counter()
            render(model, frame, patch, stride)
            seconds[name].append(time.perf_counter() - began)
    t, s = statistics.median(seconds["teacher"]), statistics.median(seconds["student"])
    return {"teacher_seconds": t, "student_seconds": s, "speedup": t / s, "repeats": repeats}
