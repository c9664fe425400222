"""`verify` fails closed: what it could not check fails, unless its backend was skipped by name; options
and golden files it cannot honour are refused in one line before anything runs (issue 21, item 1).

Each breakage is what a convert bug or a hand edit leaves behind, re-hashed into the manifest so the
manifest reader accepts the bundle and only the gate itself can catch it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import tiny_student
from convert.bundle import convert
from convert.options import Options
from reference_runtime import verify as verify_module
from reference_runtime.cli import main as runtime_main
from reference_runtime.manifest import file_sha256, tree_sha256

TFLITE_PATCH_MODEL = "tflite/patch_model.flowers.fp32"
NO_LITERT = ("ai_edge_litert", "ai_edge_litert.interpreter", "tflite_runtime", "tflite_runtime.interpreter")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gate") / "bundle"
    convert(tiny_student(), out, Options(targets=["onnx", "tflite"], precisions=["fp32"], batch=2, calibration=16, golden=4))
    return out


@pytest.fixture
def copy(bundle, tmp_path) -> Path:
    out = tmp_path / "bundle"
    shutil.copytree(bundle, out)
    (out / "parity.json").unlink(missing_ok=True)
    return out


def _manifest(bundle: Path) -> dict:
    return json.loads((bundle / "manifest.json").read_text())


def _save_manifest(bundle: Path, manifest: dict) -> None:
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=1))


def _rehash(bundle: Path, rel: str) -> None:
    manifest = _manifest(bundle)
    for entry in [*manifest["artifacts"], *manifest["golden"]]:
        if entry["path"] == rel:
            path = bundle / rel
            entry["sha256"] = tree_sha256(path) if path.is_dir() else file_sha256(path)
            entry["size"] = 0 if path.is_dir() else path.stat().st_size
    _save_manifest(bundle, manifest)


def _rewrite_npz(bundle: Path, rel: str, edit) -> None:
    with np.load(bundle / rel, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    edit(arrays)
    with open(bundle / rel, "wb") as handle:
        np.savez(handle, **arrays)
    _rehash(bundle, rel)


def _verify(bundle: Path, *extra: str) -> int:
    return runtime_main(["verify", str(bundle), "--quiet", *extra])


@pytest.mark.slow
def test_an_artifact_that_cannot_be_loaded_fails_by_name(copy, capsys):
    (copy / f"{TFLITE_PATCH_MODEL}.tflite").write_bytes(b"not a flatbuffer" * 64)
    _rehash(copy, f"{TFLITE_PATCH_MODEL}.tflite")
    assert _verify(copy) == 1
    out = capsys.readouterr().out
    assert f"FAIL {TFLITE_PATCH_MODEL}: golden patches: {TFLITE_PATCH_MODEL}: LiteRT cannot load it" in out
    doc = json.loads((copy / "parity.json").read_text())
    assert doc["ok"] is False
    assert [r["status"] for r in doc["models"] if r["id"] == TFLITE_PATCH_MODEL] == ["fail"]
    assert {r["status"] for r in doc["pipeline"] if r["id"] == TFLITE_PATCH_MODEL} == {"fail"}


@pytest.mark.slow
def test_a_missing_backend_fails_unless_skipped_by_name(copy, capsys, monkeypatch):
    for name in NO_LITERT:
        monkeypatch.setitem(sys.modules, name, None)
    assert _verify(copy) == 1
    out = capsys.readouterr().out
    assert "FAIL tflite/encoder.fp32: golden patches: not verified: no TFLite interpreter" in out
    assert "--skip-backend tflite" in out

    assert _verify(copy, "--skip-backend", "tflite") == 0
    doc = json.loads((copy / "parity.json").read_text())
    assert doc["ok"] is True and doc["skipped_backends"] == ["tflite"]
    tflite = [r for r in [*doc["models"], *doc["pipeline"]] if r["id"].startswith("tflite/")]
    assert tflite and {(r["status"], r["reason"]) for r in tflite} == {("not verified", "skipped: --skip-backend tflite")}
    assert "0 fail, 7 not verified" in capsys.readouterr().out  # 3 models, 2 frames of the patch model, 2 of spec v2


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["--threads", "0"], ["--threads", "-1"], ["--skip-backend", "tensorflow"],
                                  ["--threshold", "int8=35"], ["--threshold", "fp32=nan"], ["-o", "."]],
                         ids=["zero-threads", "negative-threads", "unknown-backend", "unknown-precision", "nan-threshold",
                              "output-is-a-folder"])
def test_nonsense_options_are_refused_in_one_line(copy, capsys, argv):
    assert _verify(copy, *argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("verify: error: "), err
    assert not (copy / "parity.json").exists()


def _no_artifacts(bundle: Path) -> None:
    manifest = _manifest(bundle)
    manifest["artifacts"] = []
    _save_manifest(bundle, manifest)


def _no_frames(bundle: Path) -> None:
    _rewrite_npz(bundle, "golden/frames.npz", lambda a: [a.pop(k) for k in list(a) if k.startswith("frame.")])


def _object_array(bundle: Path) -> None:
    path = bundle / "golden" / "patches.npz"
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["x"] = np.array([{"a": 1}], dtype=object)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    _rehash(bundle, "golden/patches.npz")


def _stride_zero(bundle: Path) -> None:
    manifest = _manifest(bundle)
    next(g for g in manifest["golden"] if g["kind"] == "pipeline")["cases"][0]["stride"] = 0
    _save_manifest(bundle, manifest)


@pytest.mark.slow
@pytest.mark.parametrize("breakage, words", [(_no_artifacts, "lists no artifacts"), (_no_frames, "holds no frames"),
                                             (_object_array, "other than plain arrays"), (_stride_zero, "stride 0")],
                         ids=["no-artifacts", "no-frames", "object-array", "stride-zero"])
def test_goldens_that_cannot_drive_a_check_are_refused(copy, capsys, breakage, words):
    breakage(copy)
    assert _verify(copy) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and words in err, err
    assert not (copy / "parity.json").exists()


@pytest.mark.slow
def test_a_pipeline_check_that_raises_is_one_failed_row(copy, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the runner crashed")

    monkeypatch.setattr(verify_module, "render_with", broken)
    monkeypatch.setattr(verify_module.api, "render_multiscale", broken)
    assert _verify(copy) == 1
    out = capsys.readouterr().out
    manifest = _manifest(copy)
    doc = json.loads((copy / "parity.json").read_text())
    assert len(doc["models"]) == len(manifest["artifacts"])
    assert f"{len(manifest['artifacts'])} artifacts" in out
    assert all(r["status"] == "pass" for r in doc["models"])
    patch_models = [a["id"] for a in manifest["artifacts"] if a["role"] == "patch_model"]
    assert sorted(r["id"] for r in doc["pipeline"]) == sorted(4 * patch_models)  # two frames of each spec
    assert {(r["status"], r["reason"]) for r in doc["pipeline"]} == {("fail", "the runner crashed")}
    assert "golden frame multiscale.0 through the pipeline: the runner crashed" in out


@pytest.mark.slow
def test_a_symlink_leaving_an_mlpackage_is_refused(copy, capsys, tmp_path):
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"weights from elsewhere")
    package = copy / "coreml" / "patch_model.flowers.fp32.mlpackage"
    (package / "Data").mkdir(parents=True)
    (package / "Data" / "weight.bin").symlink_to(outside)
    manifest = _manifest(copy)
    manifest["artifacts"][0]["path"] = "coreml/patch_model.flowers.fp32.mlpackage"
    _save_manifest(copy, manifest)
    _rehash(copy, "coreml/patch_model.flowers.fp32.mlpackage")
    assert _verify(copy) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "symlink 'Data/weight.bin' that points outside the bundle" in err


@pytest.mark.slow
def test_parity_json_has_normal_permissions(copy):
    assert _verify(copy) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert (copy / "parity.json").stat().st_mode & 0o777 == 0o666 & ~umask
