"""The bundle's manifest validates, and one changed byte in any file makes the reader refuse it.

The reader is the runtime engineer's `reference_runtime.manifest.read_manifest`; the directory hash
is also recomputed here from DESIGN §5's words, independently of convert.hashing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from conftest import convert_tiny, tiny_teacher
from convert.manifest import validate


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return convert_tiny(tiny_teacher(), tmp_path_factory.mktemp("b") / "bundle", ("onnx", "tflite", "coreml"))


def _files(bundle: Path) -> list[str]:
    manifest = json.loads((bundle / "manifest.json").read_text())
    return [a["path"] for a in manifest["artifacts"]] + [g["path"] for g in manifest["golden"]]


def test_manifest_validates_and_lists_every_file(bundle):
    manifest = json.loads((bundle / "manifest.json").read_text())
    validate(manifest)
    assert {a["format"] for a in manifest["artifacts"]} == {"onnx", "tflite", "coreml"}
    on_disk = {p.relative_to(bundle).as_posix() for d in ("onnx", "tflite", "golden") for p in (bundle / d).iterdir()}
    on_disk |= {p.relative_to(bundle).as_posix() for p in (bundle / "coreml").iterdir()}
    assert on_disk == set(_files(bundle))


def test_directory_hash_follows_the_spec(bundle):
    manifest = json.loads((bundle / "manifest.json").read_text())
    entry = next(a for a in manifest["artifacts"] if a["format"] == "coreml")
    root = bundle / entry["path"]
    lines = sorted((p.relative_to(root).as_posix().encode(), hashlib.sha256(p.read_bytes()).hexdigest())
                   for p in root.rglob("*") if p.is_file())
    text = "".join(f"{digest}  {rel.decode()}\n" for rel, digest in lines)
    assert entry["sha256"] == hashlib.sha256(text.encode()).hexdigest()


def test_one_changed_byte_is_refused_naming_the_file(bundle, tmp_path):
    from reference_runtime import manifest as reader

    reader.read_manifest(bundle)
    for rel in _files(bundle):
        copy = tmp_path / rel.replace("/", "_")
        shutil.copytree(bundle, copy)
        target = copy / rel
        if target.is_dir():  # an .mlpackage: change its largest file (the weights)
            target = max((p for p in target.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        with pytest.raises(reader.ManifestError) as err:
            reader.read_manifest(copy)
        assert rel in str(err.value), f"message does not name {rel}: {err.value}"
        shutil.rmtree(copy)
