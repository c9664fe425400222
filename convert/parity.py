"""Per-model parity at build time: golden patches through each artifact vs the PyTorch outputs.

Measured with the reference runtime's own runners and checks, so the numbers in the manifest are
what the phone-side code computes (layout transposes, int8 quantise/dequantise from the manifest's
scale and zero point) and what `ygan verify` later recomputes, not what a convert-only shortcut would.
An artifact whose runtime this machine lacks is marked "not verified" rather than guessed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reference_runtime import metrics
from reference_runtime.backends import BackendError, open_artifact
from reference_runtime.verify import data_range, run_batched, threshold
from ygan_mobile.errors import YganError

BACKEND = {"onnx": "onnxruntime", "tflite": "litert", "coreml": "coreml-mil"}


def golden_input(role: str, goldens: dict[str, np.ndarray]) -> np.ndarray:
    return goldens["z"] if role == "generator" else goldens["x"]


def measure(bundle: Path, artifact: dict, goldens: dict[str, np.ndarray], thresholds: dict[str, float]) -> dict:
    """The manifest's `parity` entry for one artifact."""
    limit = threshold(artifact["precision"], thresholds)
    try:
        runner = open_artifact(bundle, artifact)
    except BackendError as exc:
        return {"status": "not verified", "backend": BACKEND[artifact["format"]], "threshold_db": limit,
                "reason": str(exc).splitlines()[0][:200]}
    reference = goldens[f"out.{artifact['golden_key']}"]
    try:
        got = run_batched(runner.run, golden_input(artifact["role"], goldens), artifact["batch"])
    except Exception as exc:
        raise YganError(f"{artifact['path']} failed to run on {runner.backend}: {str(exc).splitlines()[0][:200]}") from None
    rng = data_range(artifact["role"], reference)
    db = metrics.psnr(got, reference, data_range=rng)
    return {"status": "pass" if db >= limit else "fail", "backend": runner.backend,
            "max_abs": metrics.max_abs(got, reference), "mean_abs": metrics.mean_abs(got, reference),
            "psnr_db": None if np.isinf(db) else db, "threshold_db": limit, "data_range": rng}


def with_estimate(result: dict, role: str, got: np.ndarray, reference: np.ndarray, method: str) -> dict:
    """Add a compression-only estimate to an unverified result; below the threshold it is a failure,
    since the real artifact only adds error on top of it."""
    db = metrics.psnr(got, reference, data_range=data_range(role, reference))
    out = {**result, "estimate_db": db, "estimate_method": method}
    if db < result["threshold_db"]:
        out["status"] = "fail"
    return out
