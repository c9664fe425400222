"""`ygan render` end to end on a tiny trained checkpoint: images, video, modes and bad input."""

import subprocess
import sys
import zlib
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ygan_mobile import ingest
from ygan_mobile.config import Config, apply_overrides, load_preset
from ygan_mobile.train import train

TINY = ["model.patch=8", "model.latent=16", "model.width=8", 'data.themes=["stars", "flowers"]',
        "data.theme_tiles=12", "train.steps=12", "train.warmup=6", "train.batch=8", "train.eval_patches=16",
        "train.checkpoint_every=100", "train.threads=1"]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    train(Config.from_dict(apply_overrides(load_preset("quick"), TINY)), out, progress=False)
    return out


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("in") / "photo.png"
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (45, 61, 3), dtype=np.uint8)).save(path)
    return path


def ygan(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ygan_mobile", *map(str, args)], capture_output=True, text=True, timeout=300)


def test_render_image_matches_the_pipeline(ckpt, photo, tmp_path):
    from ygan_mobile.checkpoint import load_patch_models
    from ygan_mobile.render import spec

    out = tmp_path / "out.png"
    result = ygan("render", photo, "-o", out, "--checkpoint", ckpt, "--theme", "stars", "--stride", "4")
    assert result.returncode == 0, result.stderr
    models, patch = load_patch_models(ckpt, ["stars"])
    expected = spec.render_frame(ingest.load_image(photo), list(models.values()), patch=patch, stride=4)
    assert np.array_equal(ingest.load_image(out), expected)


@pytest.mark.parametrize("extra", [["--sampling", "random", "--coverage", "0.9"], ["--sampling", "salient"],
                                   ["--feedback", "2", "--blend", "paste"], ["--theme", "flowers", "--patch", "12"]])
def test_render_modes_write_an_image_of_the_input_size(ckpt, photo, tmp_path, extra):
    out = tmp_path / "out.png"
    result = ygan("render", photo, "-o", out, "--checkpoint", ckpt, "--theme", "stars", *extra)
    assert result.returncode == 0, result.stderr
    assert ingest.load_image(out).shape == (45, 61, 3)


def test_stereo_writes_a_side_by_side_pair(ckpt, photo, tmp_path):
    out = tmp_path / "pair.png"
    assert ygan("render", photo, "-o", out, "--checkpoint", ckpt, "--stereo", "5").returncode == 0
    pair = ingest.load_image(out)
    assert pair.shape == (45, 122, 3)
    assert not np.array_equal(pair[:, :61], pair[:, 61:])


@pytest.mark.slow
def test_video_keeps_frame_count_and_rate(ckpt, tmp_path):
    src, out = tmp_path / "clip.mp4", tmp_path / "styled.mp4"
    t = np.linspace(0, 1, 7)
    frames = [np.full((32, 48, 3), (int(200 * v), 80, 255 - int(200 * v)), np.uint8) for v in t]
    ingest.write_video(src, frames, fps=12.0)
    result = ygan("render", src, "-o", out, "--checkpoint", ckpt)
    assert result.returncode == 0, result.stderr
    info = ingest.video_info(out)
    assert (info.frames, info.fps) == (7, 12.0)
    assert len(list(ingest.read_video_frames(out))) == 7


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


def _bad_inputs(tmp: Path, good_png: Path) -> dict[str, Path]:
    truncated = tmp / "truncated.png"
    truncated.write_bytes(good_png.read_bytes()[:200])
    empty = tmp / "empty.png"
    empty.write_bytes(b"")
    text = tmp / "text.jpg"
    text.write_text("hello, not a jpeg")
    huge = tmp / "huge.png"
    huge.write_bytes(_png_claiming(60000, 60000))
    novideo = tmp / "none.mp4"
    novideo.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    return {"truncated": truncated, "empty": empty, "text": text, "huge": huge, "novideo": novideo}


@pytest.mark.parametrize("kind", ["truncated", "empty", "text", "huge", "novideo"])
def test_bad_input_is_one_error_and_no_output(ckpt, photo, tmp_path, kind):
    bad = _bad_inputs(tmp_path, photo)[kind]
    out = tmp_path / ("out.mp4" if kind == "novideo" else "out.png")
    result = ygan("render", bad, "-o", out, "--checkpoint", ckpt)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ygan render: error:") and bad.name in lines[0], result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_bad_options_are_one_error(ckpt, photo, tmp_path):
    for extra in (["--stride", "99"], ["--theme", "nope"], ["--coverage", "0"]):
        result = ygan("render", photo, "-o", tmp_path / "o.png", "--checkpoint", ckpt, *extra)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
