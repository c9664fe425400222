"""The layer rule of docs/design.md §2 (import-linter contracts in pyproject.toml), and proof that the
check fails when a forbidden import is added: a copy of the packages with one bad import each."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ygan", "convert", "distill", "ygan_mobile", "reference_runtime")
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--no-cache", "--no-logo", "--config", str(root / "pyproject.toml")],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)


def test_every_contract_is_kept():
    run = lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize("module, line, contract", [
    ("reference_runtime/metrics.py", "import torch", "reference_runtime stands for the phone"),
    ("reference_runtime/metrics.py", "import ygan_mobile.models", "reference_runtime stands for the phone"),
    ("reference_runtime/pipeline.py", "import coremltools.converters", "reference_runtime stands for the phone"),
    ("ygan_mobile/models.py", "import distill.students", "Stages point one way"),
    ("ygan_mobile/models.py", "import reference_runtime.pipeline", "Stages point one way"),
    ("distill/students.py", "import convert.plan", "Stages point one way"),
    ("distill/students.py", "import reference_runtime.metrics", "distill builds on the teacher only"),
    ("convert/plan.py", "import ygan.cli", "Stages point one way"),
    ("ygan_mobile/data/degrade.py", "import ygan_mobile.train", "No cycles"),
])
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, line, contract):
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # added by the test\n")
    run = lint(tmp_path)
    assert run.returncode == 1, run.stdout
    broken = run.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken and line.split()[-1].split(".")[0] in broken
