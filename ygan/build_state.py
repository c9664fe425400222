"""BUNDLE/build.json: per stage, the sha256 of what went in and of every file that came out.

Why content hashes rather than timestamps: a stage is skipped only when its inputs (resolved config,
the upstream stage's output checkpoint, the tool version) hash the same AND its recorded outputs are
still on disk byte for byte, so a deleted or edited file, a changed override or a new teacher all
rerun exactly the stages they affect. The file is rewritten atomically after every state change, so
a Ctrl-C or a kill leaves the last consistent record, and a stage caught mid-run is marked
"running"/"interrupted" with the inputs it was started with — the next build resumes it only if those
inputs still match.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ygan_mobile.atomic import write_text

FILENAME = "build.json"
FORMAT = "ygan-mobile/build"
VERSION = 1


def digest(value: Any) -> str:
    """sha256 of a JSON value in canonical form (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def path_sha256(path: Path) -> str:
    """A file's sha256, or a directory's as DESIGN §5 hashes an .mlpackage."""
    from convert.hashing import sha256

    return sha256(path)


def tree_fingerprint(path: str) -> list[list[Any]]:
    """(relative path, size, mtime_ns) of every file under a user data path: cheap, and enough to
    notice added, removed or rewritten images without reading them all."""
    root = Path(path)
    if root.is_file():
        st = root.stat()
        return [[root.name, st.st_size, st.st_mtime_ns]]
    if not root.is_dir():
        return []
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return [[p.relative_to(root).as_posix(), p.stat().st_size, p.stat().st_mtime_ns] for p in files]


@dataclass
class StageRecord:
    inputs_sha256: str
    status: str  # "running" | "interrupted" | "done"
    outputs: dict[str, str] = field(default_factory=dict)  # bundle-relative path -> sha256
    numbers: dict[str, Any] = field(default_factory=dict)  # what the summary shows
    seconds: float = 0.0  # wall time of the run that produced the outputs (all invocations)


@dataclass
class BuildState:
    stages: dict[str, StageRecord] = field(default_factory=dict)
    last_run: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage -> {"status", "seconds"}
    meta: dict[str, Any] = field(default_factory=dict)  # tool version, preset, overrides


def load(bundle: Path) -> BuildState:
    """The recorded state; a missing or unreadable file means nothing is known, so everything reruns."""
    path = bundle / FILENAME
    try:
        raw = json.loads(path.read_text())
        if raw.get("format") != FORMAT or raw.get("version") != VERSION:
            return BuildState()
        stages = {name: StageRecord(**rec) for name, rec in raw.get("stages", {}).items()}
        return BuildState(stages, raw.get("last_run", {}), raw.get("meta", {}))
    except (OSError, ValueError, TypeError, AttributeError):
        return BuildState()


def save(bundle: Path, state: BuildState) -> None:
    doc = {"format": FORMAT, "version": VERSION, "meta": state.meta,
           "stages": {name: asdict(rec) for name, rec in state.stages.items()}, "last_run": state.last_run}
    write_text(bundle / FILENAME, json.dumps(doc, indent=2) + "\n")


def hash_outputs(bundle: Path, rels: list[str]) -> dict[str, str]:
    return {rel: path_sha256(bundle / rel) for rel in rels}


def outputs_intact(bundle: Path, record: StageRecord) -> bool:
    """Every recorded output still exists with the recorded hash."""
    for rel, expected in record.outputs.items():
        path = bundle / rel
        if not path.exists() or path_sha256(path) != expected:
            return False
    return bool(record.outputs)


def up_to_date(bundle: Path, record: StageRecord | None, inputs_sha256: str) -> bool:
    return (record is not None and record.status == "done" and record.inputs_sha256 == inputs_sha256
            and outputs_intact(bundle, record))


def resumable(record: StageRecord | None, inputs_sha256: str, checkpoint: Path) -> bool:
    """An unfinished run of the same inputs whose checkpoint exists: continue it, don't restart."""
    return (record is not None and record.status in ("running", "interrupted")
            and record.inputs_sha256 == inputs_sha256 and checkpoint.is_file())
