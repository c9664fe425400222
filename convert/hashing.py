"""sha256 of bundle files and of directory artifacts, exactly as DESIGN §5 defines them.

A `.mlpackage` is a directory, so its hash is the sha256 of the text made of one line
`<sha256 of file>  <relative posix path>\\n` per file inside it, sorted bytewise by path: every reader
(Python, Kotlin, Swift) can recompute it without caring about directory-listing order.

Deliberate twin of reference_runtime.manifest's file_sha256/tree_sha256: the writer and the reader
of a bundle compute the hash independently from DESIGN §5's definition, so a slip in either shows
as a refused bundle in the tests instead of agreeing with itself.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def dir_sha256(path: Path) -> str:
    lines = sorted(
        (p.relative_to(path).as_posix(), file_sha256(p)) for p in path.rglob("*") if p.is_file()
    )
    lines.sort(key=lambda item: item[0].encode("utf-8"))
    text = "".join(f"{digest}  {rel}\n" for rel, digest in lines)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256(path: Path) -> str:
    """The manifest hash of a file or a directory artifact."""
    return dir_sha256(path) if path.is_dir() else file_sha256(path)


def size(path: Path) -> int:
    """Bytes on disk: a file's size, or the sum over a directory artifact's files."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
