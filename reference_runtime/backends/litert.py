"""TFLite artifacts through LiteRT's Interpreter (XNNPACK on the CPU, as on a phone without a delegate).

`ai_edge_litert` is the maintained successor of `tflite_runtime` with the same API; the latter is
used only where the former is not installed. Tensors are taken by index (onnx2tf names them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reference_runtime.backends import (BackendError, BackendUnavailable, CallableRunner, byte_tables, check_input,
                                        dequantise_into, from_layout, quantise_into, to_layout)
from reference_runtime.pipeline import IntegerModel


def interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise BackendUnavailable("no TFLite interpreter: pip install ai-edge-litert") from None
    return Interpreter


class LiteRunner(CallableRunner):
    backend = "litert"

    def __init__(self, path: Path, artifact: dict, threads: int):
        try:
            self.interp = interpreter_class()(model_path=str(path), num_threads=threads)
            self.interp.allocate_tensors()
        except BackendUnavailable:
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
        self._scratch = None if self.input["dtype"] == "float32" else np.empty(declared, np.float32)  # quantising it
        self._y = np.empty(tuple(int(d) for d in self.o["shape"]), np.float32)
        self._q = np.empty(self._y.shape, self.o["dtype"])
        self._integer: IntegerModel | None | bool = False  # False: not built yet

    def run(self, x: np.ndarray) -> np.ndarray:
        check_input(self.artifact, x)
        layout = self.artifact["layout"]
        return np.array(from_layout(self.run_native(to_layout(x, layout)), layout))

    def run_native(self, x: np.ndarray) -> np.ndarray:
        """Float32 in and out, in the artifact's own layout (NHWC): what an app feeds the interpreter.

        Writes straight into the interpreter's input and returns the runner's own output buffer,
        overwritten by the next call: a frame is many calls, and fresh arrays for each cost more
        than the copies they would save (tensor views are dropped before `invoke`, as LiteRT asks)."""
        quantise_into(x, self.input, self.interp.tensor(self.i["index"])(), self._scratch)
        self.interp.invoke()
        dequantise_into(self.interp.tensor(self.o["index"])(), self.output, self._y)
        return self._y

    def run_integer(self, q: np.ndarray) -> np.ndarray:
        """The artifact's own integer input in, its integer output out (the runner's buffer, overwritten
        by the next call): the interpreter alone, for byte-fed pipelines."""
        np.copyto(self.interp.tensor(self.i["index"])(), q, casting="no")
        self.interp.invoke()
        np.copyto(self._q, self.interp.tensor(self.o["index"])())
        return self._q

    def integer_model(self) -> IntegerModel | None:
        """This artifact as a byte-fed patch model, or None unless it is an image-to-image model with
        one-byte integer input and output in NHWC (a full-integer patch model).

        Built once per runner: its two-byte tables are worth keeping across the frames of a video."""
        if self._integer is False:
            one_byte = ("int8", "uint8")
            if (self.artifact["layout"] != "NHWC" or self.input["dtype"] not in one_byte or self.output["dtype"] not in one_byte
                    or len(self.input["shape"]) != 4 or self.input["shape"] != self.output["shape"]):
                self._integer = None
            else:
                self._integer = IntegerModel(self.run_integer, *byte_tables(self.input, self.output), self.run_native)
        return self._integer
