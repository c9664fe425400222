"""Stand-in for reference_runtime.backends/metrics until the runtime engineer's modules land.

Only onnxruntime and LiteRT, only what parity needs; removed once the real ones exist.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class _Ort:
    backend = "onnxruntime"

    def __init__(self, path: Path, threads: int):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.name = self.session.get_inputs()[0].name

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.name: x})[0]


class _Lite:
    backend = "litert"

    def __init__(self, path: Path, threads: int):
        from ai_edge_litert.interpreter import Interpreter

        self.interp = Interpreter(model_path=str(path), num_threads=threads)
        self.interp.allocate_tensors()
        self.i = self.interp.get_input_details()[0]
        self.o = self.interp.get_output_details()[0]

    def run(self, x: np.ndarray) -> np.ndarray:
        if x.ndim == 4:
            x = x.transpose(0, 2, 3, 1)
        if self.i["dtype"] != np.float32:
            scale, zero = self.i["quantization"]
            info = np.iinfo(self.i["dtype"])
            x = np.clip(np.round(x / scale + zero), info.min, info.max).astype(self.i["dtype"])
        self.interp.set_tensor(self.i["index"], np.ascontiguousarray(x))
        self.interp.invoke()
        y = self.interp.get_tensor(self.o["index"])
        if self.o["dtype"] != np.float32:
            scale, zero = self.o["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        return y.transpose(0, 3, 1, 2) if y.ndim == 4 else y


def open_artifact(bundle: Path, artifact: dict, threads: int = 2):
    path = Path(bundle) / artifact["path"]
    if artifact["format"] == "onnx":
        return _Ort(path, threads)
    if artifact["format"] == "tflite":
        return _Lite(path, threads)
    raise RuntimeError("Core ML needs macOS or the reference runtime's MIL interpreter")


def max_abs(a, b):
    return float(np.abs(np.asarray(a, np.float64) - b).max())


def mean_abs(a, b):
    return float(np.abs(np.asarray(a, np.float64) - b).mean())


def psnr(a, b, data_range=2.0):
    mse = float(np.mean((np.asarray(a, np.float64) - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(data_range**2 / mse)
