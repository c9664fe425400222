"""The runtime's Python API (reference_runtime/__init__.py): what a script or a CI job calls.

open_bundle → open_model → render_frame gives the pipeline's bytes; a runner is a model callable;
verify_bundle(write=False) and `verify --no-write` leave the bundle untouched; `--version` answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import reference_runtime as rr
from convert.bundle import Options, convert
from reference_runtime import fast_paths, pipeline
from reference_runtime.cli import main as runtime_main
from reference_runtime.goldens import load_goldens
from conftest import tiny_student

INT8 = "tflite/patch_model.flowers.int8-full"
FP32 = "onnx/patch_model.flowers"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("api") / "bundle"
    convert(tiny_student(), out, Options(targets=["onnx", "tflite"], precisions=["fp32", "int8-full"],
                                         batch=2, calibration=16, golden=4))
    return out


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


def test_a_runner_is_a_model_callable(bundle):
    b = rr.open_bundle(bundle)
    runner = rr.open_model(b, FP32)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 16, 16)).astype(np.float32)
    np.testing.assert_array_equal(runner(x), runner.run(x))
    frame = load_goldens(b).frames["frame.0"]
    out = fast_paths.render_frame(frame, [runner], patch=16, stride=8, batch=2)  # raised TypeError before
    assert out.shape == frame.shape and out.dtype == np.uint8


def test_render_frame_takes_patch_and_batch_from_the_artifact(bundle):
    b = rr.open_bundle(bundle)
    frame = load_goldens(b).frames["frame.0"]
    stride = b.pipeline["stride"]
    for artifact_id in (FP32, INT8):  # the int8-full model goes through its byte tables, the same bytes
        runner = rr.open_model(b, artifact_id)
        patch = runner.artifact["inputs"][0]["shape"][2 if runner.artifact["layout"] == "NCHW" else 1]
        want = fast_paths.render_frame(frame, [runner], patch=patch, stride=stride, batch=runner.artifact["batch"])
        np.testing.assert_array_equal(rr.render_frame(frame, runner, stride=stride), want)
    square = np.ascontiguousarray(frame[:32, :32])  # stride = patch by default: the exact-tiling path
    int8 = rr.open_model(b, INT8)
    np.testing.assert_array_equal(rr.render_frame(square, int8),
                                  fast_paths.render_frame(square, [int8], patch=16, stride=16, batch=2))


def test_render_float_is_render_frame_before_rounding_with_runners_in_their_own_layout(bundle):
    """The API calls a float runner in its artifact's layout (run_native) and feeds a full-integer one
    bytes; either way the floats are those of the runner called on NCHW (run), as verify once drove it."""
    b = rr.open_bundle(bundle)
    frame = load_goldens(b).frames["frame.0"]
    for artifact_id in (FP32, "tflite/patch_model.flowers.fp32", INT8):
        runner = rr.open_model(b, artifact_id)
        on_nchw = pipeline.render_float(frame, [runner.run], patch=16, stride=8, batch=2, layout="NCHW")
        got = rr.render_float(frame, runner, stride=8)
        np.testing.assert_array_equal(got, on_nchw)
        np.testing.assert_array_equal(pipeline.quantise(got), rr.render_frame(frame, runner, stride=8))


def test_several_themes_and_plain_callables(bundle):
    b = rr.open_bundle(bundle)
    frame = load_goldens(b).frames["frame.0"]
    identity = rr.render_frame(frame, lambda x: x, patch=16, batch=3, stride=8)
    assert np.abs(identity.astype(int) - frame).max() <= 1
    with pytest.raises(ValueError, match="patch= and batch="):
        rr.render_frame(frame, lambda x: x)
    runner = rr.open_model(b, FP32)
    grid_rows, grid_cols = len(pipeline.positions(frame.shape[0], 16, 16)), len(pipeline.positions(frame.shape[1], 16, 16))
    themes = (np.arange(grid_rows * grid_cols) % 2).reshape(grid_rows, grid_cols)
    mixed = rr.render_frame(frame, [runner, lambda x: x], theme_map=themes)
    alone = rr.render_frame(frame, runner)
    assert (mixed != alone).any() and (mixed[:16, :16] == alone[:16, :16]).all()  # patch (0, 0) is theme 0


def test_unknown_artifact_is_a_key_error(bundle):
    with pytest.raises(KeyError, match="no artifact 'tflite/nothing'"):
        rr.open_model(bundle, "tflite/nothing")


def test_verify_without_writing_leaves_the_bundle_as_it_was(bundle, capsys):
    before = _snapshot(bundle)
    doc = rr.verify_bundle(bundle, write=False)
    assert doc["ok"] and len(doc["models"]) == len(json.loads((bundle / "manifest.json").read_text())["artifacts"])
    assert runtime_main(["verify", str(bundle), "--no-write", "-q"]) == 0
    assert "pass, 0 fail" in capsys.readouterr().out
    assert _snapshot(bundle) == before and not (bundle / "parity.json").exists()


def test_no_write_and_out_contradict(bundle, tmp_path, capsys):
    assert runtime_main(["verify", str(bundle), "--no-write", "-o", str(tmp_path / "p.json")]) == 2
    assert "contradict" in capsys.readouterr().err and not (tmp_path / "p.json").exists()


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        runtime_main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"reference_runtime (ygan-mobile) {rr.__version__}"
    assert rr.__version__[0].isdigit()
