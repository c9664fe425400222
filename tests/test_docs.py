"""The README and docs/ point at files that exist: a moved or renamed module must take its mentions
along (docs/pipeline.md once cited a removed render/modes.py)."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

FOLDERS = "ygan_mobile|ygan|distill|convert|reference_runtime|scripts|tests|android_demo|ios_demo|web_demo"
PATH = re.compile(rf"(?<![\w/.-])((?:{FOLDERS})/[\w./-]*\w)")
# Paths a build or an install creates, and the docs' NAME stand-in: not files of the repository.
MADE = ("NAME", "web_demo/bundle", "assets/bundle", "node_modules")
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def mentions(text: str) -> list[str]:
    return [m for m in PATH.findall(text) if not any(part in m for part in MADE)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_path_a_doc_names_exists(doc):
    missing = [m for m in mentions(doc.read_text(encoding="utf-8")) if not (ROOT / m).exists()]
    assert not missing, f"{doc.name} names files that do not exist: {missing}"


def test_a_removed_module_is_caught():
    assert mentions("see `ygan_mobile/render/modes.py` and bundle/x") == ["ygan_mobile/render/modes.py"]
    assert not (ROOT / "ygan_mobile/render/modes.py").exists()
