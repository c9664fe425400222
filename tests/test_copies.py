"""Labelled copies stay copies. The layers may not import each other (test_layers.py), so the runtime
keeps its own copies of a few teacher functions and constants (image and video I/O, theme maps,
blend names, defaults). A comment `# Copied from package.module.name` directly above a function,
class or assignment declares it a copy of `name` in that module, optionally `with Old->New, …`:
replacements applied to the original's text first. Both are compared after parsing (ast.unparse:
layout and comments do not count, code and docstrings do), so an edit to either side without the
other fails here, naming both. The idea is diffusers' utils/check_copies.py.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

from conftest import ROOT

PACKAGES = ("reference_runtime", "ygan_mobile", "distill", "convert", "ygan")
LABEL = re.compile(r"^# Copied from ([\w.]+)(?: with (.+))?$")


def _definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    """Top-level functions, classes and single-name assignments by name."""
    out: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
    return out


def _start(node: ast.stmt) -> int:
    """The first line of a definition, its decorators included."""
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])


def _source(path: Path, node: ast.stmt) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(lines[_start(node) - 1:node.end_lineno])


def _normalised(source: str) -> str:
    return ast.unparse(ast.parse(source))


def _original(root: Path, dotted: str) -> tuple[Path, ast.stmt] | str:
    """The file and node `package.module.name` names, or why it cannot be found."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = root.joinpath(*parts[:cut])
        path = module.with_suffix(".py") if module.with_suffix(".py").is_file() else module / "__init__.py"
        if path.is_file():
            name = ".".join(parts[cut:])
            node = _definitions(ast.parse(path.read_text(encoding="utf-8"))).get(name)
            return (path, node) if node is not None else f"{path.relative_to(root)} has no top-level '{name}'"
    return f"no module of ours in '{dotted}'"


def copies(root: Path) -> list[tuple[str, str]]:
    """(where, problem or "") for every labelled copy under `root`'s packages."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
            by_line = {_start(node): node for node in _definitions(tree).values()}
            for number, line in enumerate(text.splitlines(), 1):
                label = LABEL.match(line)
                if not label:
                    continue
                where = f"{path.relative_to(root)}:{number}"
                copy = by_line.get(number + 1)
                if copy is None:
                    found.append((where, "the label is not directly above a top-level function, class or assignment"))
                    continue
                original = _original(root, label.group(1))
                if isinstance(original, str):
                    found.append((where, original))
                    continue
                source = _source(*original)
                for pair in (label.group(2) or "").split(","):
                    if pair.strip():
                        old, _, new = pair.strip().partition("->")
                        source = source.replace(old, new)
                same = _normalised(source) == _normalised(_source(path, copy))
                found.append((where, "" if same else f"differs from {label.group(1)} "
                                                     f"({original[0].relative_to(root)}:{_start(original[1])}): "
                                                     "change both, or drop the label if they are meant to differ"))
    return found


def test_every_labelled_copy_matches_its_original():
    found = copies(ROOT)
    assert [f"{where}: {problem}" for where, problem in found if problem] == []
    labelled = {where.split(":")[0] for where, _ in found}
    assert {"reference_runtime/media.py", "reference_runtime/theme_map.py", "reference_runtime/pipeline.py",
            "reference_runtime/render.py", "reference_runtime/verify.py"} <= labelled


def test_a_copy_that_drifted_or_points_nowhere_is_caught(tmp_path):
    for name in ("reference_runtime", "ygan_mobile"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    theme_map = tmp_path / "ygan_mobile" / "render" / "theme_map.py"
    theme_map.write_text(theme_map.read_text().replace("/ 256.0 * n_themes", "/ 255.0 * n_themes"))
    media = tmp_path / "reference_runtime" / "media.py"
    media.write_text(media.read_text().replace("# Copied from ygan_mobile.ingest.load_image with",
                                               "# Copied from ygan_mobile.ingest.load_picture with"))
    problems = {where.split(":")[0]: problem for where, problem in copies(tmp_path) if problem}
    assert problems.keys() == {"reference_runtime/theme_map.py", "reference_runtime/media.py"}
    assert "differs from ygan_mobile.render.theme_map.band" in problems["reference_runtime/theme_map.py"]
    assert "has no top-level 'load_picture'" in problems["reference_runtime/media.py"]
