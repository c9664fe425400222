"""manifest.json: the one file apps and readers trust, built from what is on disk and validated.

Why hashes and sizes are computed here from the files themselves (never carried over from the
converters): the manifest must describe the bytes that ship, so it is assembled after every file is
final and checked against the JSON Schema before it is written.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from convert.hashing import sha256, size
from reference_runtime.bundle_files import MANIFEST
from reference_runtime.manifest import SCHEMA  # the runtime reads what convert writes: one name for both
from ygan_mobile import __version__
from ygan_mobile.errors import YganError

VERSION = 1
NORMALISATION = "x = u8 / 127.5 - 1"
ROUNDING = "u8 = floor(clip((y + 1) * 127.5, 0, 255) + 0.5)"


def schema() -> dict[str, Any]:
    return json.loads(resources.files("reference_runtime").joinpath("manifest.schema.json").read_text())


def file_entry(bundle: Path, rel: str) -> dict[str, Any]:
    """Path, sha256 and size of one bundle file or directory artifact."""
    path = bundle / rel
    return {"path": rel, "sha256": sha256(path), "size": size(path)}


def _finite(value: Any) -> Any:
    """JSON has no Infinity: an exact match (infinite PSNR) is stored as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def build(*, kind: str, checkpoint_sha256: str, seed: int, patch: int, latent: int, pipeline: dict[str, Any],
          themes: list[str], thresholds: dict[str, float], golden: list[dict], artifacts: list[dict]) -> dict[str, Any]:
    """The manifest document; `pipeline` is model_card.pipeline_params(...), which the artifacts' own
    metadata repeats."""
    return _finite({
        "schema": SCHEMA, "version": VERSION, "tool_version": __version__,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": seed,
        "source": {"kind": kind, "checkpoint_sha256": checkpoint_sha256, "patch": patch, "latent": latent},
        "pipeline": pipeline,
        "themes": themes,
        "thresholds_db": thresholds,
        "golden": golden,
        "artifacts": artifacts,
    })


def validate(manifest: dict[str, Any]) -> None:
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(schema()).iter_errors(manifest), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(root)"
        raise YganError(f"manifest does not match its schema at {where}: {first.message[:200]}")


def write(bundle: Path, manifest: dict[str, Any]) -> Path:
    """Validate, then write manifest.json atomically."""
    from ygan_mobile.atomic import write_text

    validate(manifest)
    path = bundle / MANIFEST
    write_text(path, json.dumps(manifest, indent=2) + "\n")
    return path
