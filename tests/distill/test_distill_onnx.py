"""The student exports to ONNX with a fixed batch using only mobile-safe ops, and runs the same."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from distill.students import StudentConfig, StudentModels

BATCH = 4
MOBILE_SAFE = {  # Clip: the clamp before tanh (distill/students.py LOGIT_BOUND), exported as ReLU6 is
               "Conv", "ConvTranspose", "Relu", "Clip", "Tanh", "Gemm", "MatMul", "Add", "Flatten", "Reshape",
               "Resize", "BatchNormalization", "Constant", "Identity", "Shape", "Gather", "Unsqueeze", "Concat"}


def export(module: torch.nn.Module, example: torch.Tensor, path) -> onnx.ModelProto:
    torch.onnx.export(module, (example,), str(path), input_names=["input"], output_names=["output"],
                      opset_version=17, dynamo=False)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    return model


@pytest.mark.parametrize("role", ["patch_model", "encoder", "generator"])
def test_student_exports_and_matches_onnxruntime(tmp_path, role):
    torch.manual_seed(0)
    student = StudentModels.create(StudentConfig(32, 64, 8), ["flowers"])
    student.train()
    for _ in range(3):  # give BatchNorm non-trivial running statistics
        student.patch_model("flowers")(torch.rand(BATCH, 3, 32, 32) * 2 - 1)
    student.eval()
    module = {"patch_model": student.patch_model("flowers"), "encoder": student.encoder,
              "generator": student.generators["flowers"]}[role]
    example = torch.randn(BATCH, 64) if role == "generator" else torch.rand(BATCH, 3, 32, 32) * 2 - 1
    model = export(module, example, tmp_path / f"{role}.onnx")
    assert {n.op_type for n in model.graph.node} <= MOBILE_SAFE
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims[0] == BATCH  # fixed batch, no symbolic dimension
    session = ort.InferenceSession(str(tmp_path / f"{role}.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": example.numpy()})[0]
    with torch.no_grad():
        want = module(example).numpy()
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
