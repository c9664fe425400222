"""Per-model parity at build time: golden patches through each artifact vs the PyTorch outputs.

Why through the reference runtime's own runners: the numbers in the manifest are then what the
phone-side code computes (layout transposes, int8 quantise/dequantise from the manifest's scale and
zero point), not what a convert-only shortcut would. Core ML needs macOS or the runtime's MIL
interpreter; without one its artifacts are marked "not verified" rather than guessed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ygan_mobile.errors import YganError

THRESHOLDS_DB = {"fp32": 100.0, "fp16": 60.0, "int8-dynamic": 40.0, "int8-weights": 40.0,
                 "int8-full": 32.0, "palettized": 32.0, "int8-activations": 32.0}

BACKEND = {"onnx": "onnxruntime", "tflite": "litert", "coreml": "coreml-mil"}


def threshold(precision: str, thresholds: dict[str, float]) -> float:
    return thresholds["palettized" if precision.startswith("palettized") else precision]


def golden_input(role: str, goldens: dict[str, np.ndarray]) -> np.ndarray:
    return goldens["z"] if role == "generator" else goldens["x"]


def data_range(role: str, reference: np.ndarray) -> float:
    """[-1, 1] images span 2; latents are unbounded, so their range is 2·max|torch output|."""
    return 2.0 * float(np.abs(reference).max()) if role == "encoder" else 2.0


def run_batched(runner, x: np.ndarray, batch: int) -> np.ndarray:
    """Golden inputs in chunks of the artifact's fixed batch, the last one zero-padded."""
    outs = []
    for start in range(0, len(x), batch):
        chunk = x[start:start + batch]
        n = len(chunk)
        if n < batch:
            chunk = np.concatenate([chunk, np.zeros((batch - n, *chunk.shape[1:]), np.float32)])
        outs.append(np.asarray(runner.run(np.ascontiguousarray(chunk)), np.float32)[:n])
    return np.concatenate(outs)


def _open(bundle: Path, artifact: dict):
    try:
        from reference_runtime.backends import open_artifact
    except ImportError:
        from convert.interim_runtime import open_artifact
    try:
        return open_artifact(bundle, artifact, threads=2)
    except Exception as exc:  # the runtime's own error for a backend it lacks (e.g. Core ML on Linux)
        return exc


def measure(bundle: Path, artifact: dict, goldens: dict[str, np.ndarray], thresholds: dict[str, float]) -> dict:
    """The manifest's `parity` entry for one artifact."""
    try:
        from reference_runtime import metrics
    except ImportError:
        from convert import interim_runtime as metrics

    limit = threshold(artifact["precision"], thresholds)
    runner = _open(bundle, artifact)
    if isinstance(runner, Exception):
        return {"status": "not verified", "backend": BACKEND[artifact["format"]], "threshold_db": limit,
                "reason": str(runner).splitlines()[0][:200]}
    reference = goldens[f"out.{artifact['golden_key']}"]
    try:
        got = run_batched(runner, golden_input(artifact["role"], goldens), artifact["batch"])
    except Exception as exc:
        raise YganError(f"{artifact['path']} failed to run on {BACKEND[artifact['format']]}: {str(exc).splitlines()[0][:200]}") from None
    rng = data_range(artifact["role"], reference)
    db = float(metrics.psnr(got, reference, data_range=rng))
    return {"status": "pass" if db >= limit else "fail", "backend": getattr(runner, "backend", BACKEND[artifact["format"]]),
            "max_abs": float(metrics.max_abs(got, reference)), "mean_abs": float(metrics.mean_abs(got, reference)),
            "psnr_db": db, "threshold_db": limit, "data_range": rng}


def with_estimate(result: dict, role: str, got: np.ndarray, reference: np.ndarray, method: str) -> dict:
    """Add a compression-only estimate to an unverified result; below the threshold it is a failure,
    since the real artifact only adds error on top of it."""
    try:
        from reference_runtime import metrics
    except ImportError:
        from convert import interim_runtime as metrics
    db = float(metrics.psnr(got, reference, data_range=data_range(role, reference)))
    out = {**result, "estimate_db": db, "estimate_method": method}
    if db < result["threshold_db"]:
        out["status"] = "fail"
    return out
