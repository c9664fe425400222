"""Image and video ingest: the documented mode conversions, the bad-input guards, video round trips."""

import struct
import zlib
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from ygan_mobile.errors import YganError
from ygan_mobile.ingest import (MAX_PIXELS, VideoInfo, is_video_path, load_image, read_video_frames, resize_to,
                                save_image, video_info, write_video)


def saved(tmp_path: Path, image: Image.Image, name: str = "img.png", **kw) -> Path:
    path = tmp_path / name
    image.save(path, **kw)
    return path


def pixel(path: Path) -> list[int]:
    out = load_image(path)
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    return out[0, 0].tolist()


def test_greyscale_and_bilevel_are_replicated(tmp_path):
    assert pixel(saved(tmp_path, Image.new("L", (2, 2), 77))) == [77, 77, 77]
    assert pixel(saved(tmp_path, Image.new("1", (2, 2), 1), "b.png")) == [255, 255, 255]


def test_alpha_is_composited_over_white(tmp_path):
    # 200 at alpha 128 over white: (200·128 + 255·127) / 255 = 227.4 → 227
    assert pixel(saved(tmp_path, Image.new("RGBA", (2, 2), (200, 0, 100, 128)))) == [227, 127, 177]
    assert pixel(saved(tmp_path, Image.new("LA", (2, 2), (0, 0)), "la.png")) == [255, 255, 255]
    assert pixel(saved(tmp_path, Image.new("RGBA", (2, 2), (10, 20, 30, 255)), "opaque.png")) == [10, 20, 30]


def test_palette_with_and_without_transparency(tmp_path):
    pal = Image.new("P", (2, 1), 0)
    pal.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    pal.putpixel((1, 0), 1)
    plain = load_image(saved(tmp_path, pal, "p.png"))
    assert plain[0].tolist() == [[10, 20, 30], [200, 100, 50]]
    keyed = load_image(saved(tmp_path, pal, "pt.png", transparency=0))
    assert keyed[0].tolist() == [[255, 255, 255], [200, 100, 50]]


def test_cmyk_uses_pillow_conversion(tmp_path):
    path = saved(tmp_path, Image.new("CMYK", (2, 2), (0, 255, 255, 0)), "c.tif")
    assert pixel(path) == [255, 0, 0]


def test_sixteen_bit_keeps_the_high_byte(tmp_path):
    values = np.array([[0, 255, 256, 65535]], dtype=np.uint16)
    path = saved(tmp_path, Image.fromarray(values), "16.png")
    assert load_image(path)[0, :, 0].tolist() == [0, 0, 1, 255]


def test_float_images_in_unit_range_are_scaled(tmp_path):
    path = saved(tmp_path, Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32), "F"), "f.tif")
    assert load_image(path)[0, :, 0].tolist() == [0, 128, 255]


def test_exif_orientation_is_applied(tmp_path):
    # Stored 4 wide × 2 high, left half black; orientation 6 means "rotate 90° clockwise to view".
    stored = np.zeros((2, 4, 3), np.uint8)
    stored[:, 2:] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    path = saved(tmp_path, Image.fromarray(stored), "rot.jpg", exif=exif, quality=100)
    upright = load_image(path)
    assert upright.shape == (4, 2, 3)
    assert upright[0].mean() < 40 and upright[-1].mean() > 215  # the black half is now on top


def test_one_pixel_image_loads(tmp_path):
    assert load_image(saved(tmp_path, Image.new("RGB", (1, 1), (1, 2, 3)))).tolist() == [[[1, 2, 3]]]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@pytest.mark.parametrize("content, words", [
    (b"", ["empty", "0 bytes"]),
    (b"this is a text file", ["not an image"]),
])
def test_bad_files_are_one_clear_error(tmp_path, content, words):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(YganError) as err:
        load_image(path)
    for word in words + ["bad.jpg"]:
        assert word in str(err.value)
    assert "\n" not in str(err.value)


def test_truncated_png_is_caught(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    whole = saved(tmp_path, Image.fromarray(noise), "whole.png").read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(YganError, match="cut.png.*(damaged|truncated)"):
        load_image(path)


def test_decompression_bomb_is_refused_from_the_header(tmp_path):
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 100)
    path = tmp_path / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))
    with pytest.raises(YganError, match=f"bomb.png.*{MAX_PIXELS:,}"):
        load_image(path)


def test_header_just_over_our_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("ygan_mobile.ingest.MAX_PIXELS", 99)
    with pytest.raises(YganError, match="10×10 is more than"):
        load_image(saved(tmp_path, Image.new("RGB", (10, 10))))


def test_missing_file(tmp_path):
    with pytest.raises(YganError, match="no such file"):
        load_image(tmp_path / "nope.png")


def test_save_image_is_atomic_and_roundtrips(tmp_path):
    frame = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    save_image(tmp_path / "out.png", frame)
    assert np.array_equal(load_image(tmp_path / "out.png"), frame)
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
    with pytest.raises(YganError, match="uint8"):
        save_image(tmp_path / "x.png", frame.astype(np.float32))
    assert not (tmp_path / "x.png").exists()


def test_resize_by_longer_side_and_exact_size():
    frame = np.zeros((100, 200, 3), np.uint8)
    assert resize_to(frame, 50).shape == (25, 50, 3)
    assert resize_to(frame, (30, 40)).shape == (40, 30, 3)
    assert resize_to(np.full((4, 4, 3), 9, np.uint8), 8).min() == 9  # flat stays flat


def clip(n: int, h: int = 16, w: int = 24) -> list[np.ndarray]:
    """Frames whose brightness encodes their index, so order and identity survive lossy coding."""
    return [np.full((h, w, 3), 10 + 20 * i, np.uint8) for i in range(n)]


def test_is_video_path():
    assert is_video_path("a/B.MP4") and is_video_path("x.webm") and not is_video_path("x.png")


@pytest.mark.parametrize("name, fps", [("clip.mp4", 24.0), ("clip.mov", 30.0), ("clip.mkv", 12.5), ("clip.webm", 25.0)])
def test_video_roundtrip_keeps_count_and_rate(tmp_path, name, fps):
    write_video(tmp_path / name, clip(12), fps)
    assert video_info(tmp_path / name) == VideoInfo(fps, 24, 16, 12)
    back = list(read_video_frames(tmp_path / name))
    assert len(back) == 12
    assert [round((f.mean() - 10) / 20) for f in back] == list(range(12))


def test_odd_sizes_are_padded_with_their_edge(tmp_path):
    frames = [np.zeros((5, 7, 3), np.uint8) for _ in range(3)]
    for f in frames:
        f[:, -1] = 200  # the last column is bright; the padding column must repeat it
    write_video(tmp_path / "odd.mp4", frames, 10)
    back = next(read_video_frames(tmp_path / "odd.mp4"))
    assert back.shape == (6, 8, 3)
    assert back[:, :6].mean() < 30 and back[:, 7].mean() > 150


def test_frame_rate_resampling_by_timestamp(tmp_path):
    write_video(tmp_path / "c.mp4", clip(12), 24)
    half = list(read_video_frames(tmp_path / "c.mp4", fps=12))
    assert [round((f.mean() - 10) / 20) for f in half] == [0, 2, 4, 6, 8, 10]
    double = list(read_video_frames(tmp_path / "c.mp4", fps=48, size=12))
    assert len(double) == 24 and double[0].shape == (8, 12, 3)
    assert [round((f.mean() - 10) / 20) for f in double[:4]] == [0, 0, 1, 1]


def test_failing_frame_source_leaves_no_output(tmp_path):
    def frames():
        yield from clip(3)
        raise RuntimeError("camera unplugged")

    with pytest.raises(RuntimeError):
        write_video(tmp_path / "out.mp4", frames(), 24)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(YganError, match="no frames"):
        write_video(tmp_path / "out.mp4", [], 24)
    assert list(tmp_path.iterdir()) == []


def test_video_without_frames_is_refused(tmp_path):
    write_video(tmp_path / "full.mkv", clip(4), 24)
    whole = (tmp_path / "full.mkv").read_bytes()
    path = tmp_path / "headers_only.mkv"
    path.write_bytes(whole[: whole.index(b"\x1f\x43\xb6\x75") + 8])  # cut inside the first Matroska Cluster
    frames = read_video_frames(path)  # the header with its video stream is valid …
    with pytest.raises(YganError, match="headers_only.mkv: the video has no frames"):
        list(frames)  # … but not one frame decodes


def test_mp4_with_an_empty_track_is_refused(tmp_path):
    path = tmp_path / "empty.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        container.start_encoding()
    with pytest.raises(YganError, match="empty.mp4: .*no frames"):
        read_video_frames(path)


@pytest.mark.parametrize("content", [b"", b"GARBAGE" * 100])
def test_garbage_video_is_refused_before_reading(tmp_path, content):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(YganError, match="bad.mp4"):
        read_video_frames(path)
    with pytest.raises(YganError, match="bad.mp4"):
        video_info(path)
