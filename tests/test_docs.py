"""The README and the docs are for users, and point at what exists.

- Every path a doc names, and every relative link (with its #anchor), resolves: a moved or renamed
  module must take its mentions along (docs/pipeline.md once cited a removed render/modes.py).
- The README and the reference docs (docs/*.md) say what the toolchain does, how to use it and what
  was measured, not how the work went: no temporary paths, commit hashes or process words ("stop 33",
  "the sixth round", probes, "this session", issue numbers). That history lives in the dated lab notes
  of docs/lab/, which are exempt, and is not linked from the README's first screen.
- The README stays short (≤ 150 lines) and keeps the two commands; CI (.ci/run) runs its test command.
- The Python sources and presets cite files that exist, and cite history where it now lives: a
  docstring naming docs/training.md's "sixth round" must name the lab note that holds it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT

FOLDERS = "docs|ygan_mobile|ygan|distill|convert|reference_runtime|scripts|tests|benchmarks|android_demo|ios_demo|web_demo"
PATH = re.compile(rf"(?<![\w/.-])((?:{FOLDERS})/[\w./-]*\w)")
# Paths a build or an install creates, and the docs' NAME stand-in: not files of the repository.
MADE = ("NAME", "web_demo/bundle", "assets/bundle", "node_modules")
README = ROOT / "README.md"
LAB = ROOT / "docs" / "lab"
REFERENCE = [README, *sorted((ROOT / "docs").glob("*.md"))]  # what a user reads; lab notes are not among them
DOCS = [*REFERENCE, *sorted(LAB.glob("*.md"))]
SOURCE_DIRS = ("ygan", "ygan_mobile", "reference_runtime", "convert", "distill", "scripts")
SOURCES = sorted(p for d in SOURCE_DIRS for ext in ("py", "toml") for p in (ROOT / d).rglob(f"*.{ext}"))
README_MAX_LINES = 150
FIRST_SCREEN = 40  # README lines a reader sees before scrolling

TEMP_PATH = re.compile(r"(?<![\w.~-])/(?:tmp|work|var/tmp|scratch)/|(?<![\w.~-])/home/\w")
# A run of 7-40 hex digits with a letter and a digit, standing alone: a commit hash. Colours (#rrggbb)
# are 6 digits and a sha256 (64) is longer than the run this matches, so neither counts.
HASH = re.compile(r"(?<![\w#.:/-])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}(?![\w-])")
ORDINAL = (r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
           r"thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|next|previous)")
PROCESS = re.compile(
    r"\bstops?[ -]\d+\b"                                  # "stop 33", "stop-29": a working stop
    rf"|\b{ORDINAL}\s+rounds?\b"                          # "the sixth round"
    r"|\bprobes?\b|\bprobed\b"                            # experiments belong in lab notes
    r"|\b(?:this|a|next|previous|last)\s+session\b"       # (a pytest session is "the session")
    r"|\bthis\s+(?:stop|round|time|fix|branch)\b"
    r"|\bwe\s+(?:tried|probed|found|decided|chose|ran)\b"
    r"|(?<![\w/])I\s+(?:added|tried|ran|re-converted|estimated|measured|found|decided)\b"
    r"|\bissues?\s+#?\d+\b",
    re.IGNORECASE,
)
# Names of methods that contain a process word but say what is done, not how the work went.
ALLOWED = ("oracle probe",)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# A doc cited with a section that moved to the lab notes: "docs/training.md, sixth round".
MOVED_CITATION = re.compile(
    rf"docs/(?!lab/)[\w/.-]+\.md\W{{0,4}}[^\n]{{0,40}}?\b(?:stop[ -]\d+|{ORDINAL}\s+rounds?|probes?\s+[A-Z]\d)",
    re.IGNORECASE,
)


def mentions(text: str) -> list[str]:
    return [m for m in PATH.findall(text) if not any(part in m for part in MADE)]


def history(text: str) -> list[str]:
    """Every temporary path, commit hash and process word in `text`, one entry per hit, with its line."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        clean = line
        for phrase in ALLOWED:
            clean = re.sub(re.escape(phrase), "", clean, flags=re.IGNORECASE)
        for kind, pattern in (("temporary path", TEMP_PATH), ("commit hash", HASH), ("process word", PROCESS)):
            found += [f"line {number}: {kind} {m.group(0)!r}" for m in pattern.finditer(clean)]
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", text, re.MULTILINE)}


def broken_links(doc: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.DOTALL)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][\w+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target} (no heading with that anchor)")
    return broken


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_path_a_doc_names_exists(doc):
    missing = [m for m in mentions(doc.read_text(encoding="utf-8")) if not (ROOT / m).exists()]
    assert not missing, f"{rel(doc)} names files that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_relative_link_resolves(doc):
    broken = broken_links(doc)
    assert not broken, f"{rel(doc)} has broken links: {broken}"


@pytest.mark.parametrize("doc", REFERENCE, ids=rel)
def test_reference_docs_hold_no_history(doc):
    hits = history(doc.read_text(encoding="utf-8"))
    assert not hits, (f"{rel(doc)} tells how the work went; say what is true now and move the history "
                      f"to a dated lab note in docs/lab/: {hits}")


def test_readme_is_short_and_keeps_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md is {len(lines)} lines (at most {README_MAX_LINES})"
    assert any(line.startswith("make demo") for line in lines) and any(line.startswith("make test") for line in lines)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8"), "CI runs the README's test command"
    first = "\n".join(lines[:FIRST_SCREEN])
    assert "lab/" not in first, "the lab notes are not linked from the README's first screen"


@pytest.mark.parametrize("source", SOURCES, ids=rel)
def test_sources_cite_files_that_exist_and_history_where_it_lives(source):
    text = source.read_text(encoding="utf-8")
    missing = sorted({m for m in mentions(text) if re.search(r"\.\w+$", m) and not (ROOT / m).exists()})
    moved = [m.group(0) for m in MOVED_CITATION.finditer(text)]
    assert not (missing or moved), (f"{rel(source)} cites files that do not exist: {missing}; "
                                     f"cites history in a reference doc (cite the lab note in docs/lab/): {moved}")


def test_the_checks_bite():
    """Each check flags a planted bad line and passes the legitimate look-alikes."""
    assert mentions("see `ygan_mobile/render/modes.py` and bundle/x") == ["ygan_mobile/render/modes.py"]
    assert not (ROOT / "ygan_mobile/render/modes.py").exists()
    for bad in ("a bundle in /tmp/s40/q0", "built at 66da4bc on the Intel", "measured at stop 33",
                "(docs/speed.md, Stop 40)", "the sixth round's probes", "to fit a session",
                "we tried a larger pool", "I re-converted the networks", "for issue 22", "see /work/main"):
        assert history(bad), bad
    for good in ("timed round-robin", "rounding half to even", "a round trip", "`round(h × scenes)`",
                 "an onnxruntime-web session", "the session's tiny bundle", "tests/ygan_mobile/ddp_probe.py",
                 "the oracle probe", "colour #ff8800", "`sha256` of 64 hex digits", "I/O contract",
                 "ai-edge-litert-nightly 2.4.0.dev20261026", "stop on Ctrl-C", "1,184 patches"):
        assert not history(good), (good, history(good))
    assert MOVED_CITATION.search("(docs/training.md, sixth round)")
    assert MOVED_CITATION.search('docs/speed.md "Stop 40"')
    assert not MOVED_CITATION.search("(docs/lab/2026-12-04-stamp-recipe.md, sixth round)")
    assert slug("Mosaic quality: the quality stage") == "mosaic-quality-the-quality-stage"
    assert slug("`ygan bench BUNDLE`") == "ygan-bench-bundle"
