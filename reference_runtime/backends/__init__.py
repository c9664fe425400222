"""One small interface over the runtimes a phone has: `open_artifact(...).run(x)`.

Every runner takes and returns float32 in the project's layout (NCHW images, (N, Z) latents) and
does what the phone-side code must do from the manifest alone: transpose to the artifact's layout,
quantise and dequantise integer I/O with the manifest's scale and zero point, and insist on the
artifact's fixed batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from reference_runtime.defaults import DEFAULT_THREADS


class BackendError(Exception):
    """An artifact this machine cannot run, or a run that failed; names the artifact."""


class BackendUnavailable(BackendError):
    """This machine lacks the runtime for a format (not the artifact's fault): what --skip-backend is for."""


class Runner(Protocol):
    backend: str
    artifact: dict

    def run(self, x: np.ndarray) -> np.ndarray: ...

    def __call__(self, x: np.ndarray) -> np.ndarray: ...


class CallableRunner:
    """Makes a runner usable wherever a patch model is expected (`pipeline.render_frame(frame, [runner], …)`,
    `verify.run_batched`): calling it is `run`, float32 NCHW in and out."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.run(x)


def to_layout(x: np.ndarray, layout: str) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if x.ndim == 4 and layout == "NHWC" else x


def from_layout(y: np.ndarray, layout: str) -> np.ndarray:
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2)) if y.ndim == 4 and layout == "NHWC" else y


# A tensor that carries pixel bytes (docs/pipeline.md, "Integer artifacts"): scale 2/255, zero point 0,
# the byte read as signed both ways, q = u8 − 128 in and u8 = q + 128 out.
PIXEL_BYTES = "pixel_bytes"


def quantise(x: np.ndarray, tensor: dict) -> np.ndarray:
    """real → integer with the manifest's `real = (q − zero_point)·scale`, rounded half to even, clipped;
    a pixel-bytes tensor rounds down instead, which takes every pixel value x = u8/127.5 − 1 (half-way
    between two codes) to q = u8 − 128."""
    out = np.empty(x.shape, np.dtype(tensor["dtype"]))
    quantise_into(x, tensor, out, None if tensor["dtype"] == "float32" else np.empty(x.shape, np.float32))
    return out


def quantise_into(x: np.ndarray, tensor: dict, out: np.ndarray, scratch: np.ndarray | None) -> None:
    """`quantise` written into `out` (e.g. an interpreter's input buffer) through a float32 `scratch`
    of x's shape: no temporaries, which matters when it runs once per batch of a video frame."""
    if tensor["dtype"] == "float32":
        np.copyto(out, x, casting="same_kind")
        return
    info = np.iinfo(np.dtype(tensor["dtype"]))
    np.divide(x, np.float32(tensor["scale"]), out=scratch, dtype=np.float32)
    scratch += np.float32(tensor["zero_point"])
    (np.floor if tensor.get(PIXEL_BYTES) else np.rint)(scratch, out=scratch)
    np.clip(scratch, info.min, info.max, out=scratch)
    np.copyto(out, scratch, casting="unsafe")


def dequantise(q: np.ndarray, tensor: dict) -> np.ndarray:
    out = np.empty(q.shape, np.float32)
    dequantise_into(q, tensor, out)
    return out


def dequantise_into(q: np.ndarray, tensor: dict, out: np.ndarray) -> None:
    """`dequantise` written into a float32 `out` of q's shape. A pixel-bytes tensor's code is read at
    the centre of its level, `(q − zero_point + ½)·scale` = the pixel value of u8 = q + 128, which the
    pipeline's rounding gives back exactly (the code itself lies on the boundary between two pixels)."""
    np.copyto(out, q, casting="unsafe")
    if tensor["dtype"] != "float32":
        out -= np.float32(tensor["zero_point"] - (0.5 if tensor.get(PIXEL_BYTES) else 0))
        out *= np.float32(tensor["scale"])


def byte_tables(input_tensor: dict, output_tensor: dict) -> tuple[np.ndarray, np.ndarray, int]:
    """For a model with one-byte integer I/O: the input for each pixel value (normalise, then
    quantise), each output byte's float value (dequantise; IntegerModel rounds it to the pixel) and
    the input of float 0 (padding) — built with the float path's own functions, so a byte-fed frame
    is the same bytes."""
    from reference_runtime.pipeline import normalise

    pixels = np.arange(256, dtype=np.uint8)
    encode = quantise(normalise(pixels), input_tensor)
    values = dequantise(pixels.view(output_tensor["dtype"]), output_tensor)
    return encode, values, int(quantise(np.zeros(1, np.float32), input_tensor)[0])


def check_input(artifact: dict, x: np.ndarray) -> None:
    expected = tuple(artifact["inputs"][0]["shape"])
    if artifact["layout"] == "NHWC" and len(expected) == 4:
        expected = (expected[0], expected[3], expected[1], expected[2])
    if tuple(x.shape) != expected:
        raise BackendError(f"{artifact['id']}: input of shape {tuple(x.shape)}, the artifact takes {expected} "
                           f"(batch {artifact['batch']}, NCHW on the caller's side)")


def open_artifact(bundle_root: str | Path, artifact: dict, threads: int = DEFAULT_THREADS) -> Runner:
    """A runner for one manifest artifact; BackendError when its runtime is not available here."""
    path = Path(bundle_root) / artifact["path"]
    fmt = artifact["format"]
    if fmt == "onnx":
        from reference_runtime.backends.onnx import OnnxRunner

        return OnnxRunner(path, artifact, threads)
    if fmt == "tflite":
        from reference_runtime.backends.litert import LiteRunner

        return LiteRunner(path, artifact, threads)
    if fmt == "coreml":
        from reference_runtime.backends.coreml import open_coreml

        return open_coreml(path, artifact)
    raise BackendError(f"{artifact['id']}: format '{fmt}' has no backend (onnx, tflite, coreml)")
