"""The Android app's Kotlin pipeline core against a bundle's golden vectors (android_demo/run_tests.sh).

The core is compiled with kotlinc from npm and run with JUnit 4 from Debian (scripts/install.sh), so
this runs in make test on Linux without Gradle or the Android SDK. Mutants — a wrong feather weight,
a wrong rounding rule, pixel bytes quantised to nearest, and in spec v2 a wrong bilinear weight and
a hysteresis margin of the wrong sign — must make the Kotlin tests fail, or they prove nothing. With
YGAN_PYTHON the run adds RealModelTest: the real int8 .tflite through the app's model class, in
LiteRT through android_demo/litert_bridge.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
RUN = ROOT / "android_demo" / "run_tests.sh"
SRC = ROOT / "android_demo" / "pipeline" / "src"


@pytest.fixture
def bundle(tiny_bundle) -> Path:
    """The session's tiny bundle (conftest.py), read only."""
    return tiny_bundle


def run_kotlin(bundle: Path, src: Path = SRC, real_model: bool = True) -> tuple[int, int, str]:
    env = {k: v for k, v in os.environ.items() if k != "YGAN_PYTHON"}
    if real_model:
        env["YGAN_PYTHON"] = sys.executable
    done = subprocess.run(["bash", str(RUN), str(bundle), str(src)], capture_output=True, text=True, timeout=600, env=env)
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    match = re.fullmatch(r"(\d+) passed, (\d+) failed", last)
    assert match, f"no closing 'N passed, M failed' line:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return int(match[1]), int(match[2]), done.stdout


def mutant(tmp_path: Path, file: str, old: str, new: str) -> Path:
    src = tmp_path / "src"
    shutil.copytree(SRC, src)
    path = src / "main" / "kotlin" / "ygan" / "pipeline" / file
    text = path.read_text()
    assert old in text, f"{file} no longer contains {old!r}: update the mutant"
    path.write_text(text.replace(old, new))
    return src


@pytest.mark.slow
def test_kotlin_core_matches_the_golden_vectors(bundle):
    passed, failed, out = run_kotlin(bundle)
    assert failed == 0 and passed >= 10, out
    without, failed, out = run_kotlin(bundle, real_model=False)
    assert failed == 0 and without == passed - 2, out  # the real-model tests (v1 and v2) ran in the first run, and passed


@pytest.mark.slow
def test_a_corrupted_real_model_makes_the_app_test_fail(bundle, tmp_path):
    """The app-level test bites: int8 output bytes read as unsigned (a sign bug in the buffers) is a wrong frame."""
    passed, failed, out = run_kotlin(bundle, mutant(tmp_path, "TensorIo.kt", "q.dequantise(if (spec.dtype == \"uint8\") raw and 0xFF else raw)",
                                                    "q.dequantise(raw and 0xFF)"))
    assert "RealModelTest" in out and failed > 0, out


@pytest.mark.slow
@pytest.mark.parametrize("file, old, new, caught_by", [
    ("Grid.kt", "(i + 0.5) / overlap", "(i + 1.0) / overlap", "GoldenPipelineTest"),
    ("Pixels.kt", "floor(scaled + 0.5f)", "floor(scaled)", "GoldenPipelineTest"),
    ("Multiscale.kt", "w0[t] = 2 * f - r", "w0[t] = 2 * f - r - 1", "MultiscaleGoldenTest"),
    ("Multiscale.kt", "cell.wasSplit -> (s.threshold - s.hysteresis)", "cell.wasSplit -> (s.threshold + s.hysteresis)", "MultiscaleTest"),
    ("Quant.kt", "if (pixelBytes) Math.floor(v) else Math.rint(v)", "Math.rint(v)", "GridTest"),
], ids=["feather-weight", "rounding", "v2-bilinear-weight", "v2-hysteresis", "pixel-bytes"])
def test_a_wrong_rule_makes_the_kotlin_tests_fail(bundle, tmp_path, file, old, new, caught_by):
    passed, failed, out = run_kotlin(bundle, mutant(tmp_path, file, old, new))
    assert failed > 0, out
    assert caught_by in out
