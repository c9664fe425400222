"""A checkpoint whose header was tampered with (wrong types, a config its weights do not fit, missing
meta, non-JSON config, a bad step) is one error line and exit 2 in render, convert and distill."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from conftest import untrained_teacher
from ygan import cli
from ygan_mobile import checkpoint


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    return checkpoint.resolve(untrained_teacher(tmp_path_factory.mktemp("run")))


def _config(header: dict, edit) -> None:
    config = json.loads(header["config"])
    edit(config)
    header["config"] = json.dumps(config)


TAMPERINGS = {
    "wrong-type": lambda h: _config(h, lambda c: c["model"].update(patch="eight")),
    "config-not-matching-weights": lambda h: _config(h, lambda c: c["model"].update(width=16)),
    "missing-meta": lambda h: h.pop("meta"),
    "non-json-config": lambda h: h.update(config="{model: patch=8"),
    "bad-step": lambda h: h.update(step="-3"),
    "non-numeric-step": lambda h: h.update(step="three"),
    "meta-not-an-object": lambda h: h.update(meta="[1, 2]"),
}


def _tampered(good: Path, tmp_path: Path, kind: str) -> Path:
    with safe_open(str(good), "pt") as handle:
        header = dict(handle.metadata())
    TAMPERINGS[kind](header)
    path = tmp_path / "run" / "checkpoint.safetensors"
    path.parent.mkdir()
    save_file(load_file(str(good)), str(path), metadata=header)
    return path


def _one_line_error(capsys, verb: str) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ygan {verb}: error: checkpoint"), lines
    return lines[0]


@pytest.mark.parametrize("kind", sorted(TAMPERINGS))
def test_render_convert_and_distill_refuse_a_tampered_checkpoint_in_one_line(good, tmp_path, capsys, kind):
    bad = _tampered(good, tmp_path, kind)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(photo)

    assert cli.main(["render", str(photo), "-o", str(tmp_path / "out.png"), "--checkpoint", str(bad), "--quiet"]) == 2
    assert "checkpoint.safetensors" in _one_line_error(capsys, "render")
    assert cli.main(["convert", "--checkpoint", str(bad), "-o", str(tmp_path / "bundle"), "--targets", "onnx",
                     "--quiet"]) == 2
    _one_line_error(capsys, "convert")
    assert cli.main(["distill", "--teacher", str(bad), "--out", str(tmp_path / "student"), "--quiet"]) == 2
    _one_line_error(capsys, "distill")
    assert not (tmp_path / "out.png").exists() and not (tmp_path / "bundle").exists()
