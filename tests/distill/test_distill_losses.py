"""Distillation losses: shapes of the teacher features, the pixel, edge and colour terms, and the loss falls on a fixed batch."""

import pytest
import torch
import torch.nn.functional as F

from distill.config import DistillConfig
from distill.losses import (Weights, colour_loss, distill_loss, edge_loss, make_adapters, pixel_losses, teacher_features,
                            teacher_targets)
from ygan_mobile.errors import YganError
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


def _corrections(cast: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher corrections of two patches: none on the first, 0.1 on the second; the student adds
    `cast` to the first and gets the second's 0.1 − 0.02: (student, teacher)."""
    teacher = torch.stack([torch.zeros(3, 4, 4), torch.full((3, 4, 4), 0.1)])
    student = torch.stack([torch.full((3, 4, 4), cast), torch.full((3, 4, 4), 0.08)])
    return student, teacher


def test_pixel_losses_as_plain_means_and_relative_to_the_teachers_correction():
    student, teacher = _corrections(0.01)
    l1, mse = pixel_losses(student, teacher, "mean", 1e-4)
    assert l1.item() == pytest.approx((0.01 + 0.02) / 2) and mse.item() == pytest.approx((0.01**2 + 0.02**2) / 2)
    l1, mse = pixel_losses(student, teacher, "relative", 1e-4)
    assert mse.item() == pytest.approx((0.01**2 / 1e-4 + 0.02**2 / (0.1**2 + 1e-4)) / 2, rel=1e-5)
    assert l1.item() == pytest.approx((0.01 / 1e-2 + 0.02 / (0.1**2 + 1e-4) ** 0.5) / 2, rel=1e-5)


def test_a_cast_where_the_teacher_changes_nothing_costs_the_relative_form_more_than_a_miss_elsewhere():
    """One u8 level added where the teacher leaves the patch alone, against missing a fifth of a large
    correction: the plain means rank the cast as the smaller error, the relative form as the larger."""
    cast, _ = _corrections(2 / 255)
    teacher = _corrections(0.0)[1]
    miss = torch.stack([torch.zeros(3, 4, 4), torch.full((3, 4, 4), 0.08)])
    cast[1] = 0.1  # the large correction right
    for index in (0, 1):
        assert pixel_losses(cast, teacher, "mean", 3e-5)[index] < pixel_losses(miss, teacher, "mean", 3e-5)[index]
        assert pixel_losses(cast, teacher, "relative", 3e-5)[index] > pixel_losses(miss, teacher, "relative", 3e-5)[index]


@pytest.mark.parametrize("train", [{"pixel_form": "median"}, {"pixel_form": "relative", "pixel_floor": 0.0}])
def test_a_bad_pixel_form_or_floor_is_refused(train):
    with pytest.raises(YganError, match="pixel_form = .* must be one of mean, relative and pixel_floor"):
        DistillConfig.from_dict({"train": train})
    with pytest.raises(ValueError, match="'median' is not one of mean, relative"):
        pixel_losses(*_corrections(0.0), "median", 1e-3)


def test_the_paired_term_prices_the_restored_patch_against_its_clean_truth():
    """A residual student's paired part is the MSE of x + G′(E′(x)) against the clean patch: zero
    when the truth is what the student restores, the plain MSE of the difference otherwise."""
    torch.manual_seed(0)
    teacher = YGan.create(ModelConfig(16, 16, 8, residual=True), ["denoise"])
    for m in teacher.modules().values():
        m.eval().requires_grad_(False)
    student = StudentModels.create(StudentConfig(16, 16, 4, residual=True), ["denoise"]).eval()
    adapters = make_adapters(student, teacher)
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        restored = student.patch_model("denoise")(x)
    _, parts = distill_loss(student, adapters, teacher, x, Weights(paired=10.0), clean=restored)
    assert parts["paired.denoise"] == pytest.approx(0.0, abs=1e-12)
    off = restored + 0.1
    loss_on, parts = distill_loss(student, adapters, teacher, x, Weights(paired=10.0), clean=off)
    assert parts["paired.denoise"] == pytest.approx(0.01, rel=1e-4)
    loss_off, _ = distill_loss(student, adapters, teacher, x, Weights(), clean=off)
    assert loss_on.item() - loss_off.item() == pytest.approx(10 * 0.01, rel=1e-3)


def test_a_student_taught_only_by_the_truth_never_runs_the_teachers_generator():
    """paired + latent alone: the teacher's generators are not run, the total is exactly its two terms, and
    its gradient is the one the zero-weighted imitation terms left it before."""
    torch.manual_seed(0)
    teacher = YGan.create(ModelConfig(16, 16, 8, residual=True), ["denoise"])
    for m in teacher.modules().values():
        m.eval().requires_grad_(False)
    student = StudentModels.create(StudentConfig(16, 16, 4, residual=True), ["denoise"])
    adapters = make_adapters(student, teacher)
    x, clean = torch.rand(4, 3, 16, 16) * 2 - 1, torch.rand(4, 3, 16, 16) * 2 - 1
    truth_only = Weights(l1=0.0, mse=0.0, feature=0.0, latent=0.01, paired=100.0)
    assert not truth_only.imitates and Weights().imitates and Weights(l1=0, mse=0, feature=0, edge=0.1).imitates

    params = [p for m in student.modules().values() for p in m.parameters()]

    def gradient(w: Weights) -> tuple[float, dict, torch.Tensor]:
        for p in params:
            p.grad = None
        loss, parts = distill_loss(student, adapters, teacher, x, w, clean=clean)
        loss.backward()
        return loss.item(), parts, torch.cat([p.grad.flatten() for p in params if p.grad is not None])

    calls = []
    hook = teacher.generators["denoise"].register_forward_hook(lambda *_: calls.append(1))
    loss, parts, grad = gradient(truth_only)
    assert calls == [] and set(parts) == {"latent", "paired.denoise", "loss"}
    assert loss == pytest.approx(0.01 * parts["latent"] + 100 * parts["paired.denoise"], rel=1e-6)
    hook.remove()
    tiny = Weights(l1=1e-30, mse=0.0, feature=0.0, latent=0.01, paired=100.0)  # imitates, at no weight to speak of
    loss_before, parts_before, grad_before = gradient(tiny)
    assert "mse.denoise" in parts_before and loss_before == pytest.approx(loss, rel=1e-6)
    assert torch.allclose(grad, grad_before, rtol=1e-5, atol=1e-9)


def test_a_student_needs_a_pixel_term_of_the_teacher_or_of_the_truth():
    assert DistillConfig.from_dict({"train": {"l1": 0.0, "mse": 0.0, "paired": 100.0}}).train.paired == 100.0
    with pytest.raises(YganError, match="l1, mse or paired > 0"):
        DistillConfig.from_dict({"train": {"l1": 0.0, "mse": 0.0}})
