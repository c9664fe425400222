"""A convert killed mid-run (SIGKILL) leaves its staging folder, onnx2tf's work folder inside it; the
next convert into the same bundle removes it, and leaves alone a folder whose run is still alive."""

from __future__ import annotations

import os
import subprocess
import sys

from convert.install import OWNER, staging_dir


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_staging_folders_of_dead_runs_are_removed(tmp_path):
    out = tmp_path / "bundle"
    killed = tmp_path / ".bundle.convert-killed"
    (killed / ".scratch" / "onnx2tf-x1y2").mkdir(parents=True)
    (killed / ".scratch" / "onnx2tf-x1y2" / "model.tflite").write_bytes(b"\0" * 4096)
    (killed / OWNER).write_text(str(_dead_pid()))
    older = tmp_path / ".bundle.convert-older"  # killed before it wrote its pid
    older.mkdir()
    running = tmp_path / ".bundle.convert-running"
    running.mkdir()
    (running / OWNER).write_text(str(os.getpid()))
    other = tmp_path / ".other.convert-killed"  # another bundle's: not ours to judge
    other.mkdir()

    staging = staging_dir(out)

    assert not killed.exists() and not older.exists()
    assert running.is_dir() and other.is_dir()
    assert (staging / OWNER).read_text() == str(os.getpid())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".bundle.convert-running", ".other.convert-killed",
                                                                  staging.name])
