"""The int8 QDQ file computes its own graph on every CPU (convert/onnx_quant.py): onnxruntime's fused
integer kernels give what the unfused QuantizeLinear → float op → DequantizeLinear graph gives. On an
x86 CPU without VNNI, int8 weights (U8S8) saturate the kernels' 16-bit pair sums: on an AVX2-only AMD
EPYC a full-bright patch's 7.17 came out 3.67 (range 14.4); with uint8 weights the two are identical."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from convert import onnx_quant


def _loud_graph() -> onnx.ModelProto:
    """x (N,8,4,4) in [0, 1] → 1×1 Conv with every weight at +0.9 or −0.9 → y: the products of bright
    inputs and full-scale weights are as large as uint8 × int8 allows, in pairs of equal sign."""
    w = np.full((2, 8, 1, 1), 0.9, np.float32)
    w[1] *= -1
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"])], "loud",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 8, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2, 4, 4])],
                              [numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(path, x: np.ndarray, fused: bool) -> np.ndarray:
    options = ort.SessionOptions()
    if not fused:
        options.add_session_config_entry("session.disable_quant_qdq", "1")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]).run(["y"], {"x": x})[0]


def test_the_fused_int8_kernels_compute_the_unfused_graph(tmp_path):
    source = tmp_path / "loud.onnx"
    onnx.save(_loud_graph(), str(source))
    x = np.random.default_rng(0).uniform(0.0, 1.0, (16, 8, 4, 4)).astype(np.float32)
    x[:8] = 1.0  # full-bright patches: the largest products
    quantised = onnx_quant.quantize(source, tmp_path / "loud.int8.onnx", "x", x, 16, "loud")
    fused, unfused = _run(quantised, x, True), _run(quantised, x, False)
    step = float(np.ptp(unfused)) / 255  # one output level
    assert np.abs(fused - unfused).max() <= 1.01 * step, np.abs(fused - unfused).max()
    assert np.abs(unfused - 0.9 * x.sum(axis=1, keepdims=True) * np.array([1, -1]).reshape(1, 2, 1, 1)).max() < 3 * step
