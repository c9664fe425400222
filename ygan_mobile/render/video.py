"""Videos frame by frame through a renderer: decode lazily, render, encode, with a progress bar.

Reading, frame-rate resampling, resizing and atomic writing are ingest's; the output keeps the
source's frame rate unless `fps` is given, so frame count and duration survive. A file that decodes
to fewer frames than its header promised (truncated, damaged) is said so, not passed off as whole.
"""

from __future__ import annotations

import os
import sys
from typing import Callable

import numpy as np
from tqdm import tqdm

from ygan_mobile import ingest
from ygan_mobile.errors import YganError


def expected_frames(info: ingest.VideoInfo, out_fps: float) -> int | None:
    """The output frames the header's promise comes to at `out_fps`, or None when it promises nothing."""
    if not info.promised or not info.fps:
        return None
    return round(info.promised * out_fps / info.fps)


def render_video(src: str | os.PathLike, dst: str | os.PathLike, render: Callable[[np.ndarray], np.ndarray], *,
                 fps: float | None = None, size: int | None = None, progress: bool = True, strict: bool = False) -> int:
    """Returns the number of frames written; nothing appears at `dst` if any frame fails, or, with
    `strict`, if the source decodes to fewer frames than it promised (else a warning on stderr)."""
    info = ingest.video_info(src)
    out_fps = fps or info.fps
    frames = ingest.read_video_frames(src, fps=fps, size=size)
    total = expected_frames(info, out_fps)
    written = 0

    def short() -> str | None:
        slack = 0 if fps is None else 1  # resampling by time may round one frame either way
        if total is None or written >= total - slack:
            return None
        return (f"{src}: decoded {written} of the {total} frames its header promises (truncated or damaged?)")

    def rendered():
        nonlocal written
        for frame in tqdm(frames, total=total, desc="render", unit="frame", disable=not (progress and sys.stderr.isatty())):
            yield render(frame)
            written += 1
        if strict and short():
            raise YganError(f"{short()} — re-encode or re-download it, or drop --strict to render what decodes")

    ingest.write_video(dst, rendered(), out_fps)
    if short():
        print(f"warning: {short()}; wrote those {written} (pass --strict to fail instead)", file=sys.stderr)
    return written
