"""`ygan build --web-dir DIR`: put the bundle the web page needs into DIR/bundle (where it looks).

The page runs ONNX patch models only, so it gets manifest.json, onnx/ and golden/ (the golden frames
are what its browser test renders); the copy is atomic, as for the Android assets.
"""

from __future__ import annotations

from pathlib import Path

from reference_runtime.bundle_files import MANIFEST
from ygan.build_android import copy_atomically
from ygan_mobile.errors import YganError

COPIED = (MANIFEST, "onnx", "golden")


def copy_to_web(bundle: Path, web_dir: Path) -> Path:
    """Copy manifest.json, onnx/ and golden/ into DIR/bundle; return that path."""
    missing = [name for name in COPIED if not (bundle / name).exists()]
    if missing:
        raise YganError(f"bundle '{bundle}' has no {', '.join(missing)}: build with the onnx target before --web-dir")
    if not (web_dir / "index.html").is_file():
        raise YganError(f"--web-dir '{web_dir}' has no index.html: pass the web page's folder (web_demo)")
    return copy_atomically(bundle, web_dir / "bundle", COPIED)
