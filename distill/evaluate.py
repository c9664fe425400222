"""How close the student is to the teacher, and how much faster: patch PSNR, frame PSNR, timing.

Everything is measured on held-out domain-A data (never trained on by teacher or student) and with
both networks in eval mode, i.e. as they ship.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from ygan_mobile.atomic import atomic_path
from ygan_mobile.evaluate import psnr
from ygan_mobile.models import YGan
from ygan_mobile.render.torch_pipeline import default_stride, to_u8

from distill import frames
from distill.config import DistillConfig
from distill.students import StudentModels


@torch.no_grad()
def patch_psnr(teacher: YGan, student: StudentModels, x: torch.Tensor) -> dict[str, float]:
    """Per theme, PSNR (data range 2) of G′(E′(x)) against G(E(x))."""
    return {theme: psnr(student.patch_model(theme)(x), teacher.patch_model(theme)(x)) for theme in student.generators}


@torch.no_grad()
def restoration_gains(teacher: YGan, student: StudentModels, x: torch.Tensor, clean: torch.Tensor) -> dict[str, Any]:
    """Held-out patches of a restoration task against their clean truth: the degraded input's PSNR and, per
    theme, the dB the teacher and the student add to it. Imitating the teacher, a student that gives
    back its input still scores a high patch PSNR where the teacher's corrections are small; against the
    truth its gain is 0."""
    base = psnr(x, clean)
    return {"input_psnr": base,
            "teacher_gain": {t: psnr(teacher.patch_model(t)(x), clean) - base for t in student.generators},
            "student_gain": {t: psnr(student.patch_model(t)(x), clean) - base for t in student.generators}}


def _sheet(columns: list[tuple[str, np.ndarray]], scale: int) -> Image.Image:
    """Columns of uint8 tiles (N,H,W,3) side by side under a title each."""
    n, h, w = columns[0][1].shape[:3]
    h, w, gap, header = h * scale, w * scale, 4, 18
    sheet = Image.new("RGB", (len(columns) * (w + gap) + gap, header + n * (h + gap) + gap), (30, 30, 30))
    draw = ImageDraw.Draw(sheet)
    for c, (title, tiles) in enumerate(columns):
        left = gap + c * (w + gap)
        draw.text((left, 3), title, fill=(230, 230, 230))
        for r, tile in enumerate(tiles):
            sheet.paste(Image.fromarray(tile).resize((w, h), Image.NEAREST), (left, header + gap + r * (h + gap)))
    return sheet


def _save_png(image: Image.Image, png: Path) -> None:
    with atomic_path(png) as tmp:
        image.save(tmp, format="PNG")


@torch.no_grad()
def write_patch_sheet(teacher: YGan, student: StudentModels, theme: str, x: torch.Tensor, png: Path) -> None:
    """Held-out patches, one per row: input | teacher | student."""
    cols = [("input", x), ("teacher", teacher.patch_model(theme)(x)), ("student", student.patch_model(theme)(x))]
    _save_png(_sheet([(t, to_u8(v)) for t, v in cols], scale=max(1, 96 // x.shape[-1])), png)


def write_frame_sheet(frame: np.ndarray, teacher_out: np.ndarray, student_out: np.ndarray, png: Path) -> None:
    """One frame: input | teacher render | student render."""
    cols = [("input", frame[None]), ("teacher", teacher_out[None]), ("student", student_out[None])]
    _save_png(_sheet(cols, scale=1), png)


def evaluate(teacher: YGan, student: StudentModels, data: Any, cfg: DistillConfig, out: Path,
             clean: Any = None) -> dict[str, Any]:
    """Patch PSNR per theme, frame PSNR per theme through the render pipeline, the frame-time
    ratio, and the side-by-side pictures in `out`; with `clean` (a restoration task's clean split, drawn
    like `data`) also each model's gain over the input on the held-out patches."""
    student.eval()
    x = data.heldout.fixed(cfg.train.eval_patches)
    patches = patch_psnr(teacher, student, x)
    gains = {"restoration": restoration_gains(teacher, student, x, clean.heldout.fixed(cfg.train.eval_patches))} if clean is not None else {}
    shown = x[: cfg.eval.sample_patches]
    for theme in student.generators:
        write_patch_sheet(teacher, student, theme, shown, out / f"patches_{theme}.png")

    frame = frames.heldout_frame(data, cfg.eval.frame)
    patch = student.cfg.patch
    stride = cfg.eval.stride or default_stride(patch)
    frame_psnr = {}
    for theme in student.generators:
        t_img = frames.render(teacher.patch_model(theme), frame, patch, stride)
        s_img = frames.render(student.patch_model(theme), frame, patch, stride)
        frame_psnr[theme] = psnr(torch.from_numpy(s_img).double(), torch.from_numpy(t_img).double(), data_range=255.0)
        write_frame_sheet(frame, t_img, s_img, out / f"side_by_side_{theme}.png")
    theme = next(iter(student.generators))
    timing = frames.time_pair(teacher.patch_model(theme), student.patch_model(theme), frame, patch, stride,
                              cfg.eval.timing_repeats)
    return {
        "patch_psnr": patches,
        "patch_psnr_min": min(patches.values()),
        "frame_psnr": frame_psnr,
        "frame_psnr_min": min(frame_psnr.values()),
        "frame": {"size": cfg.eval.frame, "stride": stride, "patch": patch},
        "timing": timing,
        **gains,
    }
