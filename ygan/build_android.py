"""`ygan build --android-dir DIR`: put the bundle the Android demo needs into its assets.

Why atomic: Gradle packages whatever is in `app/src/main/assets/bundle` — a half-copied folder
would ship a manifest whose files are missing. The copy is assembled beside the target and swapped
in with renames, so the folder is always either the old bundle or the new one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from reference_runtime.bundle_files import MANIFEST
from ygan_mobile.errors import YganError

ASSETS = Path("app/src/main/assets/bundle")
COPIED = (MANIFEST, "tflite", "golden")


def copy_to_android(bundle: Path, android_dir: Path) -> Path:
    """Copy manifest.json, tflite/ and golden/ into DIR/app/src/main/assets/bundle; return that path."""
    missing = [name for name in COPIED if not (bundle / name).exists()]
    if missing:
        raise YganError(f"bundle '{bundle}' has no {', '.join(missing)}: build with the tflite target before --android-dir")
    if not android_dir.is_dir():
        raise YganError(f"--android-dir '{android_dir}' is not a directory: pass the Android project root (the one holding app/)")
    return copy_atomically(bundle, android_dir / ASSETS, COPIED)


def copy_atomically(bundle: Path, target: Path, names: tuple[str, ...]) -> Path:
    """Replace `target` by a copy of the bundle's `names`, swapped in by renames; return `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".bundle.copy-", dir=target.parent))
    try:
        fresh = staging / "bundle"
        fresh.mkdir()
        for name in names:
            source = bundle / name
            if source.is_dir():
                shutil.copytree(source, fresh / name)
            else:
                shutil.copy2(source, fresh / name)
        if target.exists():
            os.replace(target, staging / "old")
        os.replace(fresh, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
