"""A user's own images for either domain: a folder (recursive), a video file or one image.

Unreadable files fail the run and name the file rather than being skipped: a silently shrunken
dataset is worse than one clear error line (docs/data.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np

from ygan_mobile import ingest
from ygan_mobile.data.photos import NamedImage
from ygan_mobile.errors import YganError

MAX_SIDE = 1024
"""Larger images are downscaled to this longer side (aspect kept), so a folder of 12-MP photos fits
in memory and a patch covers a recognisable region rather than a few pores."""
VIDEO_FRAMES = 64
"""At most this many frames, evenly spaced over the whole clip, are taken from a video."""


def load_source(path: str | os.PathLike, min_size: int, max_side: int | None = MAX_SIDE,
                video_frames: int = VIDEO_FRAMES) -> list[NamedImage]:
    """Images from a folder, a video or one image, each at least `min_size` on both sides."""
    path = Path(path)
    if not path.exists():
        raise YganError(f"{path}: no such file or folder — check the data path")
    if path.is_dir():
        images = (NamedImage(_relative(f, path), ingest.load_image(f)) for f in _image_files(path))
    elif ingest.is_video_path(path):
        images = _video_frames(path, video_frames)
    elif ingest.is_image_path(path):
        images = [NamedImage(path.name, ingest.load_image(path))]
    else:
        raise YganError(f"{path}: neither an image ({', '.join(ingest.IMAGE_EXTENSIONS)}) nor a video "
                        f"({', '.join(ingest.VIDEO_EXTENSIONS)}) — pass a folder, an image or a video")
    return [_fit(image, min_size, max_side) for image in images]  # one full-size image in memory at a time


def _relative(file: Path, root: Path) -> str:
    return file.relative_to(root).as_posix()


def _image_files(folder: Path) -> list[Path]:
    entries = sorted(p for p in folder.rglob("*")
                     if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not entries:
        raise YganError(f"{folder}: the folder is empty — put images (.png, .jpg, …) in it")
    files = [p for p in entries if ingest.is_image_path(p)]
    if not files:
        raise YganError(f"{folder}: no image files among its {len(entries)} files — "
                        f"add images with one of {', '.join(ingest.IMAGE_EXTENSIONS)}")
    return files


def _video_frames(path: Path, limit: int) -> Iterator[NamedImage]:
    """Frames spread evenly over the clip; each is its own source for the split (see docs/data.md)."""
    total = ingest.video_info(path).frames
    if total < 1:
        raise YganError(f"{path}: the video has no frames — pass a video with at least one frame")
    wanted = set(np.linspace(0, total - 1, min(limit, total)).round().astype(int).tolist())
    for i, frame in enumerate(ingest.read_video_frames(path)):
        if i in wanted:
            yield NamedImage(f"{path.name}#{i:06d}", frame)


def _fit(image: NamedImage, min_size: int, max_side: int | None) -> NamedImage:
    """Refuse images below `min_size`; shrink big ones, never below `min_size` on the short side."""
    h, w = image.pixels.shape[:2]
    if h < min_size or w < min_size:
        raise YganError(f"{image.name}: {w}×{h} is smaller than the {min_size}×{min_size} patch — "
                        "remove it, use a larger image or a smaller model.patch")
    scale = 1.0 if max_side is None else min(1.0, max(max_side / max(h, w), min_size / min(h, w)))
    pixels = image.pixels
    if scale < 1.0:
        size = (max(min_size, round(w * scale)), max(min_size, round(h * scale)))
        pixels = ingest.resize_to(pixels, size)
    pixels.setflags(write=False)
    return NamedImage(image.name, pixels, image.group)
