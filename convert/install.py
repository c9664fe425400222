"""Move a finished staging directory into the bundle so no reader ever sees a half-written bundle.

Why this order: the old manifest goes first (a directory without manifest.json is "no bundle", never
"a bundle pointing at missing files"), then each converted folder is swapped in with a rename, and
the new manifest arrives last with os.replace. Folders other stages own (checkpoints/, report/) are
left alone, so `ygan build` can convert into the bundle that already holds its checkpoints.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from pathlib import Path

from reference_runtime.bundle_files import MANIFEST

MANAGED = ("onnx", "tflite", "coreml", "golden")


OWNER = ".owner-pid"


def staging_dir(out: Path) -> Path:
    """A fresh directory beside `out` (same filesystem, so renames are atomic), holding the pid of
    its run. Staging folders of runs that died (SIGKILL, power loss) are removed first."""
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.convert-", dir=out.parent))
    (staging / OWNER).write_text(str(os.getpid()))
    return staging


def remove_stale(out: Path) -> list[Path]:
    """Remove the staging folders beside `out` whose run is no longer alive; a folder without a pid
    (written before this rule, or killed before writing it) counts as dead."""
    removed = []
    for folder in out.parent.glob(f".{glob.escape(out.name)}.convert-*"):
        if folder.is_dir() and not _alive(folder / OWNER):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text()), 0)
    except PermissionError:  # a process of another user: alive
        return True
    except (OSError, ValueError):  # no file, no number, no such process
        return False
    return True


def install(staging: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST
    if manifest.exists():
        manifest.unlink()
    trash = staging / ".replaced"
    trash.mkdir()
    for name in MANAGED:
        if (out / name).exists():
            os.replace(out / name, trash / name)
        if (staging / name).exists():
            os.replace(staging / name, out / name)
    os.replace(staging / MANIFEST, manifest)
    shutil.rmtree(staging, ignore_errors=True)
