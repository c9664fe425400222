"""`ygan render` on a real checkpoint file (random weights, written by checkpoint.save and read back
by load_patch_models): images, video, every mode, and bad input. In-process through cli.main for
speed; one subprocess test checks the real exit code and that no traceback escapes."""

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from conftest import untrained_teacher
from ygan import cli
from ygan_mobile import checkpoint, ingest
from ygan_mobile.render import multiscale, torch_pipeline


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    return untrained_teacher(tmp_path_factory.mktemp("run"), ("stars", "flowers"))


def ygan(*args) -> int:
    return cli.main(["render", *map(str, args)])


def test_render_image_matches_the_pipeline(ckpt, photo, tmp_path):
    out = tmp_path / "out.png"
    assert ygan(photo, "-o", out, "--checkpoint", ckpt, "--theme", "stars", "--stride", "4") == 0
    models, patch = checkpoint.load_patch_models(ckpt, ["stars"])
    expected = torch_pipeline.render_frame(ingest.load_image(photo), list(models.values()), patch=patch, stride=4)
    assert np.array_equal(ingest.load_image(out), expected)


@pytest.mark.parametrize("extra", [["--sampling", "random", "--coverage", "0.9", "--seed", "3"],
                                   ["--sampling", "salient", "--coverage", "0.3"],
                                   ["--feedback", "2", "--blend", "paste"],
                                   ["--theme", "flowers", "--patch", "12", "--stride", "5"],
                                   ["--theme", "stars,flowers", "--batch", "7"],
                                   ["--size", "30"],
                                   ["--sampling", "multiscale", "--budget", "20", "--stereo", "--feedback", "1"]])
def test_render_modes_write_an_image(ckpt, photo, tmp_path, extra):
    out = tmp_path / "out.png"
    assert ygan(photo, "-o", out, "--checkpoint", ckpt, "--theme", "stars", *extra) == 0
    assert ingest.load_image(out).shape == ((22, 30, 3) if "--size" in extra else (45, 122, 3) if "--stereo" in extra
                                            else (45, 61, 3))


def test_multiscale_sampling_is_the_spec_v2_pipeline(ckpt, photo, tmp_path):
    out = tmp_path / "out.png"
    assert ygan(photo, "-o", out, "--checkpoint", ckpt, "--theme", "stars,flowers", "--sampling", "multiscale",
                "--budget", "30", "--threshold", "10", "--hysteresis", "2") == 0
    models, patch = checkpoint.load_patch_models(ckpt, ["stars", "flowers"])
    want = multiscale.render(ingest.load_image(photo), list(models.values()), patch=patch,
                             options=multiscale.MultiscaleOptions(threshold=10, hysteresis=2, budget=30))
    assert np.array_equal(ingest.load_image(out), want.frame)
    assert 4 < len(want.cells) <= 30 and len(set(want.cells[:, 2].tolist())) > 1


def test_stereo_writes_a_side_by_side_pair(ckpt, photo, tmp_path):
    out = tmp_path / "pair.png"
    assert ygan(photo, "-o", out, "--checkpoint", ckpt, "--stereo", "--disparity", "5") == 0
    pair = ingest.load_image(out)
    assert pair.shape == (45, 122, 3)
    assert not np.array_equal(pair[:, :61], pair[:, 61:])


def test_video_keeps_frame_count_and_rate(ckpt, tmp_path):
    src, out = tmp_path / "clip.mp4", tmp_path / "styled.mp4"
    frames = [np.full((32, 48, 3), (int(200 * v), 80, 255 - int(200 * v)), np.uint8) for v in np.linspace(0, 1, 7)]
    ingest.write_video(src, frames, fps=12.0)
    assert ygan(src, "-o", out, "--checkpoint", ckpt, "--quiet") == 0
    info = ingest.video_info(out)
    assert (info.frames, info.fps, info.width, info.height) == (7, 12.0, 48, 32)
    assert len(list(ingest.read_video_frames(out))) == 7


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


def _video_without_frames(path: Path) -> None:
    """A valid mp4 with an H.264 stream and no frames (write_video refuses to make one)."""
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        container.start_encoding()  # writes the header; no frame follows
    assert path.stat().st_size > 0


def _bad_input(tmp: Path, good_png: Path, kind: str) -> Path:
    path = tmp / {"truncated": "truncated.png", "empty": "empty.png", "text": "text.jpg", "huge": "huge.png",
                  "novideo": "none.mp4", "notvideo": "junk.mp4"}[kind]
    if kind == "truncated":
        path.write_bytes(good_png.read_bytes()[:200])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("hello, not a jpeg")
    elif kind == "huge":
        path.write_bytes(_png_claiming(60000, 60000))
    elif kind == "novideo":
        _video_without_frames(path)
    else:
        path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    return path


@pytest.mark.parametrize("kind", ["truncated", "empty", "text", "huge", "novideo", "notvideo"])
def test_bad_input_is_one_error_and_no_output(ckpt, photo, tmp_path, capsys, kind):
    bad = _bad_input(tmp_path, photo, kind)
    out = tmp_path / "out" / ("out.mp4" if bad.suffix == ".mp4" else "out.png")
    assert ygan(bad, "-o", out, "--checkpoint", ckpt, "--quiet") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ygan render: error:") and bad.name in lines[0], lines
    assert "no such file" not in lines[0]
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


@pytest.mark.parametrize("extra", [["--stride", "99"], ["--theme", "nope"], ["--coverage", "0"], ["--batch", "0"],
                                   ["--size", "0"], ["--fps", "-1"], ["--feedback", "-1"], ["--patch", "1"],
                                   ["--budget", "9"], ["--sampling", "multiscale", "--budget", "0"],
                                   ["--sampling", "multiscale", "--largest-cell", "12"],
                                   ["--sampling", "multiscale", "--threshold", "4", "--hysteresis", "5"],
                                   ["--sampling", "multiscale", "--stride", "4"]])
def test_bad_options_are_one_error(ckpt, photo, tmp_path, capsys, extra):
    assert ygan(photo, "-o", tmp_path / "o.png", "--checkpoint", ckpt, *extra) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "o.png").exists()


def test_mismatched_output_and_missing_checkpoint_are_one_error(photo, tmp_path, capsys):
    assert ygan(photo, "-o", tmp_path / "o.mp4", "--checkpoint", tmp_path) == 2
    assert "both be images or both videos" in capsys.readouterr().err
    assert ygan(photo, "-o", tmp_path / "o.png", "--checkpoint", tmp_path / "none") == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.slow
def test_process_exit_code_and_no_traceback(ckpt, photo, tmp_path):
    bad = _bad_input(tmp_path, photo, "truncated")
    out = tmp_path / "out.png"
    result = subprocess.run([sys.executable, "-m", "ygan", "render", str(bad), "-o", str(out), "--checkpoint", str(ckpt)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()
