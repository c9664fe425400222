"""The golden vectors of a bundle, checked before anything runs on them.

The manifest's schema says which files exist; this says whether their contents can drive a check:
a frames file with no frames or a stand-in case with stride 0 would otherwise pass vacuously or
crash mid-run. Each problem is one ManifestError naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reference_runtime.bundle_files import MANIFEST
from reference_runtime.manifest import Bundle, ManifestError, load_npz
from reference_runtime.multiscale import Multiscale
from reference_runtime.pipeline import BLENDS

STAND_INS = ("identity", "affine", "ramp")


@dataclass
class Goldens:
    patches: dict[str, np.ndarray]
    frames: dict[str, np.ndarray]
    frames_entry: dict
    pipeline: dict[str, np.ndarray]
    cases: list[dict]
    multiscale: dict[str, np.ndarray] = field(default_factory=dict)  # spec v2's goldens; empty in a bundle made before v2
    multiscale_entry: dict = field(default_factory=dict)

    def multiscale_settings(self) -> Multiscale:
        """Spec v2's settings the golden frames were rendered with, from the manifest."""
        return settings_of(self.multiscale_entry)


def settings_of(entry: dict) -> Multiscale:
    return Multiscale(threshold=entry["threshold"], hysteresis=entry["hysteresis"], budget=entry["budget"],
                      largest=entry["largest_cell"], smallest=entry["smallest_cell"])


def frame_indices(frames: dict[str, np.ndarray]) -> list[int]:
    return sorted(int(k.split(".")[1]) for k in frames if k.startswith("frame."))


def _arrays(bundle: Bundle, kind: str) -> tuple[dict[str, np.ndarray], dict]:
    entry = bundle.golden(kind)
    if entry is None:
        raise ManifestError(f"{bundle.root / MANIFEST}: no '{kind}' golden file: rebuild the bundle")
    return load_npz(bundle.path(entry)), entry


def _is_int(value, low: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _frame(where: str, key: str, arrays: dict[str, np.ndarray]) -> None:
    a = arrays.get(key)
    if a is None or a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3 or min(a.shape[:2]) < 1:
        got = "missing" if a is None else f"{a.dtype} {a.shape}"
        raise ManifestError(f"{where}: '{key}' must be a uint8 H×W×3 frame, is {got}: rebuild the bundle")


def _check_grid(where: str, entry: dict, patch: int) -> None:
    """Stride, blend and batch of a pipeline run, as spec v1 allows them."""
    stride, blend, batch = entry.get("stride"), entry.get("blend"), entry.get("batch")
    if not _is_int(patch) or not _is_int(stride) or stride > patch:
        raise ManifestError(f"{where}: stride {stride!r} with patch {patch!r}: spec v1 needs 1 ≤ stride ≤ patch")
    if blend not in BLENDS or not _is_int(batch):
        raise ManifestError(f"{where}: blend {blend!r} and batch {batch!r}: need one of {BLENDS} and a batch ≥ 1")


def _check_frames(bundle: Bundle, frames: dict[str, np.ndarray], entry: dict) -> None:
    where = entry["path"]
    indices = frame_indices(frames)
    if not indices:
        raise ManifestError(f"{where}: holds no frames ('frame.<i>' arrays): nothing to check the pipeline on; rebuild the bundle")
    _check_grid(where, entry, bundle.pipeline["patch"])
    for i in indices:
        _frame(where, f"frame.{i}", frames)
        for theme in {a["theme"] for a in bundle.artifacts if a["role"] == "patch_model"}:
            for key in (f"torch_float.{theme}.{i}", f"torch_u8.{theme}.{i}"):
                if key not in frames or frames[key].shape != frames[f"frame.{i}"].shape:
                    raise ManifestError(f"{where}: '{key}' is missing or not shaped like frame {i}: rebuild the bundle")


def _check_cases(cases, arrays: dict[str, np.ndarray], where: str) -> None:
    if not isinstance(cases, list) or not cases:
        raise ManifestError(f"{where}: the manifest lists no stand-in cases: rebuild the bundle")
    for case in cases:
        name = f"{where}: case {case.get('key')!r}"
        if case.get("model") not in STAND_INS:
            raise ManifestError(f"{name}: unknown stand-in model {case.get('model')!r} (know {STAND_INS})")
        _check_grid(name, case, case.get("patch"))
        _frame(name, str(case.get("frame")), arrays)
        for suffix in ("float", "u8"):
            key = f"{case['key']}.{suffix}"
            if key not in arrays or arrays[key].shape != arrays[case["frame"]].shape:
                raise ManifestError(f"{name}: '{key}' is missing or not shaped like its frame: rebuild the bundle")


def _check_multiscale(bundle: Bundle, arrays: dict[str, np.ndarray], entry: dict) -> None:
    """Spec v2's golden file: settings spec v2 can run, every frame's layout and per-theme outputs, and
    stand-in cases whose frames and vectors are all there."""
    where = entry["path"]
    patch = bundle.pipeline["patch"]
    for case in [entry, *(entry.get("stand_ins") or [])]:
        try:
            settings_of(case).sizes(case.get("patch", patch))
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(f"{where}: spec v2 settings {case.get('key', '')} cannot run ({exc}): rebuild the bundle") from None
    indices = frame_indices(arrays)
    if not indices or not entry.get("stand_ins"):
        raise ManifestError(f"{where}: holds no spec v2 frames or stand-in cases: nothing to check; rebuild the bundle")
    themes = {a["theme"] for a in bundle.artifacts if a["role"] == "patch_model"}
    for i in indices:
        _frame(where, f"frame.{i}", arrays)
        cells = arrays.get(f"layout.{i}")
        if cells is None or cells.ndim != 2 or cells.shape[1] != 4:
            raise ManifestError(f"{where}: 'layout.{i}' must be a (K, 4) array of cells: rebuild the bundle")
        for theme in themes:
            floats, u8 = arrays.get(f"torch_float.{theme}.{i}"), arrays.get(f"torch_u8.{theme}.{i}")
            if floats is None or floats.shape != (len(cells), patch, patch, 3) or u8 is None or u8.shape != arrays[f"frame.{i}"].shape:
                raise ManifestError(f"{where}: theme {theme}'s outputs on frame {i} are missing or misshapen: rebuild the bundle")
    for case in entry["stand_ins"]:
        for f, key in enumerate(case["frames"]):
            _frame(where, key, arrays)
            for kind in ("layout", "u8"):
                if f"{case['key']}.{kind}.{f}" not in arrays:
                    raise ManifestError(f"{where}: case {case['key']!r} has no '{kind}' for frame {f}: rebuild the bundle")


def load_goldens(bundle: Bundle) -> Goldens:
    """The golden files, refused in one line unless every check can run on them. Spec v2's is optional
    (a bundle made before v2 has none), but checked like the others when the manifest lists it."""
    patches, _ = _arrays(bundle, "patches")
    frames, frames_entry = _arrays(bundle, "frames")
    stand_ins, pipeline_entry = _arrays(bundle, "pipeline")
    _check_frames(bundle, frames, frames_entry)
    _check_cases(pipeline_entry.get("cases"), stand_ins, pipeline_entry["path"])
    goldens = Goldens(patches, frames, frames_entry, stand_ins, pipeline_entry["cases"])
    if bundle.golden("multiscale") is not None:
        goldens.multiscale, goldens.multiscale_entry = _arrays(bundle, "multiscale")
        _check_multiscale(bundle, goldens.multiscale, goldens.multiscale_entry)
    return goldens
