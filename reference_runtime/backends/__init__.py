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


class BackendError(Exception):
    """An artifact this machine cannot run, or a run that failed; names the artifact."""


class Runner(Protocol):
    backend: str

    def run(self, x: np.ndarray) -> np.ndarray: ...


def to_layout(x: np.ndarray, layout: str) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if x.ndim == 4 and layout == "NHWC" else x


def from_layout(y: np.ndarray, layout: str) -> np.ndarray:
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2)) if y.ndim == 4 and layout == "NHWC" else y


def quantise(x: np.ndarray, tensor: dict) -> np.ndarray:
    """real → integer with the manifest's `real = (q − zero_point)·scale`, rounded half to even, clipped."""
    if tensor["dtype"] == "float32":
        return x.astype(np.float32)
    dtype = np.dtype(tensor["dtype"])
    info = np.iinfo(dtype)
    return np.clip(np.round(x / tensor["scale"] + tensor["zero_point"]), info.min, info.max).astype(dtype)


def dequantise(q: np.ndarray, tensor: dict) -> np.ndarray:
    if tensor["dtype"] == "float32":
        return np.asarray(q, np.float32)
    return ((q.astype(np.float32) - tensor["zero_point"]) * tensor["scale"]).astype(np.float32)


def check_input(artifact: dict, x: np.ndarray) -> None:
    expected = tuple(artifact["inputs"][0]["shape"])
    if artifact["layout"] == "NHWC" and len(expected) == 4:
        expected = (expected[0], expected[3], expected[1], expected[2])
    if tuple(x.shape) != expected:
        raise BackendError(f"{artifact['id']}: input of shape {tuple(x.shape)}, the artifact takes {expected} "
                           f"(batch {artifact['batch']}, NCHW on the caller's side)")


def open_artifact(bundle_root: str | Path, artifact: dict, threads: int = 2) -> Runner:
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
