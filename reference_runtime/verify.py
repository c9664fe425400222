"""Parity of a bundle as the phone computes it (DESIGN §6), written to parity.json.

Three kinds of check, each against the thresholds in the manifest (or the caller's overrides):
- model: the golden patches through each artifact vs the PyTorch outputs stored at convert time;
- pipeline: each golden frame through this runtime's numpy pipeline driving a patch-model artifact
  vs the PyTorch pipeline driving the PyTorch model, on the [-1, 1] floats (PSNR gates, like the
  model check) and on the uint8 frames (PSNR and SSIM, reported);
- stand-in: the identity and affine pipeline vectors the app cores are tested against, recomputed
  here, so a bundle whose vectors this runtime's pipeline does not reproduce is not shipped to them.
Spec v2 (multi-scale cells) adds a row per artifact and golden frame (`sampling: multiscale`): the
cells must be the golden layout, the model's floats on the cells' patches pass the same PSNR gate
as v1's frames, and the frames are reported as v1's are; and its stand-in cases join the stand-ins.
The gate fails closed: an artifact that cannot be loaded or run is a failed check, and so is one
whose runtime this machine lacks, unless the caller skipped that backend by name (`skip`, recorded
in parity.json): then its checks are "not verified", reported with the reason, never passing.
"""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from reference_runtime import api, metrics, multiscale, pipeline
from reference_runtime.backends import BackendError, BackendUnavailable
from reference_runtime.bundle_files import MANIFEST, PARITY
from reference_runtime.cpu import cpu_description
from reference_runtime.defaults import DEFAULT_THREADS
from reference_runtime.goldens import Goldens, frame_indices, load_goldens, settings_of
from reference_runtime.manifest import Bundle, ManifestError, file_sha256, read_manifest

SCHEMA = "ygan-mobile/parity"
STAND_IN_FLOAT_TOL = 1e-5
SKIPPABLE = ("onnx", "tflite", "coreml")  # the artifact formats, each run by one backend


class OptionError(ValueError):
    """An option verify cannot honour (e.g. zero threads, a backend or precision the bundle lacks)."""


# The default parity thresholds (docs/design.md §6), written into every manifest at convert time.
THRESHOLDS_DB = {"fp32": 100.0, "fp16": 60.0, "int8-dynamic": 40.0, "int8-weights": 40.0,
                 "int8-full": 32.0, "palettized": 32.0, "int8-activations": 32.0,
                 "int8-qdq": 32.0}  # int8-qdq: weights and activations in int8, DESIGN §6's "int8 full"


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


def render_with(runner, goldens: Goldens, frame: np.ndarray) -> np.ndarray:
    """One golden frame through the pipeline driving an opened artifact, at the golden frames' stride
    and blend: float32 H×W×3 in [-1, 1]."""
    entry = goldens.frames_entry
    return api.render_float(frame, runner, stride=entry["stride"], blend=entry["blend"])


def frame_outputs(bundle: Bundle, runner) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Every golden frame through an opened patch-model artifact: {frame index: (float H×W×3, uint8 H×W×3)}."""
    goldens = load_goldens(bundle)
    out = {}
    for i in frame_indices(goldens.frames):
        y = render_with(runner, goldens, goldens.frames[f"frame.{i}"])
        out[i] = (y, pipeline.quantise(y))
    return out


def model_check(artifact: dict, runner, goldens: Goldens, limit: float) -> dict:
    x = goldens.patches["z"] if artifact["role"] == "generator" else goldens.patches["x"]
    reference = goldens.patches[f"out.{artifact['golden_key']}"]
    got = run_batched(runner.run, x, artifact["batch"])
    rng = data_range(artifact["role"], reference)
    db = metrics.psnr(got, reference, data_range=rng)
    return {"max_abs": metrics.max_abs(got, reference), "mean_abs": metrics.mean_abs(got, reference),
            "psnr_db": _db(db), "threshold_db": limit, "data_range": rng, "status": "pass" if db >= limit else "fail"}


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def frame_row(artifact: dict, i: int, frame: np.ndarray, limit: float) -> dict:
    return {"id": artifact["id"], "theme": artifact["theme"], "frame": i, "height": int(frame.shape[0]),
            "width": int(frame.shape[1]), "threshold_db": limit}


def pipeline_check(artifact: dict, runner, goldens: Goldens, i: int, limit: float) -> dict:
    """One golden frame through the pipeline; a run that raises is this frame's failed row."""
    frame = goldens.frames[f"frame.{i}"]
    row = frame_row(artifact, i, frame, limit)
    try:
        got = render_with(runner, goldens, frame)
    except Exception as exc:  # the artifact failed to run: this check fails, named, and the others go on
        return {**row, "status": "fail", "reason": _first_line(exc)}
    want = goldens.frames[f"torch_float.{artifact['theme']}.{i}"]
    want_u8 = goldens.frames[f"torch_u8.{artifact['theme']}.{i}"]
    return {**row, **scores(got, want, pipeline.quantise(got), want_u8, limit)}


def scores(got: np.ndarray, want: np.ndarray, got_u8: np.ndarray, want_u8: np.ndarray, limit: float) -> dict:
    """A golden frame's numbers, for both specs: the gate on the floats (the blended frame in v1, the
    cells' patches in v2), and the uint8 frame's PSNR, largest difference and SSIM, reported."""
    db = metrics.psnr(got, want)
    return {"psnr_db": _db(db), "max_abs": metrics.max_abs(got, want),
            "psnr_u8_db": _db(metrics.psnr(got_u8, want_u8, data_range=255.0)),
            "max_u8_diff": int(np.abs(got_u8.astype(np.int16) - want_u8).max()),
            "ssim": round(metrics.ssim(got_u8, want_u8), 6), "status": "pass" if db >= limit else "fail"}


def multiscale_check(artifact: dict, runner, goldens: Goldens, i: int, limit: float) -> dict:
    """One golden frame through spec v2 with the artifact: the same cells as the PyTorch pipeline
    chose, and the model's floats on them at the artifact's threshold; a run that raises fails."""
    arrays = goldens.multiscale
    frame = arrays[f"frame.{i}"]
    row = {**frame_row(artifact, f"multiscale.{i}", frame, limit), "sampling": "multiscale"}
    try:
        got = api.render_multiscale(frame, runner, multiscale=goldens.multiscale_settings(), keep_float=True)
    except Exception as exc:  # the artifact failed to run: this check fails, named, and the others go on
        return {**row, "status": "fail", "reason": _first_line(exc)}
    want_cells = arrays[f"layout.{i}"][:, :3]
    if not np.array_equal(got.layout.cells()[:, :3], want_cells):
        return {**row, "status": "fail", "reason": f"the cells differ from the golden layout ({len(got.layout.cells())} "
                                                   f"cells, golden {len(want_cells)})"}
    want, want_u8 = arrays[f"torch_float.{artifact['theme']}.{i}"], arrays[f"torch_u8.{artifact['theme']}.{i}"]
    return {**row, "cells": int(len(want_cells)), **scores(got.floats, want, got.frame, want_u8, limit)}


def multiscale_stand_in_checks(goldens: Goldens) -> list[dict]:
    """Spec v2's stand-in vectors recomputed: the same cells, frame after frame, and the same bytes
    (identity exactly, the others within one level, as v1's stand-ins)."""
    rows = []
    arrays = goldens.multiscale
    for case in goldens.multiscale_entry.get("stand_ins", []):
        models = [_stand_in_model({**case, "model": name}) for name in case["models"]]
        settings = settings_of(case)
        workspace = pipeline.Workspace()
        same_cells, diff_u8 = True, 0
        for f, key in enumerate(case["frames"]):
            got = multiscale.render(arrays[key], models, patch=case["patch"], settings=settings, batch=case["batch"],
                                    workspace=workspace)
            same_cells &= np.array_equal(got.layout.cells(got.themes), arrays[f"{case['key']}.layout.{f}"])
            diff_u8 = max(diff_u8, int(np.abs(got.frame.astype(np.int16) - arrays[f"{case['key']}.u8.{f}"]).max()))
        allowed_u8 = 0 if case["models"] == ["identity"] else 1
        rows.append({"key": f"multiscale.{case['key']}", "model": "+".join(case["models"]), "sampling": "multiscale",
                     "frames": len(case["frames"]), "same_cells": bool(same_cells), "max_u8_diff": diff_u8,
                     "status": "pass" if same_cells and diff_u8 <= allowed_u8 else "fail"})
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


def check_options(bundle: Bundle, thresholds: dict[str, float], threads: int, skip: tuple[str, ...]) -> None:
    """Refuse what cannot be meant — no threads, a backend or precision name the bundle does not use —
    and a bundle with nothing to verify, before any check runs."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise OptionError(f"--threads {threads}: need at least 1 runtime thread")
    for name in skip:
        if name not in SKIPPABLE:
            raise OptionError(f"--skip-backend {name}: not a backend; name one of {', '.join(SKIPPABLE)}")
    precisions = {"palettized" if a["precision"].startswith("palettized") else a["precision"] for a in bundle.artifacts}
    for key, value in thresholds.items():
        if key not in precisions | set(bundle.data["thresholds_db"]):
            raise OptionError(f"--threshold {key}={value}: the bundle has no precision '{key}' (has {', '.join(sorted(precisions))})")
        if not math.isfinite(value):
            raise OptionError(f"--threshold {key}={value}: need a finite number of dB, e.g. {key}=35")
    if not bundle.artifacts:
        raise ManifestError(f"{bundle.root / MANIFEST}: lists no artifacts: nothing to verify; rebuild the bundle")


def open_checked(bundle: Bundle, artifact: dict, threads: int, skip: tuple[str, ...]) -> tuple[object | None, dict]:
    """The artifact's runner and {}, or None and the verdict of every check of it. Fails closed: a
    file its backend cannot load fails them; a missing backend fails them too unless its format is
    in `skip`, which makes them "not verified"."""
    if artifact["format"] in skip:
        return None, {"status": "not verified", "reason": f"skipped: --skip-backend {artifact['format']}"}
    try:
        return api.open_model(bundle, artifact["id"], threads=threads), {}
    except BackendUnavailable as exc:
        return None, {"status": "fail", "reason": f"not verified: {_first_line(exc)}; or skip it by name: --skip-backend "
                                                  f"{artifact['format']} (pytest: --ygan-skip-backend {artifact['format']})"}
    except BackendError as exc:
        return None, {"status": "fail", "reason": _first_line(exc)}


def model_row(artifact: dict, runner, goldens: Goldens, limit: float) -> dict:
    """The golden-patch check of an opened artifact as a parity.json row; a run that raises fails it."""
    row = {**_describe(artifact), "backend": runner.backend, "threshold_db": limit}
    try:
        row.update(model_check(artifact, runner, goldens, limit))
    except Exception as exc:  # the artifact failed to run: a failed check, named, not a crash of the whole run
        row.update(status="fail", reason=_first_line(exc))
    return row


def unopened_row(artifact: dict, limit: float, verdict: dict) -> dict:
    """The model row of an artifact that could not be opened (or was skipped by name)."""
    return {**_describe(artifact), "backend": None, "threshold_db": limit, **verdict}


def artifact_rows(bundle: Bundle, artifact: dict, goldens: Goldens, limit: float, threads: int,
                  skip: tuple[str, ...]) -> tuple[dict, list[dict]]:
    """The model row and the pipeline rows of one artifact (see `open_checked` for one that cannot run)."""
    indices = frame_indices(goldens.frames) if artifact["role"] == "patch_model" else []
    v2 = frame_indices(goldens.multiscale) if artifact["role"] == "patch_model" else []
    runner, verdict = open_checked(bundle, artifact, threads, skip)
    if runner is None:
        return unopened_row(artifact, limit, verdict), [
            *({**frame_row(artifact, i, goldens.frames[f"frame.{i}"], limit), **verdict} for i in indices),
            *({**frame_row(artifact, f"multiscale.{i}", goldens.multiscale[f"frame.{i}"], limit), "sampling": "multiscale",
               **verdict} for i in v2)]
    return model_row(artifact, runner, goldens, limit), [*(pipeline_check(artifact, runner, goldens, i, limit) for i in indices),
                                                         *(multiscale_check(artifact, runner, goldens, i, limit) for i in v2)]


def verify_bundle(bundle_root: str | Path, thresholds: dict[str, float] | None = None, threads: int = DEFAULT_THREADS,
                  out: str | Path | None = None, only: Callable[[dict], bool] | None = None,
                  log: Callable[[str], None] = lambda message: None, skip: tuple[str, ...] = (),
                  write: bool = True) -> dict:
    """Run every check, write parity.json (atomically; BUNDLE/parity.json unless `out`), return it.

    `write=False` only checks: nothing is written anywhere, and the bundle is left as it was (a
    read-only or signed bundle, a CI job that must not change what it checks).

    ManifestError when the bundle must not be run at all, OptionError for options it cannot honour;
    otherwise every problem is a row, and `ok` is true only when every check ran and passed, or
    belongs to a backend skipped by name."""
    bundle = read_manifest(bundle_root)
    thresholds = thresholds or {}
    target = checked_target(bundle, thresholds, threads, skip, out, write)
    limits = {**bundle.data["thresholds_db"], **thresholds}
    goldens = load_goldens(bundle)
    models, frames = [], []
    for artifact in bundle.artifacts:
        if only is not None and not only(artifact):
            continue
        row, rows = artifact_rows(bundle, artifact, goldens, threshold(artifact["precision"], limits), threads, tuple(skip))
        models.append(row)
        frames += rows
        log(f"{artifact['id']}: {row['status']}" + (f" ({row['reason']})" if row.get("reason") else ""))
    stand_ins = [*stand_in_checks(goldens), *multiscale_stand_in_checks(goldens)]
    doc = {"schema": SCHEMA, "version": 1, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "bundle_manifest_sha256": file_sha256(bundle.root / MANIFEST), "thresholds_db": limits,
           "skipped_backends": sorted(set(skip)), **machine(),
           "ok": all(r["status"] != "fail" for r in [*models, *frames, *stand_ins]),
           "models": models, "pipeline": frames, "stand_ins": stand_ins}
    if write:
        write_json(target, doc)
    return doc


def checked_target(bundle: Bundle, thresholds: dict[str, float], threads: int, skip: tuple[str, ...],
                   out: str | Path | None, write: bool) -> Path:
    """Where parity.json goes, once every option is known to be honoured: refusals come before any check."""
    check_options(bundle, thresholds, threads, tuple(skip))
    if out is not None and not write:
        raise OptionError("-o/--out and --no-write contradict each other: choose one")
    target = Path(out) if out else bundle.root / PARITY
    if write:
        check_writable(target)
    return target


def machine() -> dict:
    """Where the checks ran: int8 and fp16 kernels are chosen by instruction set, so a verdict holds
    for the architecture and CPU features it was measured on (issue 46)."""
    return {"arch": platform.machine(), "cpu_features": cpu_description()["isa"]}


def check_writable(path: Path) -> None:
    """Before any work: an output that cannot be written is one line now, not a traceback after the run."""
    problem = unwritable(path)
    if problem:
        raise OptionError(f"{path}: {problem}: choose another path with -o")


# Copied from ygan_mobile.atomic.unwritable
def unwritable(final: str | os.PathLike) -> str | None:
    """Why no file can be written at `final` (a directory, or no file can be created where it would
    go), or None: checked before work starts, so a long run does not end in a traceback. Probes
    with a real temporary file: permission bits do not bind root, nor show a read-only file system."""
    final = Path(final)
    if final.is_dir():
        return "is a directory"
    folder = next((p for p in [final.parent, *final.parent.parents] if p.exists()), Path("."))
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"cannot write into {folder} ({exc.strerror or exc})"
    return None


def write_json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, indent=1, allow_nan=False)
            handle.write("\n")
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; parity.json is for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# Copied from ygan_mobile.atomic._umask
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def failures(doc: dict) -> list[str]:
    """One line per failed check, naming the artifact and the metric that fell short."""
    lines = []
    for r in doc["models"]:
        if r["status"] == "fail":
            what = r.get("reason") or f"PSNR {r['psnr_db']} dB < {r['threshold_db']} dB (max abs {r['max_abs']:.3g})"
            lines.append(f"{r['id']}: golden patches: {what}")
    for r in doc["pipeline"]:
        if r["status"] == "fail" and r.get("reason"):
            lines.append(f"{r['id']}: golden frame {r['frame']} through the pipeline: {r['reason']}")
        elif r["status"] == "fail" and r.get("sampling") == "multiscale":
            lines.append(f"{r['id']}: golden frame {r['frame']} through spec v2: PSNR of the cells' floats {r['psnr_db']} dB "
                         f"< {r['threshold_db']} dB (uint8 PSNR {r['psnr_u8_db']} dB, SSIM {r['ssim']:.4f})")
        elif r["status"] == "fail":
            lines.append(f"{r['id']}: golden frame {r['frame']} through the pipeline: PSNR {r['psnr_db']} dB "
                         f"< {r['threshold_db']} dB (uint8 PSNR {r['psnr_u8_db']} dB, SSIM {r['ssim']:.4f})")
    for r in doc["stand_ins"]:
        if r["status"] == "fail" and r.get("sampling") == "multiscale":
            lines.append(f"stand-in {r['model']} {r['key']} (spec v2, {r['frames']} frames): "
                         f"{'same cells' if r['same_cells'] else 'other cells'}, uint8 diff {r['max_u8_diff']}: "
                         f"this runtime's pipeline does not reproduce the bundle's vectors")
        elif r["status"] == "fail":
            lines.append(f"stand-in {r['model']} {r['key']} (stride {r['stride']}, {r['blend']}): max abs {r['max_abs']:.3g}, "
                         f"uint8 diff {r['max_u8_diff']}: this runtime's pipeline does not reproduce the bundle's vectors")
    return lines
