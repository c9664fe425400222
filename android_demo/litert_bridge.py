"""A LiteRT interpreter on stdin/stdout, so the JVM tests can run a real .tflite through the app's model class.

Android's LiteRT AAR holds native code for Android ABIs only, so a JVM test on Linux cannot load it;
this runs the same LiteRT runtime through its Python binding instead. Protocol (little-endian):
the model's length (8 bytes) and bytes — the very bytes the Kotlin side mapped and hashed — then,
repeatedly, one input tensor's raw bytes in and the output tensor's raw bytes out, until stdin ends.
Used by AppModelTest through run_tests.sh (YGAN_PYTHON); not part of the app.
"""

import struct
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter


def read_exactly(stream, n: int) -> bytes | None:
    data = stream.read(n)
    return data if len(data) == n else None


def main() -> int:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    size = struct.unpack("<q", read_exactly(stdin, 8))[0]
    interp = Interpreter(model_content=read_exactly(stdin, size), num_threads=1)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    n_in = int(inp["shape"].prod()) * inp["dtype"]().itemsize
    while (chunk := read_exactly(stdin, n_in)) is not None:
        interp.set_tensor(inp["index"], np.frombuffer(chunk, inp["dtype"]).reshape(inp["shape"]))
        interp.invoke()
        stdout.write(interp.get_tensor(out["index"]).tobytes())
        stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
