"""Distillation losses: match the teacher end to end, in pixels, in edges, in generator features and in z.

Why features too (GAN Compression, Li et al. 2020): the pixel loss alone tells a small student only
*what* to output; matching the teacher's intermediate generator maps through learned 1×1 adapters
tells it *how*, level by level, which trains faster and keeps texture the pixel loss averages away.
Feature and latent terms are relative MSEs (divided by the teacher tensor's mean square) so one
weight works for every teacher width and depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ygan_mobile.config import TrainConfig
from ygan_mobile.losses import paired_loss
from ygan_mobile.models import YGan

from distill.config import PIXEL_FORMS, DistillTrain
from distill.students import StudentModels


@dataclass(frozen=True)
class Weights:
    l1: float = 1.0
    mse: float = 1.0
    feature: float = 0.5
    latent: float = 0.1
    adversarial: float = 0.0
    edge: float = 0.0
    colour: float = 0.0
    colour_pool: int = 4
    paired: float = 0.0
    paired_form: str = TrainConfig.paired_form  # the teacher's own form and floor: the student is priced as its teacher was
    paired_floor: float = TrainConfig.paired_floor
    pixel_form: str = DistillTrain.pixel_form
    pixel_floor: float = DistillTrain.pixel_floor

    @property
    def imitates(self) -> bool:
        """Whether any term compares the student with the teacher's output: a student taught only by the
        clean patches (and z) needs neither the teacher's generators nor its own pixel and feature terms."""
        return any(v > 0 for v in (self.l1, self.mse, self.feature, self.edge, self.colour, self.adversarial))


def teacher_features(generator: nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The teacher generator's output and its map after each ReLU (4×4 … P/2): one per level."""
    h = z.view(z.shape[0], -1, 1, 1)
    feats = []
    for layer in generator.net:
        h = layer(h)
        if isinstance(layer, nn.ReLU):
            feats.append(h)
    return h, feats


def teacher_channels(teacher: YGan) -> list[int]:
    return teacher.cfg.channels()[::-1]


def make_adapters(student: StudentModels, teacher: YGan) -> nn.ModuleDict:
    """Per theme, one 1×1 conv per level lifting the student's channels to the teacher's.
    Used only in training; they are not part of the student artifact."""
    s_ch, t_ch = student.cfg.channels()[::-1], teacher_channels(teacher)
    return nn.ModuleDict({
        theme: nn.ModuleList(nn.Conv2d(s, t, 1) for s, t in zip(s_ch, t_ch)) for theme in student.generators
    })


def relative_mse(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(student, teacher) / teacher.pow(2).mean().clamp_min(1e-8)


def feature_loss(student_feats: list[torch.Tensor], teacher_feats: list[torch.Tensor], adapters: nn.ModuleList) -> torch.Tensor:
    terms = [relative_mse(a(s), t) for a, s, t in zip(adapters, student_feats, teacher_feats, strict=True)]
    return torch.stack(terms).mean()


def pixel_losses(student_out: torch.Tensor, teacher_out: torch.Tensor, form: str, floor: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The L1 and mean squared differences of the outputs. "mean": over every element of the batch.
    "relative": per patch, over the size of the teacher's output there (its mean square plus `floor`
    for the squared term, the root of that for L1), then averaged over patches. With the skip the
    outputs are corrections: a patch the teacher leaves nearly alone has a tiny correction, so a
    plain mean barely prices a student that changes it (a colour cast on a smooth image the teacher
    restores), while relative to the teacher's correction that costs as much as missing a large one."""
    diff = (student_out - teacher_out).flatten(1)
    if form == "mean":
        return diff.abs().mean(), diff.pow(2).mean()
    if form != "relative":
        raise ValueError(f"pixel form {form!r} is not one of {', '.join(PIXEL_FORMS)}")
    size = teacher_out.detach().pow(2).flatten(1).mean(1) + floor
    return (diff.abs().mean(1) / size.sqrt()).mean(), (diff.pow(2).mean(1) / size).mean()


def image_gradients(y: torch.Tensor) -> torch.Tensor:
    """Horizontal and vertical neighbour differences, flattened per sample."""
    return torch.cat([(y[..., 1:, :] - y[..., :-1, :]).flatten(1), (y[..., :, 1:] - y[..., :, :-1]).flatten(1)], 1)


def edge_loss(student_out: torch.Tensor, teacher_out: torch.Tensor) -> torch.Tensor:
    """L1 between the outputs' neighbour differences. Pixel losses let a small student trade a
    teacher's thin edges (a galaxy's arms, a petal's rim) for a blur with nearly the same error; this
    term prices the lost contrast directly (docs/lab/2026-12-04-stamp-recipe.md, fifteenth round)."""
    return F.l1_loss(image_gradients(student_out), image_gradients(teacher_out))


def chroma(y: torch.Tensor, pool: int) -> torch.Tensor:
    """(N,2,P/pool,P/pool): the opponent colours R − G and (R + G)/2 − B of (N,3,P,P), averaged over
    pool×pool blocks."""
    r, g, b = y[:, 0], y[:, 1], y[:, 2]
    return F.avg_pool2d(torch.stack([r - g, (r + g) / 2 - b], 1), pool)


def colour_loss(student_out: torch.Tensor, teacher_out: torch.Tensor, pool: int) -> torch.Tensor:
    """L1 between the outputs' block chroma. The art teacher carries the photograph's colour inside each
    cell, a signal a tenth of the elements' light contrast: pixel losses let a small student trade it for
    luminance detail (the quick student kept colour r 0.85–0.90 of the teacher's 0.94–0.96), so it is
    priced on its own."""
    return F.l1_loss(chroma(student_out, pool), chroma(teacher_out, pool))


def critic_hinge(critic: nn.Module, student_out: torch.Tensor, teacher_out: torch.Tensor) -> torch.Tensor:
    """Penalise the student only where the teacher's critic scores it below the teacher's own output
    for the same input: the critic is frozen, so an unbounded −D(x) would let the student climb the
    critic's blind spots instead of staying close to the teacher."""
    with torch.no_grad():
        target = critic(teacher_out)
    return F.relu(target - critic(student_out)).mean()


@dataclass
class Targets:
    """The teacher's outputs for one batch: computed once, without gradients."""

    z: torch.Tensor
    outputs: dict[str, torch.Tensor]
    features: dict[str, list[torch.Tensor]]


@torch.no_grad()
def teacher_targets(teacher: YGan, x: torch.Tensor, themes: list[str]) -> Targets:
    z = teacher.encoder(x)
    outputs, features = {}, {}
    for theme in themes:
        outputs[theme], features[theme] = teacher_features(teacher.generators[theme], z)
    return Targets(z, outputs, features)


def distill_loss(student: StudentModels, adapters: nn.ModuleDict, teacher: YGan, x: torch.Tensor,
                 w: Weights, targets: Targets | None = None, clean: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss over every theme for the batch x, and its parts for the log; `clean` is x's ground
    truth for a restoration student's paired term."""
    themes = list(student.generators)
    targets = targets or teacher_targets(teacher, x, themes if w.imitates else [])
    z = student.encoder(x)
    latent = relative_mse(z, targets.z)
    total = w.latent * latent
    parts = {"latent": latent.item()}
    if w.imitates:
        # G′ draws the teacher's patch (its G and its colour path) minus what the student's own colour path adds
        shift = ((teacher.colour(x) if teacher.colour is not None else 0.0)
                 - (student.colour(x) if student.colour is not None else 0.0))
    for theme in themes:
        y, feats = student.generators[theme].features(z)
        if w.paired > 0:
            paired = paired_loss(student.patch_output(x, y), clean, x, w.paired_form, w.paired_floor)
            total = total + w.paired * paired
            parts[f"paired.{theme}"] = paired.item()
        if not w.imitates:
            continue
        y_t = targets.outputs[theme] + shift
        l1, mse = pixel_losses(y, y_t, w.pixel_form, w.pixel_floor)
        feat = feature_loss(feats, targets.features[theme], adapters[theme])
        total = total + w.l1 * l1 + w.mse * mse + w.feature * feat
        parts[f"mse.{theme}"] = mse.item()
        parts[f"feature.{theme}"] = feat.item()
        if w.edge > 0:
            edge = edge_loss(y, y_t)
            total = total + w.edge * edge
            parts[f"edge.{theme}"] = edge.item()
        if w.colour > 0:
            colour = colour_loss(y, y_t, w.colour_pool)
            total = total + w.colour * colour
            parts[f"colour.{theme}"] = colour.item()
        if w.adversarial > 0:
            adv = critic_hinge(teacher.critics[theme], student.patch_output(x, y), teacher.restored(x, targets.outputs[theme]))
            total = total + w.adversarial * adv
            parts[f"adversarial.{theme}"] = adv.item()
    parts["loss"] = total.item()
    return total, parts
