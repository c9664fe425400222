"""Reading a bundle the way a phone must: refuse it unless every file is the one the manifest names.

A bundle that fails any check is refused whole, with a message naming the file, so nothing runs on
an artifact that was changed, truncated, swapped or placed outside the bundle after conversion.
The hashing rules are DESIGN §5's (docs/bundle.md "Hashing"), written here again on purpose: the
runtime must not trust convert's code to check convert's output.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

import jsonschema
import numpy as np

from reference_runtime.bundle_files import MANIFEST

SCHEMA = "ygan-mobile/manifest"
VERSIONS = (1,)
CHUNK = 1 << 20


class ManifestError(Exception):
    """A bundle this runtime must not run; the message names the file and what is wrong."""


@dataclass
class Bundle:
    root: Path
    data: dict
    artifacts: list[dict]

    @property
    def pipeline(self) -> dict:
        return self.data["pipeline"]

    @property
    def themes(self) -> list[str]:
        return self.data["themes"]

    def artifact(self, artifact_id: str) -> dict:
        for a in self.artifacts:
            if a["id"] == artifact_id:
                return a
        raise KeyError(f"no artifact '{artifact_id}' in {self.root / MANIFEST}")

    def golden(self, kind: str) -> dict | None:
        return next((g for g in self.data["golden"] if g["kind"] == kind), None)

    def path(self, entry: dict) -> Path:
        return self.root / entry["path"]


def artifact_patch(artifact: dict) -> int:
    """The patch size P of an image artifact, from its input shape in the artifact's own layout."""
    shape = artifact["inputs"][0]["shape"]
    return int(shape[1] if artifact["layout"] == "NHWC" else shape[2])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_sha256(path: Path) -> str:
    """A directory artifact: sha256 of '<file sha256>  <posix path>\\n' lines sorted bytewise by path.
    Deliberate twin of convert.hashing (written independently: the runtime imports nothing of ours)."""
    entries = sorted(((p.relative_to(path).as_posix().encode("utf-8"), p) for p in path.rglob("*") if p.is_file()),
                     key=lambda item: item[0])
    text = b"".join(f"{file_sha256(p)}  ".encode() + rel + b"\n" for rel, p in entries)
    return hashlib.sha256(text).hexdigest()


def _schema() -> dict:
    return json.loads(resources.files("reference_runtime").joinpath("manifest.schema.json").read_text())


def _inside(root: Path, rel: str, manifest: Path) -> Path:
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or "\\" in rel:
        raise ManifestError(f"{manifest}: path '{rel}' leaves the bundle: paths must be relative and stay inside it")
    path = (root / pure).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ManifestError(f"{manifest}: path '{rel}' resolves outside the bundle (a symlink?)")
    return path


def _links_inside(root: Path, folder: Path, rel: str, manifest: Path) -> None:
    """Every symlink within a directory artifact must stay in the bundle: the hash reads through
    them, so one pointing out would vouch for a file the bundle does not hold."""
    inside = root.resolve()
    for where, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            link = Path(where) / name
            if link.is_symlink() and not link.resolve().is_relative_to(inside):
                raise ManifestError(f"{manifest}: '{rel}' holds a symlink '{link.relative_to(folder).as_posix()}' "
                                    "that points outside the bundle: rebuild or re-download the bundle")


def _check_entry(root: Path, entry: dict, manifest: Path) -> None:
    rel = entry["path"]
    path = _inside(root, rel, manifest)
    if path.is_dir():
        _links_inside(root, path, rel, manifest)
    if not path.exists():
        raise ManifestError(f"{rel}: listed in {manifest.name} but missing from the bundle")
    actual = tree_sha256(path) if path.is_dir() else file_sha256(path)
    if actual != entry["sha256"]:
        raise ManifestError(f"{rel}: sha256 {actual[:12]}… does not match the manifest's {entry['sha256'][:12]}…: "
                            "the file changed after conversion; rebuild or re-download the bundle")


def read_manifest(bundle: str | Path) -> Bundle:
    """The validated manifest of a bundle directory; raises ManifestError naming what is wrong."""
    root = Path(bundle)
    manifest = root / MANIFEST
    if not manifest.is_file():
        raise ManifestError(f"{manifest}: not found: pass a bundle directory written by 'ygan convert' or 'ygan build'")
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{manifest}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ManifestError(f"{manifest}: schema {data.get('schema') if isinstance(data, dict) else None!r} is not '{SCHEMA}'")
    if data.get("version") not in VERSIONS:
        raise ManifestError(f"{manifest}: version {data.get('version')!r} is not one this runtime knows ({VERSIONS}): "
                            "update reference_runtime or rebuild the bundle")
    try:
        jsonschema.validate(data, _schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise ManifestError(f"{manifest}: {where}: {exc.message}") from None
    for entry in [*data["artifacts"], *data["golden"]]:
        _check_entry(root, entry, manifest)
    return Bundle(root, data, data["artifacts"])


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """A golden .npz as plain arrays; object arrays are refused (no unpickling), in one line."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except ValueError as exc:  # object arrays, and npz members that are not arrays
        raise ManifestError(f"{path}: holds something other than plain arrays ({str(exc).splitlines()[0]}): "
                            "rebuild the bundle") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ManifestError(f"{path}: not a readable .npz ({str(exc).splitlines()[0]}): rebuild the bundle") from None
