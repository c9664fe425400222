"""The conventions every `ygan` verb keeps (issue 23, item 3): one output flag, `-o/--out`, on every
verb that writes; `-q/--quiet` on every verb; progress bars only when stderr is a terminal."""

from __future__ import annotations

import argparse
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, untrained_teacher
from ygan import cli
from ygan_mobile import ingest

WRITES = ("train", "distill", "convert", "verify", "report", "render", "build", "eval")


def verbs() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in cli.make_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


def option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return next((a for a in parser._actions if flag in a.option_strings), None)


@pytest.mark.parametrize("verb", WRITES)
def test_every_writing_verb_takes_o_out(verb):
    out = option(verbs()[verb], "-o")
    assert out is not None and "--out" in out.option_strings and out.dest == "out"


@pytest.mark.parametrize("verb", sorted(verbs()))
def test_every_verb_takes_q_quiet(verb):
    quiet = option(verbs()[verb], "-q")
    assert quiet is not None and "--quiet" in quiet.option_strings and quiet.dest == "quiet"


def test_render_still_takes_the_old_output_spelling():
    args, _ = cli.make_parser().parse_known_args(["render", "in.png", "--output", "x.png", "--checkpoint", "run"])
    assert args.out == "x.png"


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    """A video render draws a bar on a terminal; into a pipe (a redirected log) it writes no '\\r' frames."""
    ckpt = untrained_teacher(tmp_path / "run")
    src, out = tmp_path / "clip.mp4", tmp_path / "styled.mp4"
    ingest.write_video(src, [np.full((16, 16, 3), 40 * i, np.uint8) for i in range(3)], fps=6.0)
    result = subprocess.run([sys.executable, "-m", "ygan", "render", str(src), "-o", str(out), "--checkpoint", str(ckpt)],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "render:" not in result.stderr
