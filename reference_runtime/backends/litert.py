"""TFLite artifacts through LiteRT's Interpreter (XNNPACK on the CPU, as on a phone without a delegate).

`ai_edge_litert` is the maintained successor of `tflite_runtime` with the same API; the latter is
used only where the former is not installed. Tensors are taken by index (onnx2tf names them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reference_runtime.backends import BackendError, check_input, dequantise, from_layout, quantise, to_layout


def interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise BackendError("no TFLite interpreter: pip install ai-edge-litert") from None
    return Interpreter


class LiteRunner:
    backend = "litert"

    def __init__(self, path: Path, artifact: dict, threads: int):
        try:
            self.interp = interpreter_class()(model_path=str(path), num_threads=threads)
            self.interp.allocate_tensors()
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"{artifact['id']}: LiteRT cannot load it: {str(exc).splitlines()[0]}") from None
        self.artifact = artifact
        self.input, self.output = artifact["inputs"][0], artifact["outputs"][0]
        self.i, self.o = self.interp.get_input_details()[0], self.interp.get_output_details()[0]
        declared = tuple(int(d) for d in self.i["shape"])
        if declared != tuple(self.input["shape"]) or np.dtype(self.i["dtype"]) != np.dtype(self.input["dtype"]):
            raise BackendError(f"{artifact['id']}: the manifest says input {tuple(self.input['shape'])} "
                               f"{self.input['dtype']} ({artifact['layout']}), the file has {declared} "
                               f"{np.dtype(self.i['dtype']).name}: the manifest does not describe this file")

    def run(self, x: np.ndarray) -> np.ndarray:
        check_input(self.artifact, x)
        layout = self.artifact["layout"]
        return from_layout(self.run_native(to_layout(x, layout)), layout)

    def run_native(self, x: np.ndarray) -> np.ndarray:
        """Float32 in and out, in the artifact's own layout (NHWC): what an app feeds the interpreter."""
        self.interp.set_tensor(self.i["index"], quantise(x, self.input))
        self.interp.invoke()
        return dequantise(self.interp.get_tensor(self.o["index"]), self.output)
