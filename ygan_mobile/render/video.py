"""Videos frame by frame through a renderer: decode lazily, render, encode, with a progress bar.

Reading, frame-rate resampling, resizing and atomic writing are ingest's; the output keeps the
source's frame rate unless `fps` is given, so frame count and duration survive.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np
from tqdm import tqdm

from ygan_mobile import ingest


def render_video(src: str | os.PathLike, dst: str | os.PathLike, render: Callable[[np.ndarray], np.ndarray], *,
                 fps: float | None = None, size: int | None = None, progress: bool = True) -> int:
    """Returns the number of frames written; nothing appears at `dst` if any frame fails."""
    info = ingest.video_info(src)
    out_fps = fps or info.fps
    frames = ingest.read_video_frames(src, fps=fps, size=size)
    total = round(info.frames * out_fps / info.fps) if info.frames and info.fps else None
    written = 0

    def rendered():
        nonlocal written
        for frame in tqdm(frames, total=total, desc="render", unit="frame", disable=not progress):
            yield render(frame)
            written += 1

    ingest.write_video(dst, rendered(), out_fps)
    return written
