"""distill/evaluate.py: what the distillation's own measurement says about a restoration student."""

from __future__ import annotations

import math

import pytest
import torch

from distill.evaluate import restoration_gains
from distill.students import StudentConfig, StudentModels
from ygan_mobile.config import ModelConfig
from ygan_mobile.evaluate import psnr
from ygan_mobile.models import YGan


def test_the_restoration_gains_are_each_models_db_over_the_input_against_the_truth():
    """A student whose generator draws nothing gives back its input: 0 dB over it, while the teacher's gain is
    what its own output scores against the truth."""
    torch.manual_seed(0)
    teacher = YGan.create(ModelConfig(8, 16, 8, residual=True), ["superres"])
    student = StudentModels.create(StudentConfig(8, 16, 4, residual=True), ["superres"]).eval()
    x = torch.rand(16, 3, 8, 8) * 1.6 - 0.8
    clean = x + 0.1
    with torch.no_grad():
        for p in student.generators["superres"].parameters():
            p.zero_()
        for p in teacher.generators["superres"].parameters():  # its last layer starts at zero: give it a correction
            p.add_(torch.randn_like(p) * 0.05)
        teacher_out = teacher.patch_model("superres").eval()(x)
    gains = restoration_gains(teacher, student, x, clean)
    assert gains["input_psnr"] == pytest.approx(20 * math.log10(2 / 0.1), rel=1e-6)
    assert gains["student_gain"] == {"superres": pytest.approx(0.0, abs=1e-9)}
    assert gains["teacher_gain"]["superres"] == pytest.approx(psnr(teacher_out, clean) - gains["input_psnr"], rel=1e-9)
    assert abs(gains["teacher_gain"]["superres"]) > 0.01
