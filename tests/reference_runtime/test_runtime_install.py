"""The runtime installed as the README says, alone: a clean venv with `pip install "<project>[runtime]"`.

What a user's CI does: no torch, no tensorflow, then `pytest --ygan-bundle` on a bundle, which must
pass every check (Core ML through the runtime's own MIL reader) and leave the bundle as it was; and
`ygan` there lists its verbs, the training ones saying in one line what to install. The
source is copied first so the build writes nothing into this checkout. Packages come from the
configured index with the pinned constraints (the pip cache makes a second run quick).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import convert_tiny, tiny_student

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ygan", "ygan_mobile", "distill", "convert", "reference_runtime")


def _clean_env() -> dict[str, str]:
    """No PYTHONPATH: the venv must import what it installed, not this checkout."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def _run(*cmd, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("install")
    src = work / "ygan-mobile"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    env = work / "venv"
    made = _run(sys.executable, "-m", "venv", env, cwd=work)
    assert made.returncode == 0, made.stderr
    pip = _run(env / "bin" / "pip", "install", "-q", "-c", ROOT / "constraints.txt", f"{src}[runtime]", "pytest",
               cwd=work, timeout=1200)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    return env


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return convert_tiny(tiny_student(), tmp_path_factory.mktemp("install-bundle") / "bundle", ("onnx", "tflite", "coreml"))


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


@pytest.mark.slow
def test_the_runtime_alone_passes_a_bundle_without_torch_or_tensorflow(venv, bundle, tmp_path):
    python = venv / "bin" / "python"
    probe = _run(python, "-c", "import importlib.util as u, json; print(json.dumps({m: u.find_spec(m) is not None for m in "
                 "('torch', 'tensorflow', 'onnxruntime', 'ai_edge_litert', 'reference_runtime')}))", cwd=tmp_path)
    found = json.loads(probe.stdout)
    assert found == {"torch": False, "tensorflow": False, "onnxruntime": True, "ai_edge_litert": True,
                     "reference_runtime": True}, probe.stderr
    version = _run(python, "-m", "reference_runtime", "--version", cwd=tmp_path)
    assert version.returncode == 0 and re.fullmatch(r"reference_runtime \(ygan-mobile\) \d+\.\d+\.\d+", version.stdout.strip())

    manifest = json.loads((bundle / "manifest.json").read_text())
    cases = next(g for g in manifest["golden"] if g["kind"] == "pipeline")["cases"]
    v2_cases = next(g for g in manifest["golden"] if g["kind"] == "multiscale")["stand_ins"]
    frames = 4 * sum(a["role"] == "patch_model" for a in manifest["artifacts"])  # two golden frames per spec, v1 and v2
    expected = 1 + len(manifest["artifacts"]) + frames + len(cases) + len(v2_cases)
    before = _snapshot(bundle)
    run = _run(python, "-m", "pytest", "--ygan-bundle", bundle, "-q", cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert re.search(rf"\b{expected} passed\b", run.stdout), run.stdout[-2000:]
    assert _snapshot(bundle) == before


@pytest.mark.slow
def test_ygan_without_the_training_extras_says_so_in_one_line(venv, tmp_path):
    ygan = venv / "bin" / "ygan"
    help_text = _run(ygan, "--help", cwd=tmp_path)
    assert help_text.returncode == 0 and "Traceback" not in help_text.stderr, help_text.stderr
    assert "verify" in help_text.stdout and "[needs the training extras]" in help_text.stdout
    for verb in (["train"], ["convert", "--checkpoint", "run", "-o", "out"], ["build"]):
        said = _run(ygan, *verb, cwd=tmp_path)
        assert said.returncode == 2 and "Traceback" not in said.stderr, said.stderr
        assert said.stderr.strip().splitlines() == [
            f"ygan {verb[0]}: error: needs the training extras, and this environment has no 'torch': "
            'pip install "ygan-mobile[convert]" (the runtime alone runs verify, report and serve)']
