"""int8 calibration covers both ends of the pixel range (convert/calibration.py, with_negatives): a graph
whose activations grow with brightness, calibrated on dark train patches alone, clips bright held-out
patches — the seed-1 `quick` skull student's failure — and the train patches' negatives restore them."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from convert import onnx_quant
from convert.calibration import with_negatives
from convert.samples import embedded_samples
from conftest import tiny_student


def _brightness_graph() -> onnx.ModelProto:
    """x (N,3,8,8) → 1×1 Conv to (mean x, −mean x) → Relu → 1×1 Conv (1, −1) → y = mean x: the first
    ReLU channel reaches only what the brightest calibration patch reaches."""
    third = np.float32(1 / 3)
    wa = np.array([[third] * 3, [-third] * 3], np.float32).reshape(2, 3, 1, 1)
    wb = np.array([1, -1], np.float32).reshape(1, 2, 1, 1)
    nodes = [helper.make_node("Conv", ["x", "wa"], ["a"]), helper.make_node("Relu", ["a"], ["r"]),
             helper.make_node("Conv", ["r", "wb"], ["y"])]
    graph = helper.make_graph(nodes, "brightness", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1, 8, 8])],
                              [numpy_helper.from_array(wa, "wa"), numpy_helper.from_array(wb, "wb")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _patches(n: int, low: float, high: float, seed: int) -> np.ndarray:
    """Textured patches whose pixels lie in [low, high]."""
    return np.random.default_rng(seed).uniform(low, high, (n, 3, 8, 8)).astype(np.float32)


def _psnr(model_path, x: np.ndarray, ref: np.ndarray) -> float:
    y = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"]).run(["y"], {"x": x})[0]
    return float(10 * np.log10(4.0 / np.mean((y - ref) ** 2)))


def test_negatives_of_dark_train_patches_calibrate_bright_held_out_ones(tmp_path):
    source = tmp_path / "brightness.onnx"
    onnx.save(_brightness_graph(), str(source))
    train = _patches(64, -1.0, 0.2, seed=0)  # a train split without a bright photograph
    bright = _patches(32, 0.5, 1.0, seed=1)  # a held-out one with
    ref = bright.mean(axis=1, keepdims=True)
    scores = {}
    for name, calibration in (("train", train), ("with negatives", with_negatives(train))):
        quantised = onnx_quant.quantize(source, tmp_path / f"{name}.int8.onnx", "x", calibration, 16, name)
        scores[name] = _psnr(quantised, bright, ref)
    assert scores["train"] < 25.0, scores  # clipped at the train patches' brightest (measured 10.6 dB)
    assert scores["with negatives"] > 40.0, scores  # measured 51.2 dB


def test_embedded_calibration_is_the_train_patches_then_their_negatives():
    samples = embedded_samples(tiny_student(), 8, 4)
    assert samples.calibration.shape == (16, 3, 16, 16) and samples.calibration.dtype == np.float32
    np.testing.assert_array_equal(samples.calibration[8:], -samples.calibration[:8])
    assert samples.calibration[:8].min() >= -1.0 and samples.calibration[:8].max() <= 1.0
