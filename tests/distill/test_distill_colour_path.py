"""An art student's fixed colour path (ygan_mobile.models.ColourPath): the student's generator learns the
teacher's patch minus it, and the path survives the checkpoint and the ONNX export."""

from __future__ import annotations

import onnx
import onnxruntime as ort
import pytest
import torch

from convert.export_onnx import export
from convert.source import load_networks
from distill import checkpoint
from distill.config import DistillConfig
from distill.losses import Weights, distill_loss, make_adapters, pixel_losses, teacher_targets
from distill.students import StudentConfig, StudentModels
from distill.train import student_config
from ygan_mobile import checkpoint as teacher_checkpoint
from ygan_mobile.config import Config, apply_overrides, load_preset, teacher_tables
from ygan_mobile.errors import YganError
from ygan_mobile.models import ModelConfig, YGan


def test_the_student_generator_learns_the_teacher_minus_the_path():
    torch.manual_seed(0)
    teacher = YGan.create(ModelConfig(16, 16, 8), ["a"])
    for m in teacher.modules().values():
        m.eval().requires_grad_(False)
    student = StudentModels.create(StudentConfig(16, 16, 4, colour_block=2), ["a"])
    assert not any(n.startswith("colour") for n in student.modules())  # nothing to learn or to save
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    targets = teacher_targets(teacher, x, ["a"])
    w = Weights(l1=0.0, mse=1.0, feature=0.0, latent=0.0)
    _, parts = distill_loss(student, make_adapters(student, teacher), teacher, x, w, targets)
    y = student.generators["a"](student.encoder(x))
    _, want = pixel_losses(y, targets.outputs["a"] - student.colour(x), "mean", 1e-3)
    assert parts["mse.a"] == pytest.approx(want.item(), rel=1e-5)
    student.eval()
    with torch.no_grad():
        out = student.patch_model("a")(x)
        assert torch.equal(out, (student.generators["a"](student.encoder(x)) + student.colour(x)).clamp(-1, 1))


def test_a_teacher_colour_path_is_part_of_the_students_target():
    torch.manual_seed(0)
    teacher = YGan.create(ModelConfig(16, 16, 8, colour_block=2), ["a"])
    for m in teacher.modules().values():
        m.eval().requires_grad_(False)
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    targets = teacher_targets(teacher, x, ["a"])
    w = Weights(l1=0.0, mse=1.0, feature=0.0, latent=0.0)
    for block, shift in ((0, teacher.colour(x)), (2, 0.0)):  # the same path on both sides: G′ learns G
        student = StudentModels.create(StudentConfig(16, 16, 4, colour_block=block), ["a"])
        _, parts = distill_loss(student, make_adapters(student, teacher), teacher, x, w, targets)
        y = student.generators["a"](student.encoder(x))
        _, want = pixel_losses(y, targets.outputs["a"] + shift, "mean", 1e-3)
        assert parts["mse.a"] == pytest.approx(want.item(), rel=1e-5)


def test_colour_block_is_refused_when_negative_not_dividing_the_patch_or_beside_a_restoration_skip():
    with pytest.raises(YganError, match="colour_block"):
        DistillConfig.from_dict({"student": {"colour_block": -1}})
    restoration = Config.from_dict(apply_overrides(teacher_tables(load_preset("superres2")), ["model.patch=8"]))
    with pytest.raises(YganError, match="colour_block"):
        student_config(restoration, DistillConfig.from_dict({"student": {"colour_block": 2}}))
    art = Config.from_dict(apply_overrides(teacher_tables(load_preset("quick")), ["model.patch=8"]))
    with pytest.raises(YganError, match=r"colour_block = 16 must divide the teacher's patch \(8\)"):
        student_config(art, DistillConfig.from_dict({"student": {"colour_block": 16}}))


def test_the_path_round_trips_from_the_checkpoint_to_the_onnx_patch_model(tmp_path):
    cfg = Config.from_dict(apply_overrides(teacher_tables(load_preset("quick")), ["model.patch=8", "model.latent=16", "model.width=8"]))
    torch.manual_seed(0)
    teacher = YGan.create(cfg.model, list(cfg.data.themes))
    teacher_path = teacher_checkpoint.save(tmp_path / "teacher" / "checkpoint.safetensors", teacher, {}, 0, cfg, {})
    dcfg = DistillConfig.from_dict({"student": {"colour_block": 4}})
    student = StudentModels.create(student_config(cfg, dcfg), list(cfg.data.themes))
    student.train()
    with torch.no_grad():  # non-trivial BatchNorm statistics, so folding matters
        for _ in range(3):
            student.patch_model("flowers")(torch.rand(4, 3, 8, 8) * 2 - 1)
    student.eval()
    cost = {"teacher": {"macs": 1, "params": 1}, "student": {"macs": 1, "params": 1}, "mac_ratio": 1.0, "param_ratio": 1.0}
    path = checkpoint.save(tmp_path / "student", student, make_adapters(student, teacher), torch.optim.Adam(student.encoder.parameters()),
                           1, dcfg, cost, {"path": str(teacher_path), "step": 0, "config": cfg.to_dict()}, {})
    net = load_networks(path)
    assert checkpoint.load(path).student.colour_block == 4 and net.colour is not None
    x = torch.rand(4, 3, 8, 8) * 2 - 1
    x[:, 0] = 0.9  # a red cast the path must carry
    with torch.no_grad():
        want = student.patch_model("flowers")(x)
        assert torch.allclose(net.patch_model("flowers")(x), want, atol=1e-6)
    exported = export(net.patch_model("flowers"), x, tmp_path / "patch_model.onnx", "patch model", "x", "y")
    graph = onnx.load(str(exported.path)).graph
    ops = [n.op_type for n in graph.node]
    assert ops[-1] == "Clip" and "Resize" not in ops  # G′ + the path, clamped; the path's upsampling as DepthToSpace
    modes = [a.s for n in graph.node if n.op_type == "DepthToSpace" for a in n.attribute if a.name == "mode"]
    assert modes == [b"DCR"] * 3  # an 8-px generator's seed and output, and the colour path's
    got = ort.InferenceSession(str(exported.path), providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    assert abs(got - want.numpy()).max() < 1e-5
