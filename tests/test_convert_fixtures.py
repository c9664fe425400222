"""Tiny networks shared by the convert tests (no tests here): small enough that a conversion takes seconds."""

from __future__ import annotations

import torch
from torch import nn

from convert.source import Networks
from distill.students import StudentConfig, StudentModels
from ygan_mobile.models import ModelConfig, YGan


def _randomise_batchnorm(module: nn.Module, seed: int) -> None:
    """Non-trivial running statistics, so BatchNorm folding is actually exercised."""
    g = torch.Generator().manual_seed(seed)
    for bn in module.modules():
        if isinstance(bn, nn.BatchNorm2d):
            bn.running_mean.copy_(torch.rand(bn.num_features, generator=g) - 0.5)
            bn.running_var.copy_(torch.rand(bn.num_features, generator=g) + 0.5)
            bn.weight.data.copy_(torch.rand(bn.num_features, generator=g) + 0.5)
            bn.bias.data.copy_(torch.rand(bn.num_features, generator=g) - 0.5)


def tiny_student(themes=("flowers",)) -> Networks:
    torch.manual_seed(0)
    models = StudentModels.create(StudentConfig(patch=16, latent=8, width=4, max_channels=8), list(themes))
    for i, module in enumerate(models.modules().values()):
        _randomise_batchnorm(module, i)
    models.eval()
    return Networks("student", 16, 8, models.encoder, dict(models.generators), "1" * 64, 0, 0.25)


def tiny_teacher_model(themes=("flowers",)) -> YGan:
    torch.manual_seed(0)
    model = YGan.create(ModelConfig(patch=8, latent=8, width=8), list(themes))
    for i, module in enumerate(model.modules().values()):
        _randomise_batchnorm(module, i)
        module.eval()
    return model


def tiny_teacher(themes=("flowers",)) -> Networks:
    model = tiny_teacher_model(themes)
    return Networks("teacher", 8, 8, model.encoder, dict(model.generators), "2" * 64, 0, 0.25)
