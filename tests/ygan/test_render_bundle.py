"""`ygan render --bundle` is the runtime's render: the same bytes as `python -m reference_runtime render`,
its refusals as `ygan render` lines, and each path refuses the options only the other one takes."""

from __future__ import annotations

import numpy as np
import pytest

from reference_runtime import media
from reference_runtime.cli import main as runtime_main
from ygan import cli


def test_the_same_bytes_as_the_runtime(tiny_bundle, photo, tmp_path):
    options = ["--stride", "8", "--blend", "paste", "--precision", "fp32", "--format", "tflite"]
    assert cli.main(["render", str(photo), "-o", str(tmp_path / "ygan.png"), "--bundle", str(tiny_bundle), *options]) == 0
    assert runtime_main(["render", str(photo), "-o", str(tmp_path / "rt.png"), "--bundle", str(tiny_bundle), *options]) == 0
    assert (tmp_path / "ygan.png").read_bytes() == (tmp_path / "rt.png").read_bytes()
    assert np.array_equal(media.load_image(tmp_path / "ygan.png"), media.load_image(tmp_path / "rt.png"))


@pytest.mark.parametrize("options, words", [
    (["--bundle", "{bundle}", "--feedback", "2"], "--feedback needs --checkpoint"),
    (["--bundle", "{bundle}", "--sampling", "random"], "random crops need ygan render --checkpoint"),
    (["--bundle", "{bundle}", "--precision", "fp16"], "the bundle has no such patch model"),
    (["--checkpoint", "run", "--precision", "fp32"], "--precision chooses the bundle's artifacts"),
    (["--checkpoint", "run", "--bundle", "{bundle}"], "pass one of --checkpoint"),
    ([], "pass one of --checkpoint"),
])
def test_each_path_refuses_in_one_line_what_it_cannot_do(tiny_bundle, photo, tmp_path, capsys, options, words):
    out = tmp_path / "out.png"
    argv = ["render", str(photo), "-o", str(out), *(o.format(bundle=tiny_bundle) for o in options)]
    assert cli.main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ygan render: error: ") and words in lines[0], lines
    assert not out.exists()
