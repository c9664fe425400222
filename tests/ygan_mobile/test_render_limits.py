"""`ygan render`, `verify -o` and `report -o` refuse, in one line and before any work, what cannot
succeed: a frame or batch that cannot fit in memory, an output that cannot be written; a video
that decodes to fewer frames than its header promises is said so (and fails with --strict)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import untrained_teacher
from reference_runtime.cli import main as runtime_main
from ygan import cli
from ygan_mobile import checkpoint, ingest


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    return untrained_teacher(tmp_path_factory.mktemp("run"))


def _error(capsys, verb: str) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{verb}: error:"), lines
    return lines[0]


@pytest.mark.parametrize("extra, words", [(["--size", "20000"], "more than the 120,000,000-pixel limit"),
                                          (["--patch", "20000"], "more than the 120,000,000-pixel limit"),
                                          (["--patch", "4000", "--batch", "16"], "GiB for one batch of patches")],
                         ids=["huge-size", "huge-patch", "huge-batch"])
def test_a_request_that_cannot_fit_is_refused_before_any_work(ckpt, photo, tmp_path, capsys, extra, words):
    out = tmp_path / "o.png"
    assert cli.main(["render", str(photo), "-o", str(out), "--checkpoint", str(ckpt), "--quiet", *extra]) == 2
    assert words in _error(capsys, "ygan render")
    assert not out.exists()


def test_an_output_that_cannot_be_written_is_refused_before_rendering(ckpt, photo, tmp_path, capsys):
    (tmp_path / "folder.png").mkdir()
    assert cli.main(["render", str(photo), "-o", str(tmp_path / "folder.png"), "--checkpoint", str(ckpt)]) == 2
    assert "is a directory" in _error(capsys, "ygan render")
    (tmp_path / "file").write_text("")
    assert cli.main(["render", str(photo), "-o", str(tmp_path / "file" / "o.png"), "--checkpoint", str(ckpt)]) == 2
    assert "is not a folder" in _error(capsys, "ygan render")


def test_report_output_that_is_a_file_is_refused_before_verify(tmp_path, capsys, monkeypatch):
    from reference_runtime import report

    monkeypatch.setattr(report, "read_manifest", lambda bundle: None)
    monkeypatch.setattr(report, "load_parity", lambda *a: pytest.fail("verify ran before the output was checked"))
    (tmp_path / "taken").write_text("")
    assert runtime_main(["report", str(tmp_path), "-o", str(tmp_path / "taken")]) == 2
    assert "is a file, not a folder" in _error(capsys, "report")


def _truncated_avi(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    whole = tmp_path / "whole.avi"
    ingest.write_video(whole, [rng.integers(0, 256, (32, 48, 3), dtype=np.uint8) for _ in range(40)], fps=12.0)
    data = whole.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[:int(len(data) * 0.3)])
    return cut


def test_a_truncated_video_says_how_many_frames_decoded(ckpt, tmp_path, capsys):
    cut = _truncated_avi(tmp_path)
    decoded = len(list(ingest.read_video_frames(cut)))
    assert 0 < decoded < 40
    out = tmp_path / "out.avi"
    assert cli.main(["render", str(cut), "-o", str(out), "--checkpoint", str(ckpt), "--quiet"]) == 0
    assert f"warning: {cut}: decoded {decoded} of the 40 frames its header promises" in capsys.readouterr().err
    assert ingest.video_info(out).frames == decoded

    strict = tmp_path / "strict.avi"
    assert cli.main(["render", str(cut), "-o", str(strict), "--checkpoint", str(ckpt), "--quiet", "--strict"]) == 2
    assert f"decoded {decoded} of the 40 frames" in _error(capsys, "ygan render")
    assert not strict.exists()
