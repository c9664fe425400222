"""Photographs and videos in and out for `render`: a uint8 H×W×3 RGB array is all the pipeline sees.

Copies of ygan_mobile/ingest.py's reading and writing (and of ygan_mobile/atomic.py's
`atomic_path`), each labelled `# Copied from …` and kept so by tests/test_copies.py, with MediaError
for YganError: the runtime imports nothing of ours, and a photograph must reach the phone's pipeline
as the same bytes it reaches the PyTorch one. `video_info` is the runtime's own (it needs no promised
frame count).
Untrusted files arrive here, so bad ones are refused with one line naming the file; every output
is written atomically, so a failure leaves nothing under the output's name. Videos need PyAV.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from PIL import Image, ImageOps

# Copied from ygan_mobile.ingest.MAX_PIXELS
MAX_PIXELS = 120_000_000
"""Refuse images whose header claims more pixels (about 11000×11000; 108-MP phone photos pass)."""

# Copied from ygan_mobile.ingest.IMAGE_EXTENSIONS
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm", ".tga")
# Copied from ygan_mobile.ingest.VIDEO_EXTENSIONS
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")
# Copied from ygan_mobile.ingest._CONTAINER
_CONTAINER = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi", ".webm": "webm"}
# Copied from ygan_mobile.ingest._WHITE
_WHITE = 255


class MediaError(Exception):
    """An image or video that cannot be read or written; the message names the file and what to do."""


# Copied from ygan_mobile.ingest.is_image_path
def is_image_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


# Copied from ygan_mobile.ingest.is_video_path
def is_video_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


# Copied from ygan_mobile.ingest._reason
def _reason(exc: Exception) -> str:
    """A decoder's message squeezed onto one line, for the one-line error."""
    return " ".join(str(exc).split()) or type(exc).__name__


# Copied from ygan_mobile.ingest._check_file with YganError->MediaError
def _check_file(path: Path, kind: str) -> None:
    if not path.exists():
        raise MediaError(f"{path}: no such file — check the {kind} path")
    if not path.is_file():
        raise MediaError(f"{path}: is not a file — pass one {kind} file")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: the file is empty (0 bytes) — replace it with a valid {kind}")


# Copied from ygan_mobile.ingest.load_image with YganError->MediaError
def load_image(path: str | os.PathLike) -> np.ndarray:
    """Decode fully (truncation shows up only then), apply EXIF orientation, convert to RGB."""
    path = Path(path)
    _check_file(path, "image")
    try:
        with warnings.catch_warnings():
            # Our own MAX_PIXELS check below is the limit; Pillow's softer warning level is not.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                _check_pixels(path, im.size)
                im.load()
                im = ImageOps.exif_transpose(im)
                return to_rgb(im)
    except MediaError:
        raise
    except Image.DecompressionBombError:
        raise MediaError(f"{path}: the header claims more than {MAX_PIXELS:,} pixels (a decompression bomb?) — "
                        "downscale the image first") from None
    except PermissionError:
        raise MediaError(f"{path}: permission denied — make the file readable") from None
    except Image.UnidentifiedImageError:
        raise MediaError(f"{path}: not an image Pillow can read — remove it or convert it to PNG/JPEG") from None
    except Exception as exc:  # decoders raise OSError, SyntaxError, ValueError, EOFError, zlib.error …
        raise MediaError(f"{path}: the image is damaged or truncated ({_reason(exc)}) — re-export or remove it") from None


# Copied from ygan_mobile.ingest._check_pixels with YganError->MediaError
def _check_pixels(path: Path, size: tuple[int, int]) -> None:
    w, h = size
    if w * h > MAX_PIXELS:
        raise MediaError(f"{path}: {w}×{h} is more than the {MAX_PIXELS:,}-pixel limit (a decompression bomb?) — "
                        "downscale the image first")
    if w < 1 or h < 1:
        raise MediaError(f"{path}: the image has no pixels ({w}×{h}) — replace it")


# Copied from ygan_mobile.ingest.to_rgb
def to_rgb(im: Image.Image) -> np.ndarray:
    """The mode rules of docs/data.md: alpha over white, 16-bit by >>8, floats from [0,1] or [0,255]."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        grey = (np.clip(np.asarray(im, dtype=np.int64), 0, 65535) >> 8).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if im.mode == "F":
        grey = np.nan_to_num(np.asarray(im, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        if grey.size and grey.min() >= 0.0 and grey.max() <= 1.0:
            grey = grey * 255.0
        grey = np.floor(np.clip(grey, 0, 255) + 0.5).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if "A" in im.mode or "a" in im.mode or "transparency" in im.info:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.uint32)
        rgb, alpha = rgba[:, :, :3], rgba[:, :, 3:]
        over_white = (rgb * alpha + _WHITE * (255 - alpha) + 127) // 255
        return over_white.astype(np.uint8)
    return np.array(im.convert("RGB"), dtype=np.uint8)


# Copied from ygan_mobile.ingest._check_frame with YganError->MediaError
def _check_frame(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 or 0 in frame.shape:
        raise MediaError(f"a frame must be a uint8 H×W×3 RGB array, got {frame.dtype} {frame.shape} — convert it first")
    return frame


# Copied from ygan_mobile.ingest.save_image with YganError->MediaError
def save_image(path: str | os.PathLike, frame: np.ndarray) -> None:
    """Atomic: the format comes from the final name, since the temporary file's name ends in .tmp."""
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise MediaError(f"{path}: unknown image extension {path.suffix!r} — use .png or .jpg")
    image = Image.fromarray(_check_frame(frame), "RGB")
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    with atomic_path(path) as tmp:
        image.save(tmp, format=fmt, **options)


# Copied from ygan_mobile.ingest.resize_to with YganError->MediaError
def resize_to(frame: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """`size` is the longer side (aspect kept) or (W, H). Lanczos: antialiased when shrinking."""
    frame = _check_frame(frame)
    h, w = frame.shape[:2]
    if isinstance(size, (tuple, list)):
        new_w, new_h = int(size[0]), int(size[1])
    else:
        scale = int(size) / max(w, h)
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    if new_w < 1 or new_h < 1:
        raise MediaError(f"cannot resize to {new_w}×{new_h} — sizes must be at least 1")
    if (new_w, new_h) == (w, h):
        return frame
    image = Image.fromarray(frame, "RGB").resize((new_w, new_h), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


@dataclass(frozen=True)
class VideoInfo:
    fps: float
    width: int
    height: int
    frames: int


def video_info(path: str | os.PathLike) -> VideoInfo:
    """Rate, size and frame count (the header's, else counted from packets without decoding): opens
    the file now, so a bad one is refused before any model loads."""
    path = Path(path)
    with _open_video(path) as container:
        stream = container.streams.video[0]
        frames = stream.frames
        if not frames:
            try:
                frames = sum(1 for p in container.demux(stream) if p.size)
            except Exception as exc:
                raise MediaError(f"{path}: the video is damaged ({_reason(exc)}) — re-encode it") from None
        return VideoInfo(_fps(stream), stream.codec_context.width, stream.codec_context.height, int(frames))


# Copied from ygan_mobile.ingest._open_video with YganError->MediaError
def _open_video(path: Path):
    import av

    _check_file(path, "video")
    try:
        container = av.open(str(path), mode="r")
    except Exception as exc:
        raise MediaError(f"{path}: not a video PyAV/FFmpeg can read ({_reason(exc)}) — convert it to .mp4 (H.264)") from None
    if not container.streams.video:
        container.close()
        raise MediaError(f"{path}: the file has no video stream, so no frames — pass a video with at least one frame")
    return container


# Copied from ygan_mobile.ingest._fps
def _fps(stream) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 0.0


# Copied from ygan_mobile.ingest.read_video_frames with YganError->MediaError
def read_video_frames(path: str | os.PathLike, fps: float | None = None,
                      size: int | tuple[int, int] | None = None) -> Iterator[np.ndarray]:
    """Opens (and refuses bad files) now; decodes lazily. Zero decoded frames raise at the end.

    With `fps`, output frame k shows the source frame on screen at time k/fps (sample and hold), so
    frames are dropped or repeated by timestamp and the clip keeps its duration.
    """
    path = Path(path)
    if fps is not None and not fps > 0:
        raise MediaError(f"frame rate must be positive, got {fps} — pass e.g. 30")
    container = _open_video(path)
    return _decode(path, container, fps, size)


# Copied from ygan_mobile.ingest._upright
def _upright(frame) -> np.ndarray:
    rgb = frame.to_ndarray(format="rgb24")
    turns = round((getattr(frame, "rotation", 0) or 0) / 90) % 4  # phone clips store rotation as metadata
    return np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb


# Copied from ygan_mobile.ingest._decode with YganError->MediaError
def _decode(path: Path, container, fps: float | None, size) -> Iterator[np.ndarray]:
    def shaped(frame) -> np.ndarray:
        rgb = _upright(frame)
        return resize_to(rgb, size) if size is not None else rgb

    with container:
        stream = container.streams.video[0]
        src_fps = _fps(stream) or 30.0
        count, start, held, held_t, emitted = 0, None, None, 0.0, 0
        try:
            for frame in container.decode(stream):
                t = frame.time if frame.time is not None else count / src_fps
                start = t if start is None else start
                t -= start
                count += 1
                if fps is None:
                    yield shaped(frame)
                    continue
                if held is not None:
                    repeat = False
                    while emitted / fps < t - 1e-9:
                        yield held.copy() if repeat else held  # repeats never alias one array
                        emitted, repeat = emitted + 1, True
                held, held_t = shaped(frame), t
        except MediaError:
            raise
        except Exception as exc:
            raise MediaError(f"{path}: the video is damaged ({_reason(exc)}) — re-encode it") from None
        if count == 0:
            raise MediaError(f"{path}: the video has no frames — pass a video with at least one frame")
        if held is not None:
            end, repeat = held_t + 1.0 / src_fps, False
            while emitted == 0 or emitted / fps < end - 1e-9:
                yield held.copy() if repeat else held
                emitted, repeat = emitted + 1, True


# Copied from ygan_mobile.ingest._even
def _even(frame: np.ndarray) -> np.ndarray:
    """yuv420p needs even sides: an odd side gains one row/column repeating its edge pixels."""
    h, w = frame.shape[:2]
    if h % 2 or w % 2:
        frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return frame


# Copied from ygan_mobile.ingest.write_video with YganError->MediaError
def write_video(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float) -> None:
    """H.264 yuv420p (VP9 for .webm), one frame per timestamp tick 1/fps so count and rate survive.

    Atomic: the file appears under its name only after the last frame; if `frames` raises, nothing
    is left behind.
    """
    import av

    path = Path(path)
    container_format = _CONTAINER.get(path.suffix.lower())
    if container_format is None:
        raise MediaError(f"{path}: unknown video extension {path.suffix!r} — use one of {', '.join(VIDEO_EXTENSIONS)}")
    if not fps > 0:
        raise MediaError(f"frame rate must be positive, got {fps} — pass e.g. 30")
    rate = Fraction(fps).limit_denominator(1001)
    codec, options = ("libvpx-vp9", {"crf": "20", "b": "0"}) if container_format == "webm" else ("libx264", {"crf": "17"})
    with atomic_path(path) as tmp:
        with av.open(str(tmp), mode="w", format=container_format) as container:
            stream, shape, index = None, None, 0
            for frame in frames:
                frame = _check_frame(frame)
                if shape is None:
                    shape = frame.shape
                    stream = container.add_stream(codec, rate=rate, options=options)
                    even = _even(frame)
                    stream.width, stream.height = even.shape[1], even.shape[0]
                    stream.pix_fmt = "yuv420p"
                    stream.time_base = 1 / rate
                elif frame.shape != shape:
                    raise MediaError(f"video frame {index} is {frame.shape[1]}×{frame.shape[0]}, the first was "
                                    f"{shape[1]}×{shape[0]} — resize every frame to one size")
                picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(_even(frame)), format="rgb24")
                picture.pts = index
                container.mux(stream.encode(picture))
                index += 1
            if stream is None:
                raise MediaError(f"{path}: no frames to write — the input produced no frames")
            container.mux(stream.encode(None))


# Copied from ygan_mobile.atomic.atomic_path
@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `final`; on success it replaces `final`, on error it vanishes."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=final.suffix + ".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        if tmp.exists():
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


# Copied from ygan_mobile.atomic._umask
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
