"""Move a finished staging directory into the bundle so no reader ever sees a half-written bundle.

Why this order: the old manifest goes first (a directory without manifest.json is "no bundle", never
"a bundle pointing at missing files"), then each converted folder is swapped in with a rename, and
the new manifest arrives last with os.replace. Folders other stages own (checkpoints/, report/) are
left alone, so `ygan build` can convert into the bundle that already holds its checkpoints.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MANAGED = ("onnx", "tflite", "coreml", "golden")


def staging_dir(out: Path) -> Path:
    """A fresh directory beside `out` (same filesystem, so renames are atomic)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.convert-", dir=out.parent))


def install(staging: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.json"
    if manifest.exists():
        manifest.unlink()
    trash = staging / ".replaced"
    trash.mkdir()
    for name in MANAGED:
        if (out / name).exists():
            os.replace(out / name, trash / name)
        if (staging / name).exists():
            os.replace(staging / name, out / name)
    os.replace(staging / "manifest.json", manifest)
    shutil.rmtree(staging, ignore_errors=True)
