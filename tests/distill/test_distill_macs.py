"""The MAC counter against hand-computed numbers, and the student's cost against the teacher's."""

import pytest
import torch
from torch import nn

from distill.config import build
from distill.macs import count_macs, count_params, patch_cost
from distill.students import StudentModels
from distill.train import student_config
from ygan_mobile.config import Config, load_preset, teacher_tables
from ygan_mobile.models import YGan


def test_single_conv_macs_match_hand_count():
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    # output 8×8 pixels × 8 output channels × (3 input channels × 3×3 kernel)
    assert count_macs(conv, torch.zeros(1, 3, 16, 16)) == 8 * 8 * 8 * 3 * 3 * 3
    assert count_params(conv) == 8 * 3 * 3 * 3 + 8


def test_depthwise_transposed_and_linear_macs():
    depthwise = nn.Conv2d(16, 16, 3, padding=1, groups=16)
    assert count_macs(depthwise, torch.zeros(1, 16, 8, 8)) == 8 * 8 * 16 * 9
    seed = nn.ConvTranspose2d(128, 32, 4, 1, 0)  # DCGAN seed: a 1×1 map spread over 4×4
    assert count_macs(seed, torch.zeros(1, 128, 1, 1)) == 128 * 32 * 16
    assert count_macs(nn.Linear(512, 128), torch.zeros(1, 512)) == 512 * 128


@pytest.mark.parametrize("preset", ["quick", "full"])
def test_shipped_presets_give_a_student_at_least_ten_times_cheaper(preset):
    teacher_cfg = Config.from_dict(teacher_tables(load_preset(preset)))
    teacher = YGan.create(teacher_cfg.model, ["a"])
    student = StudentModels.create(student_config(teacher_cfg, build(preset, [])), ["a"])
    patch = teacher_cfg.model.patch
    t, s = patch_cost(teacher.patch_model("a"), patch), patch_cost(student.patch_model("a"), patch)
    assert t.macs >= 10 * s.macs
    assert t.params > s.params
