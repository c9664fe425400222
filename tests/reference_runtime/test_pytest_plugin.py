"""`pytest --ygan-bundle BUNDLE` gives one test per artifact, pipeline check and stand-in case.

Run in a child pytest (pytester) exactly as a user's CI would, through the installed entry point.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(scope="module")
def bundle(tiny_bundle, tmp_path_factory) -> Path:
    """A copy of the session's tiny bundle (conftest.py): under -p no:cacheprovider the plugin writes
    BUNDLE/parity.json, which the session's bundle must not get."""
    out = tmp_path_factory.mktemp("plugin") / "bundle"
    shutil.copytree(tiny_bundle, out)
    return out


def _artifact_checks(artifacts: list[dict]) -> int:
    """One check per artifact, and two pipeline frames more per patch model, for spec v1 and spec v2."""
    return len(artifacts) + 4 * sum(a["role"] == "patch_model" for a in artifacts)


def _expected_tests(bundle: Path) -> int:
    manifest = json.loads((bundle / "manifest.json").read_text())
    cases = next(g for g in manifest["golden"] if g["kind"] == "pipeline")["cases"]
    v2_cases = next(g for g in manifest["golden"] if g["kind"] == "multiscale")["stand_ins"]
    return 1 + _artifact_checks(manifest["artifacts"]) + len(cases) + len(v2_cases)  # manifest, artifacts, stand-ins


@pytest.mark.slow
def test_one_passing_test_per_check(pytester, bundle):
    result = pytester.runpytest_subprocess("--ygan-bundle", str(bundle), "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=_expected_tests(bundle))


@pytest.mark.slow
def test_a_failing_check_names_the_artifact(pytester, bundle):
    result = pytester.runpytest_subprocess("--ygan-bundle", str(bundle), "--ygan-threshold", "int8-full=200", "-q")
    int8 = [a for a in json.loads((bundle / "manifest.json").read_text())["artifacts"] if a["precision"] == "int8-full"]
    failing = _artifact_checks(int8)  # the int8 patch model fails on both frames of both specs too
    result.assert_outcomes(passed=_expected_tests(bundle) - failing, failed=failing)
    result.stdout.fnmatch_lines(["*tflite/patch_model.flowers.int8-full: golden patches: PSNR * dB < 200.0 dB*"])


@pytest.mark.slow
def test_a_tampered_bundle_fails_its_manifest_test(pytester, bundle, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    target = copy / "onnx" / "encoder.onnx"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 1
    target.write_bytes(bytes(data))
    result = pytester.runpytest_subprocess("--ygan-bundle", str(copy), "-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*onnx/encoder.onnx: sha256*"])


def test_without_the_option_the_plugin_adds_nothing(pytester):
    pytester.makepyfile("def test_one():\n    assert True\n")
    pytester.runpytest("-q").assert_outcomes(passed=1)


NO_LITERT = "import sys\nfor m in ('ai_edge_litert', 'ai_edge_litert.interpreter', 'tflite_runtime', 'tflite_runtime.interpreter'):\n    sys.modules[m] = None\n"


@pytest.mark.slow
def test_without_litert_the_plugin_agrees_with_the_cli(pytester, bundle):
    """Each TFLite check fails with verify's line unless skipped by name, then it is a skip with the reason."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    tflite = [a for a in manifest["artifacts"] if a["format"] == "tflite"]
    checks = _artifact_checks(tflite)
    pytester.makeconftest(NO_LITERT)
    result = pytester.runpytest_subprocess("--ygan-bundle", str(bundle), "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=_expected_tests(bundle) - checks, failed=checks)
    result.stdout.fnmatch_lines(["*tflite/encoder.fp32: golden patches: not verified: no TFLite interpreter*"])
    result.stdout.no_fnmatch_line("*StopIteration*")
    skipped = pytester.runpytest_subprocess("--ygan-bundle", str(bundle), "--ygan-skip-backend", "tflite",
                                            "-p", "no:cacheprovider", "-q", "-rs")
    skipped.assert_outcomes(passed=_expected_tests(bundle) - checks, skipped=checks)
    skipped.stdout.fnmatch_lines(["*tflite/encoder.fp32: not verified: skipped: --skip-backend tflite*"])


@pytest.mark.slow
def test_a_refused_bundle_is_one_line(pytester, bundle, tmp_path):
    import numpy as np

    from reference_runtime.manifest import file_sha256

    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    path = copy / "golden" / "patches.npz"
    np.savez(path, x=np.array([{"a": 1}], dtype=object))
    manifest = json.loads((copy / "manifest.json").read_text())
    entry = next(g for g in manifest["golden"] if g["kind"] == "patches")
    entry["sha256"], entry["size"] = file_sha256(path), path.stat().st_size
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = pytester.runpytest_subprocess("--ygan-bundle", str(copy), "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["verify: error: *patches.npz: holds something other than plain arrays*"])
    assert len(result.stdout.lines) < 12, "\n".join(result.stdout.lines)


RECORD_OPENED = """import reference_runtime.api as api

_open = api.open_model


def _recording(bundle, artifact_id, threads=2):
    with open({log!r}, "a") as handle:
        handle.write(artifact_id + "\\n")
    return _open(bundle, artifact_id, threads=threads)


api.open_model = _recording
"""


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


@pytest.mark.slow
def test_collect_only_lists_every_check_and_runs_none(pytester, bundle, tmp_path):
    log = tmp_path / "opened.txt"
    pytester.makeconftest(RECORD_OPENED.format(log=str(log)))
    result = pytester.runpytest_subprocess("--ygan-bundle", str(bundle), "--collect-only", "-q")
    node = f"ygan-bundle[{bundle}]"
    result.stdout.fnmatch_lines([f"{node}::manifest", f"{node}::model[onnx/encoder]",
                                 f"{node}::model[tflite/patch_model.flowers.int8-full]",
                                 f"{node}::pipeline[tflite/patch_model.flowers.int8-full-frame0]",
                                 f"{node}::multiscale[tflite/patch_model.flowers.int8-full-frame1]",
                                 f"{node}::stand_in[case.0-identity]",
                                 f"{node}::stand_in[multiscale.case.0-identity]",
                                 f"{_expected_tests(bundle)} tests collected*"])
    assert not log.exists(), "collecting opened an artifact"


@pytest.mark.slow
def test_k_runs_only_the_selected_checks_and_nothing_is_written(pytester, bundle, tmp_path):
    log = tmp_path / "opened.txt"
    pytester.makeconftest(RECORD_OPENED.format(log=str(log)))
    before = _snapshot(bundle)
    result = pytester.runpytest_subprocess("--ygan-bundle", str(bundle), "-k", "patch_model and int8-full", "-q")
    result.assert_outcomes(passed=5, deselected=_expected_tests(bundle) - 5)  # the model and its two frames of each spec
    assert log.read_text().split() == ["tflite/patch_model.flowers.int8-full"]  # opened once, nothing else
    assert _snapshot(bundle) == before
    assert not list(pytester.path.rglob("parity.json"))
