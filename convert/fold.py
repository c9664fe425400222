"""Fold eval-mode BatchNorm into the preceding Conv2d / ConvTranspose2d before export.

Why in torch rather than trusting the exporter: the folded module is what ONNX, TFLite *and* Core ML
all receive, so every target sees the same weights, and the int8 quantisers calibrate one fused
conv instead of a conv plus a separate affine op. The fold is exact up to float rounding.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def _fold_pair(conv: nn.Conv2d | nn.ConvTranspose2d, bn: nn.BatchNorm2d) -> nn.Module:
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps) if bn.affine else 1.0 / torch.sqrt(bn.running_var + bn.eps)
    shift = (bn.bias.detach() if bn.affine else 0.0) - bn.running_mean * scale
    fused = copy.deepcopy(conv)
    w = conv.weight.detach()
    if isinstance(conv, nn.ConvTranspose2d):
        groups = conv.groups
        cin = w.shape[0]
        # weight is (Cin, Cout/groups, kh, kw); output channel g*Cout/groups + j
        w = w.view(groups, cin // groups, w.shape[1], *w.shape[2:])
        w = w * scale.view(groups, 1, -1, 1, 1)
        w = w.view(cin, -1, *w.shape[3:])
    else:
        w = w * scale.view(-1, 1, 1, 1)
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(bn.running_mean)
    fused.weight = nn.Parameter(w)
    fused.bias = nn.Parameter(bias * scale + shift)
    return fused


def fold_batchnorm(module: nn.Module) -> nn.Module:
    """A deep copy of `module` in eval mode with every Conv→BatchNorm pair inside a Sequential fused."""
    module = copy.deepcopy(module).eval()
    _fold_in_place(module)
    return module


def _fold_in_place(module: nn.Module) -> None:
    for child in module.children():
        _fold_in_place(child)
    if not isinstance(module, nn.Sequential):
        return
    names = list(module._modules)
    for first, second in zip(names, names[1:]):
        conv, bn = module._modules[first], module._modules[second]
        if isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats:
            module._modules[first] = _fold_pair(conv, bn)
            module._modules[second] = nn.Identity()
