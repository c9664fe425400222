"""Parity of a bundle as the phone computes it (DESIGN §6), written to parity.json.

Three kinds of check, each against the thresholds in the manifest (or the caller's overrides):
- model: the golden patches through each artifact vs the PyTorch outputs stored at convert time;
- pipeline: each golden frame through this runtime's numpy pipeline driving a patch-model artifact
  vs the PyTorch pipeline driving the PyTorch model, on the [-1, 1] floats (PSNR gates, like the
  model check) and on the uint8 frames (PSNR and SSIM, reported);
- stand-in: the identity and affine pipeline vectors the app cores are tested against, recomputed
  here, so a bundle whose vectors this runtime's pipeline does not reproduce is not shipped to them.
An artifact whose backend this machine lacks is "not verified": reported, never counted as passing.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from reference_runtime import metrics, pipeline
from reference_runtime.backends import BackendError, open_artifact
from reference_runtime.manifest import Bundle, file_sha256, load_npz, read_manifest

SCHEMA = "ygan-mobile/parity"
STAND_IN_FLOAT_TOL = 1e-5


@dataclass
class Goldens:
    patches: dict[str, np.ndarray]
    frames: dict[str, np.ndarray]
    frames_entry: dict
    pipeline: dict[str, np.ndarray]
    cases: list[dict]


def load_goldens(bundle: Bundle) -> Goldens:
    def arrays(kind: str) -> tuple[dict[str, np.ndarray], dict]:
        entry = bundle.golden(kind)
        if entry is None:
            raise BackendError(f"{bundle.root / 'manifest.json'}: no '{kind}' golden file: rebuild the bundle")
        return load_npz(bundle.path(entry)), entry

    patches, _ = arrays("patches")
    frames, frames_entry = arrays("frames")
    stand_ins, pipeline_entry = arrays("pipeline")
    return Goldens(patches, frames, frames_entry, stand_ins, pipeline_entry["cases"])


def threshold(precision: str, thresholds: dict[str, float]) -> float:
    """Palettised packages of any bit width share the 'palettized' threshold."""
    key = "palettized" if precision.startswith("palettized") else precision
    if key not in thresholds:
        raise BackendError(f"no parity threshold for precision '{precision}' (have {sorted(thresholds)})")
    return float(thresholds[key])


def run_batched(run: Callable[[np.ndarray], np.ndarray], x: np.ndarray, batch: int) -> np.ndarray:
    """Inputs in chunks of the artifact's fixed batch, the last one zero-padded and trimmed after."""
    outs = []
    for start in range(0, len(x), batch):
        chunk = x[start:start + batch]
        n = len(chunk)
        if n < batch:
            chunk = np.concatenate([chunk, np.zeros((batch - n, *chunk.shape[1:]), np.float32)])
        outs.append(np.asarray(run(np.ascontiguousarray(chunk, np.float32)), np.float32)[:n])
    return np.concatenate(outs)


def data_range(role: str, reference: np.ndarray) -> float:
    """[-1, 1] images span 2; latents are unbounded, so their range is 2·max|torch output|."""
    return 2.0 * float(np.abs(reference).max()) if role == "encoder" else 2.0


def _db(value: float) -> float | None:
    """JSON has no infinity: a bit-exact result is stored as null (max_abs 0 says why)."""
    return None if math.isinf(value) else round(value, 3)


def frame_indices(frames: dict[str, np.ndarray]) -> list[int]:
    return sorted(int(k.split(".")[1]) for k in frames if k.startswith("frame."))


def render_with(runner, artifact: dict, goldens: Goldens, frame: np.ndarray) -> np.ndarray:
    """One golden frame through the numpy pipeline driving an artifact: float32 H×W×3 in [-1, 1]."""
    entry = goldens.frames_entry
    return pipeline.render_float(frame, [runner.run], patch=artifact_patch(artifact), stride=entry["stride"],
                                 blend=entry["blend"], batch=artifact["batch"], layout="NCHW")


def frame_outputs(bundle: Bundle, artifact: dict, runner) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Every golden frame through a patch-model artifact: {frame index: (float H×W×3, uint8 H×W×3)}."""
    goldens = load_goldens(bundle)
    out = {}
    for i in frame_indices(goldens.frames):
        y = render_with(runner, artifact, goldens, goldens.frames[f"frame.{i}"])
        out[i] = (y, pipeline.quantise(y))
    return out


def artifact_patch(artifact: dict) -> int:
    shape = artifact["inputs"][0]["shape"]
    return int(shape[1] if artifact["layout"] == "NHWC" else shape[2])


def model_check(artifact: dict, runner, goldens: Goldens, limit: float) -> dict:
    x = goldens.patches["z"] if artifact["role"] == "generator" else goldens.patches["x"]
    reference = goldens.patches[f"out.{artifact['golden_key']}"]
    got = run_batched(runner.run, x, artifact["batch"])
    rng = data_range(artifact["role"], reference)
    db = metrics.psnr(got, reference, data_range=rng)
    return {"max_abs": metrics.max_abs(got, reference), "mean_abs": metrics.mean_abs(got, reference),
            "psnr_db": _db(db), "threshold_db": limit, "data_range": rng, "status": "pass" if db >= limit else "fail"}


def pipeline_checks(artifact: dict, runner, goldens: Goldens, limit: float) -> list[dict]:
    rows = []
    for i in frame_indices(goldens.frames):
        frame = goldens.frames[f"frame.{i}"]
        got = render_with(runner, artifact, goldens, frame)
        want = goldens.frames[f"torch_float.{artifact['theme']}.{i}"]
        want_u8 = goldens.frames[f"torch_u8.{artifact['theme']}.{i}"]
        got_u8 = pipeline.quantise(got)
        db = metrics.psnr(got, want)
        rows.append({"id": artifact["id"], "theme": artifact["theme"], "frame": i, "height": int(frame.shape[0]),
                     "width": int(frame.shape[1]), "psnr_db": _db(db), "max_abs": metrics.max_abs(got, want),
                     "psnr_u8_db": _db(metrics.psnr(got_u8, want_u8, data_range=255.0)),
                     "max_u8_diff": int(np.abs(got_u8.astype(np.int16) - want_u8).max()),
                     "ssim": round(metrics.ssim(got_u8, want_u8), 6), "threshold_db": limit,
                     "status": "pass" if db >= limit else "fail"})
    return rows


def _stand_in_model(case: dict) -> Callable[[np.ndarray], np.ndarray]:
    """docs/bundle.md's stand-ins on NCHW batches: identity; affine y = a·x + b per channel; ramp, the
    affine map plus k·(i − j)/P at row i, column j of the patch."""
    if case["model"] == "identity":
        return lambda x: x
    a = np.asarray(case.get("a", ()), np.float32)[None, :, None, None]
    b = np.asarray(case.get("b", ()), np.float32)[None, :, None, None]
    if case["model"] == "affine":
        return lambda x: a * x + b
    if case["model"] == "ramp":
        p = case["patch"]
        offsets = np.arange(p, dtype=np.float32)[:, None] - np.arange(p, dtype=np.float32)[None, :]
        ramp = np.float32(case["k"]) * offsets / np.float32(p)
        return lambda x: a * x + b + ramp
    raise BackendError(f"pipeline golden case {case['key']}: unknown stand-in model '{case['model']}'")


def stand_in_checks(goldens: Goldens) -> list[dict]:
    rows = []
    for case in goldens.cases:
        frame = goldens.pipeline[case["frame"]]
        got = pipeline.render_float(frame, [_stand_in_model(case)], patch=case["patch"], stride=case["stride"],
                                    blend=case["blend"], batch=case["batch"])
        want, want_u8 = goldens.pipeline[f"{case['key']}.float"], goldens.pipeline[f"{case['key']}.u8"]
        diff_u8 = int(np.abs(pipeline.quantise(got).astype(np.int16) - want_u8).max())
        err = metrics.max_abs(got, want)
        allowed_u8 = 0 if case["model"] == "identity" else 1
        ok = err <= STAND_IN_FLOAT_TOL and diff_u8 <= allowed_u8
        rows.append({"key": case["key"], "model": case["model"], "stride": case["stride"], "blend": case["blend"],
                     "max_abs": err, "max_u8_diff": diff_u8, "status": "pass" if ok else "fail"})
    return rows


def _describe(artifact: dict) -> dict:
    return {k: artifact.get(k) for k in ("id", "format", "precision", "role", "theme", "size", "macs")}


def verify_bundle(bundle_root: str | Path, thresholds: dict[str, float] | None = None, threads: int = 2,
                  out: str | Path | None = None, only: Callable[[dict], bool] | None = None,
                  log: Callable[[str], None] = lambda message: None) -> dict:
    """Run every check, write parity.json (atomically; BUNDLE/parity.json unless `out`), return it.

    ManifestError when the bundle must not be run at all; otherwise every problem is a row."""
    bundle = read_manifest(bundle_root)
    limits = {**bundle.data["thresholds_db"], **(thresholds or {})}
    goldens = load_goldens(bundle)
    models, frames = [], []
    for artifact in bundle.artifacts:
        if only is not None and not only(artifact):
            continue
        limit = threshold(artifact["precision"], limits)
        row = _describe(artifact)
        try:
            runner = open_artifact(bundle.root, artifact, threads=threads)
        except BackendError as exc:
            models.append({**row, "backend": None, "threshold_db": limit, "status": "not verified",
                           "reason": str(exc).splitlines()[0]})
            log(f"{artifact['id']}: not verified ({str(exc).splitlines()[0]})")
            continue
        try:
            models.append({**row, "backend": runner.backend, **model_check(artifact, runner, goldens, limit)})
            if artifact["role"] == "patch_model":
                frames += pipeline_checks(artifact, runner, goldens, limit)
        except Exception as exc:  # the artifact failed to run: a failed check, named, not a crash of the whole run
            models.append({**row, "backend": runner.backend, "threshold_db": limit, "status": "fail",
                           "reason": str(exc).splitlines()[0]})
        log(f"{artifact['id']}: {models[-1]['status']}")
    stand_ins = stand_in_checks(goldens)
    doc = {"schema": SCHEMA, "version": 1, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "bundle_manifest_sha256": file_sha256(bundle.root / "manifest.json"), "thresholds_db": limits,
           "ok": all(r["status"] != "fail" for r in [*models, *frames, *stand_ins]),
           "models": models, "pipeline": frames, "stand_ins": stand_ins}
    write_json(Path(out) if out else bundle.root / "parity.json", doc)
    return doc


def write_json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, indent=1, allow_nan=False)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def failures(doc: dict) -> list[str]:
    """One line per failed check, naming the artifact and the metric that fell short."""
    lines = []
    for r in doc["models"]:
        if r["status"] == "fail":
            what = r.get("reason") or f"PSNR {r['psnr_db']} dB < {r['threshold_db']} dB (max abs {r['max_abs']:.3g})"
            lines.append(f"{r['id']}: golden patches: {what}")
    for r in doc["pipeline"]:
        if r["status"] == "fail":
            lines.append(f"{r['id']}: golden frame {r['frame']} through the pipeline: PSNR {r['psnr_db']} dB "
                         f"< {r['threshold_db']} dB (uint8 PSNR {r['psnr_u8_db']} dB, SSIM {r['ssim']:.4f})")
    for r in doc["stand_ins"]:
        if r["status"] == "fail":
            lines.append(f"stand-in {r['model']} {r['key']} (stride {r['stride']}, {r['blend']}): max abs {r['max_abs']:.3g}, "
                         f"uint8 diff {r['max_u8_diff']}: this runtime's pipeline does not reproduce the bundle's vectors")
    return lines
