"""A network with an op a requested target can't take fails in seconds with one line naming both."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from convert.bundle import convert
from convert.options import Options
from convert.source import Networks
from ygan_mobile.errors import YganError
from ygan_mobile.models import Generator, ModelConfig

CFG = ModelConfig(patch=8, latent=8, width=8)


class InstanceNormEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1), nn.InstanceNorm2d(8), nn.ReLU())
        self.head = nn.Linear(8 * 16, CFG.latent)

    def forward(self, x):
        return self.head(self.net(x).flatten(1))


class GridSampleEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(3 * 64, CFG.latent)

    def forward(self, x):
        grid = torch.zeros(x.shape[0], 8, 8, 2)
        return self.head(nn.functional.grid_sample(x, grid, align_corners=False).flatten(1))


class FftEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(3 * 8 * 5, CFG.latent)

    def forward(self, x):
        return self.head(torch.fft.rfft2(x).abs().flatten(1))


def _networks(encoder: nn.Module) -> Networks:
    return Networks("teacher", CFG.patch, CFG.latent, encoder.eval(), {"flowers": Generator(CFG).eval()}, "0" * 64, 0, 0.25)


@pytest.mark.parametrize("encoder, op, targets, precisions, where", [
    (InstanceNormEncoder, "InstanceNormalization", ["onnx", "tflite"], ["fp32", "int8-full"], "tflite int8"),
    (GridSampleEncoder, "GridSample", ["onnx", "tflite"], None, "target tflite"),
    (FftEncoder, "DFT", ["onnx", "coreml"], None, "target coreml"),
])
def test_unsupported_op_names_op_and_target(tmp_path, encoder, op, targets, precisions, where):
    out = tmp_path / "bundle"
    with pytest.raises(YganError) as err:
        convert(_networks(encoder()), out, Options(targets=targets, precisions=precisions, batch=2))
    message = str(err.value)
    assert op in message and where in message and "\n" not in message
    assert not out.exists() or not (out / "manifest.json").exists()
    assert not list(tmp_path.glob(".bundle.convert-*")), "staging directory left behind"


def test_instance_norm_is_fine_for_float_tflite_check_only():
    import onnx

    from convert import opsupport
    from convert.export_onnx import export

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        exported = export(InstanceNormEncoder().eval(), torch.zeros(2, 3, 8, 8), Path(tmp) / "e.onnx", "encoder", "x", "z")
        model = onnx.load(str(exported.path))
    opsupport.check(model, "encoder", opsupport.targets_for(["onnx", "tflite", "coreml"], ["fp32", "fp16"]))
    with pytest.raises(YganError, match="InstanceNormalization"):
        opsupport.check(model, "encoder", opsupport.targets_for(["tflite"], ["int8-dynamic"]))


def test_custom_domain_refused_for_onnx():
    import onnx
    from onnx import helper

    from convert import opsupport

    node = helper.make_node("Frobnicate", ["x"], ["y"], domain="com.example")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])])
    with pytest.raises(YganError, match="com.example::Frobnicate which target onnx"):
        opsupport.check(helper.make_model(graph), "encoder", ["onnx"])
