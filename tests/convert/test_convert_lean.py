"""The student's export form (convert/lean.py) computes what the trained student computes."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from convert.export_onnx import export
from convert.fold import fold_batchnorm
from convert.lean import LeanEncoder, LeanGenerator, lean
from distill.students import StudentConfig, StudentModels
from ygan_mobile.models import PatchModel


def _student(depth: int = 1) -> StudentModels:
    torch.manual_seed(0)
    student = StudentModels.create(StudentConfig(32, 64, 8, depth=depth), ["flowers"])
    student.train()
    with torch.no_grad():
        for _ in range(3):  # non-trivial BatchNorm statistics, so the fold and the rewrite both matter
            student.generators["flowers"](student.encoder(torch.rand(4, 3, 32, 32) * 2 - 1))
    return student.eval()


@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("role", ["patch_model", "encoder", "generator"])
def test_export_form_is_the_same_function(role, depth):
    student = _student(depth)
    module = {"patch_model": PatchModel(student.encoder, student.generators["flowers"]), "encoder": student.encoder,
              "generator": student.generators["flowers"]}[role]
    folded = fold_batchnorm(module)
    lean_form = lean(folded)
    assert isinstance(lean_form, {"patch_model": PatchModel, "encoder": LeanEncoder, "generator": LeanGenerator}[role])
    x = torch.randn(4, 64) if role == "generator" else torch.rand(4, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        want, got = folded(x), lean_form(x)
    assert got.shape == want.shape
    assert (got - want).abs().max().item() < 1e-5


def test_the_clamp_before_tanh_survives_the_rewrite():
    """Logits pushed past ±LOGIT_BOUND (as trained students push white and black): the export form
    clamps them exactly where the student does, and the result differs from an unclamped tanh by
    less than half a u8 level."""
    from distill.students import LOGIT_BOUND

    student = _student()
    generator = student.generators["flowers"]
    with torch.no_grad():
        generator.out[0].bias.copy_(torch.tensor([3 * LOGIT_BOUND, -3 * LOGIT_BOUND, 0.0]))
    folded = fold_batchnorm(generator)
    z = torch.randn(8, 64)
    with torch.no_grad():
        want, got = folded(z), lean(folded)(z)
        h = folded.seed(z.view(8, 64, 1, 1))
        for up in folded.ups:
            h = up(h)
        logits = folded.out[0](h)
    assert (logits.abs() > LOGIT_BOUND).float().mean() > 0.3  # the clamp is doing work here
    assert (got - want).abs().max().item() < 1e-5
    assert (want - torch.tanh(logits)).abs().max().item() < 0.5 / 127.5


def test_onnx_depth_to_space_is_dcr_and_matches_torch(tmp_path):
    import onnx

    student = _student()
    module = PatchModel(student.encoder, student.generators["flowers"]).eval()
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    done = export(module, x, tmp_path / "pm.onnx", "patch_model", "x", "y")
    model = onnx.load(str(done.path))
    ops = [n.op_type for n in model.graph.node]
    assert "Resize" not in ops and "ConvTranspose" not in ops and "Gemm" not in ops
    modes = [a.s for n in model.graph.node if n.op_type == "DepthToSpace" for a in n.attribute if a.name == "mode"]
    assert modes == [b"DCR"] * 4  # seed, two ×2 levels, the RGB output
    got = ort.InferenceSession(str(done.path), providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    with torch.no_grad():
        want = module(x).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


def test_a_teacher_is_exported_as_it_is():
    from conftest import tiny_teacher_model

    teacher = tiny_teacher_model()
    module = PatchModel(teacher.encoder, teacher.generators[next(iter(teacher.generators))])
    assert lean(module) is module


def test_op_profile_refuses_a_missing_file_in_one_line(tmp_path, capsys):
    from convert.op_profile import main

    assert main([str(tmp_path / "none.tflite")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: no such .tflite file: {tmp_path / 'none.tflite'}"]
