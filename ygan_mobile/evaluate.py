"""Held-out measurements of a yGAN: autoencoder PSNR, relative latent cycle error, critic gap, and
for a restoration task the PSNR of the restored and of the degraded patches against the clean ones."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Protocol

import torch

from ygan_mobile.data import PatchSplit
from ygan_mobile.models import YGan

if TYPE_CHECKING:
    from ygan_mobile.config import Config


class Data(Protocol):
    """What evaluate reads of train.Data, named here so that train imports this module and not the
    other way round."""

    a: PatchSplit
    b: dict[str, PatchSplit]
    paired: bool


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 2.0) -> float:
    """PSNR in dB (data range 2: tensors in [-1, 1]); the teacher side's one PSNR, for training and
    distillation. ygan eval and verify use the runtime's (reference_runtime.metrics), which the
    teacher and distill may not import."""
    mse = (a - b).double().pow(2).mean().item()
    return math.inf if mse == 0 else 10 * math.log10(data_range**2 / mse)


@torch.no_grad()
def evaluate(model: YGan, data: "Data", cfg: "Config") -> dict:
    """Measured on held-out patches only: held-out images never contribute training patches."""
    modes = {name: m.training for name, m in model.modules().items()}
    for m in model.modules().values():
        m.eval()
    n = cfg.train.eval_patches
    x = data.a.heldout.fixed(n)
    z = model.encoder(x)
    result = {"psnr_auto": psnr(model.decoder(z), x), "themes": {}}
    for theme, gen in model.generators.items():
        fake = model.restored(x, gen(z))
        cycle = ((z - model.encoder(fake)).norm(dim=1) / z.norm(dim=1).clamp_min(1e-12)).mean().item()
        y = data.b[theme].heldout.fixed(n)
        gap = (model.critics[theme](y).mean() - model.critics[theme](fake).mean()).item()
        result["themes"][theme] = {"cycle_rel": cycle, "critic_gap": gap}
        if data.paired:  # y is the clean original of x: restoration quality against ground truth
            result["themes"][theme].update(psnr_restored=psnr(fake, y), psnr_input=psnr(x, y))
    themes = result["themes"].values()
    result["cycle_rel"] = sum(t["cycle_rel"] for t in themes) / max(len(themes), 1)
    result["critic_gap"] = sum(t["critic_gap"] for t in themes) / max(len(themes), 1)
    for name, m in model.modules().items():
        m.train(modes[name])
    return result
