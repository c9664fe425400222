"""The restoration skip travels with the model: teacher checkpoint → student config and checkpoint →
convert's networks → the lean ONNX export, which maps the input patch to x + G′(E′(x)) clamped, or
with a smoothed skip (model.skip_sigma) to S(x) + G′(E′(x)) clamped, S the teacher's own Gaussian."""

from __future__ import annotations

import onnx
import onnxruntime as ort
import pytest
import torch

from convert.export_onnx import export
from convert.source import load_networks
from distill import checkpoint
from distill.config import DistillConfig
from distill.losses import make_adapters
from distill.students import StudentModels
from distill.train import student_config
from ygan_mobile import checkpoint as teacher_checkpoint
from ygan_mobile.config import Config, apply_overrides, load_preset, teacher_tables
from ygan_mobile.models import Smoothing, YGan

SMALL = ["model.patch=8", "model.latent=16", "model.width=8"]


def _saved_student(tmp_path, preset: str, overrides: list[str]):
    cfg = Config.from_dict(apply_overrides(teacher_tables(load_preset(preset)), SMALL + overrides))
    torch.manual_seed(0)
    teacher = YGan.create(cfg.model, list(cfg.data.themes))
    teacher_path = teacher_checkpoint.save(tmp_path / "teacher" / "checkpoint.safetensors", teacher, {}, 0, cfg, {})
    student = StudentModels.create(student_config(cfg, DistillConfig.from_dict({})), list(cfg.data.themes))
    student.train()
    with torch.no_grad():  # non-trivial BatchNorm statistics, so folding matters
        for _ in range(3):
            student.patch_model(cfg.data.themes[0])(torch.rand(4, 3, 8, 8) * 2 - 1)
    student.eval()
    opt = torch.optim.Adam(student.encoder.parameters())
    cost = {"teacher": {"macs": 1, "params": 1}, "student": {"macs": 1, "params": 1}, "mac_ratio": 1.0, "param_ratio": 1.0}
    path = checkpoint.save(tmp_path / "student", student, make_adapters(student, teacher), opt, 1,
                           DistillConfig.from_dict({}), cost, {"path": str(teacher_path), "step": 0, "config": cfg.to_dict()}, {})
    return cfg, teacher_path, student, path


@pytest.mark.parametrize("preset, overrides, residual, sigma", [
    ("superres2", [], True, 0.0),
    ("denoise", [], True, 3.0),
    ("quick", [], False, 0.0),
])
def test_the_skip_round_trips_from_the_teacher_to_the_onnx_patch_model(tmp_path, preset, overrides, residual, sigma):
    cfg, teacher_path, student, path = _saved_student(tmp_path, preset, overrides)
    theme = cfg.data.themes[0]
    assert load_networks(teacher_path).residual is residual
    net = load_networks(path)
    assert (student.cfg.residual, checkpoint.load(path).student.residual, net.residual) == (residual,) * 3
    assert (student.cfg.skip_sigma, checkpoint.load(path).student.skip_sigma) == (sigma, sigma)
    assert isinstance(net.colour, Smoothing) is bool(sigma) and isinstance(load_networks(teacher_path).colour, Smoothing) is bool(sigma)
    x = torch.rand(4, 3, 8, 8) * 2 - 1
    with torch.no_grad():
        generated = student.generators[theme](student.encoder(x))
        skip = Smoothing(8, sigma)(x) if sigma else x
        want = (skip + generated).clamp(-1, 1) if residual else generated
        assert torch.allclose(net.patch_model(theme)(x), want, atol=1e-6)
        if sigma:  # the smoothing is not the identity: the artifact must compute it
            assert (skip - x).abs().max() > 0.1
    exported = export(net.patch_model(theme), x, tmp_path / "patch_model.onnx", "patch model", "x", "y")
    graph = onnx.load(str(exported.path)).graph
    reads_input = [n.op_type for n in graph.node if "x" in n.input]
    assert ("Add" in reads_input) is (residual and not sigma)  # the plain skip is one Add on the input inside the artifact
    assert reads_input.count("Conv") == 1 + bool(sigma)  # the encoder's stem, and the smoothed skip's first depthwise Conv
    ops = [n.op_type for n in graph.node]
    assert ("Tanh" in ops) is not residual  # a correction is clamped, not squashed on int8's fixed tanh grid
    assert (ops[-1] == "Clip") is residual  # … and the sum is clamped to [-1, 1]
    session = ort.InferenceSession(str(exported.path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": x.numpy()})[0]
    assert abs(got - want.numpy()).max() < 1e-5


def test_the_paired_targets_are_the_clean_patches_of_the_distillation_inputs():
    """Batch k of paired_targets is the ground truth of batch k of load_inputs: for denoising their
    difference is the σ = 25 noise (0.196 on the [−1, 1] range, less what uint8 clipping cuts), and a
    batch of another step is no pair at all."""
    from distill.train import load_inputs, paired_targets
    from ygan_mobile.errors import YganError

    cfg = Config.from_dict(apply_overrides(teacher_tables(load_preset("denoise")), SMALL))
    noisy, clean = load_inputs(cfg).train, paired_targets(cfg).train
    assert 0.15 < (noisy.batch(3, 64) - clean.batch(3, 64)).std().item() < 0.2
    assert (noisy.batch(3, 64) - clean.batch(4, 64)).std().item() > 0.3
    art = Config.from_dict(apply_overrides(teacher_tables(load_preset("quick")), SMALL))
    with pytest.raises(YganError, match="paired needs a restoration teacher"):
        paired_targets(art)
