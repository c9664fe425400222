"""Distillation losses: shapes of the teacher features, the edge and colour terms, and the loss falls on a fixed batch."""

import torch
import torch.nn.functional as F

from distill.losses import Weights, colour_loss, distill_loss, edge_loss, make_adapters, teacher_features, teacher_targets
from distill.students import StudentConfig, StudentModels
from ygan_mobile.models import ModelConfig, YGan


def tiny_pair(themes=("a", "b")):
    torch.manual_seed(0)
    teacher = YGan.create(ModelConfig(16, 16, 8), list(themes))
    for m in teacher.modules().values():
        m.eval().requires_grad_(False)
    student = StudentModels.create(StudentConfig(16, 16, 4), list(themes))
    return teacher, student


def test_teacher_and_student_features_pair_up_by_resolution():
    teacher, student = tiny_pair()
    z = torch.randn(2, 16)
    _, t_feats = teacher_features(teacher.generators["a"], z)
    _, s_feats = student.generators["a"].features(z)
    assert [f.shape[-1] for f in t_feats] == [f.shape[-1] for f in s_feats] == [4, 8]
    adapters = make_adapters(student, teacher)["a"]
    assert [a(s).shape for a, s in zip(adapters, s_feats)] == [t.shape for t in t_feats]


def test_distill_loss_decreases_on_a_fixed_batch():
    teacher, student = tiny_pair()
    adapters = make_adapters(student, teacher)
    x = torch.rand(8, 3, 16, 16) * 2 - 1
    targets = teacher_targets(teacher, x, list(student.generators))
    params = [p for m in student.modules().values() for p in m.parameters()] + list(adapters.parameters())
    opt = torch.optim.Adam(params, lr=3e-3)
    weights = Weights(adversarial=0.1, edge=1.0, colour=1.0)
    losses = []
    for _ in range(60):
        loss, parts = distill_loss(student, adapters, teacher, x, weights, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert {"latent", "mse.a", "feature.b", "adversarial.a", "edge.b", "colour.a", "loss"} <= set(parts)
    assert losses[-1] < 0.5 * losses[0]
    assert all(p.grad is None for m in teacher.modules().values() for p in m.parameters())


def test_edge_loss_prices_a_blur_that_pixel_losses_barely_see():
    """A thin bright line and its 3×3 box blur: the blur's pixel L1 is small, its edge L1 is not,
    and a copy or a brightness shift (no change of edges) costs no edge loss at all."""
    sharp = torch.full((1, 3, 16, 16), -1.0)
    sharp[..., 8, :] = 1.0
    blurred = F.avg_pool2d(F.pad(sharp, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    assert edge_loss(sharp, sharp).item() == 0.0
    assert edge_loss(sharp + 0.2, sharp).item() < 1e-6
    pixel, edge = F.l1_loss(blurred, sharp).item(), edge_loss(blurred, sharp).item()
    assert edge > 0.1 and edge > pixel


def test_colour_loss_sees_a_change_of_hue_and_not_one_of_light():
    """A patch tinted red and the same patch tinted green: the same luminance change per pixel, opposite
    chroma. A grey shift (every channel alike) changes no opponent colour; the hue swap does."""
    torch.manual_seed(0)
    y = torch.rand(2, 3, 16, 16) * 2 - 1
    red, green = y.clone(), y.clone()
    red[:, 0] += 0.2
    green[:, 1] += 0.2
    assert colour_loss(y + 0.3, y, 4).item() < 1e-6
    assert abs(colour_loss(red, green, 4).item() - 0.2) < 1e-5  # R − G moves 0.4, (R + G)/2 − B does not: mean 0.2


def test_colour_loss_pool_decides_where_colour_may_move():
    """Red moved from the left half of a patch to its right half: 8-px blocks see it, the patch's mean
    colour (pool = the patch) does not, which leaves the student free to place colour inside a cell."""
    y = torch.zeros(1, 3, 16, 16)
    left, right = y.clone(), y.clone()
    left[:, 0, :, :8] += 0.4
    right[:, 0, :, 8:] += 0.4
    assert colour_loss(left, right, 16).item() < 1e-6
    assert abs(colour_loss(left, right, 8).item() - 0.3) < 1e-5  # R − G ±0.4 in every block, (R + G)/2 − B ±0.2
