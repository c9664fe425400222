"""ONNX artifacts through onnxruntime's CPU provider."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reference_runtime.backends import BackendError, BackendUnavailable, CallableRunner, check_input, dequantise, from_layout, quantise, to_layout


class OnnxRunner(CallableRunner):
    backend = "onnxruntime"

    def __init__(self, path: Path, artifact: dict, threads: int):
        try:
            import onnxruntime as ort
        except ImportError:
            raise BackendUnavailable("no onnxruntime: pip install onnxruntime") from None

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise BackendError(f"{artifact['id']}: onnxruntime cannot load it: {str(exc).splitlines()[0]}") from None
        self.artifact = artifact
        self.input, self.output = artifact["inputs"][0], artifact["outputs"][0]

    def run(self, x: np.ndarray) -> np.ndarray:
        check_input(self.artifact, x)
        layout = self.artifact["layout"]
        return from_layout(self.run_native(to_layout(x, layout)), layout)

    def run_native(self, x: np.ndarray) -> np.ndarray:
        """Float32 in and out, in the artifact's own layout."""
        y = self.session.run([self.output["name"]], {self.input["name"]: quantise(x, self.input)})[0]
        return dequantise(y, self.output)
