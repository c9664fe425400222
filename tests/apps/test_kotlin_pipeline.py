"""The Android app's Kotlin pipeline core against a bundle's golden vectors (android_demo/run_tests.sh).

The core is compiled with kotlinc from npm and run with JUnit 4 from Debian (scripts/install.sh), so
this runs in make test on Linux without Gradle or the Android SDK. Two mutants — a wrong feather
weight and a wrong rounding rule — must make the Kotlin tests fail, or they prove nothing. With
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
    assert failed == 0 and without == passed - 1, out  # the real-model test ran in the first run, and passed


@pytest.mark.slow
def test_a_corrupted_real_model_makes_the_app_test_fail(bundle, tmp_path):
    """The app-level test bites: int8 output bytes read as unsigned (a sign bug in the buffers) is a wrong frame."""
    passed, failed, out = run_kotlin(bundle, mutant(tmp_path, "TensorIo.kt", "q.dequantise(if (spec.dtype == \"uint8\") raw and 0xFF else raw)",
                                                    "q.dequantise(raw and 0xFF)"))
    assert "RealModelTest" in out and failed > 0, out


@pytest.mark.slow
@pytest.mark.parametrize("file, old, new", [
    ("Grid.kt", "(i + 0.5) / overlap", "(i + 1.0) / overlap"),
    ("Pixels.kt", "floor(scaled + 0.5f)", "floor(scaled)"),
], ids=["feather-weight", "rounding"])
def test_a_wrong_rule_makes_the_kotlin_tests_fail(bundle, tmp_path, file, old, new):
    passed, failed, out = run_kotlin(bundle, mutant(tmp_path, file, old, new))
    assert failed > 0, out
    assert "GoldenPipelineTest" in out
