"""Timing one rendered frame per contender: warm-up, interleaved repeats, median and p90.

Why interleaved: on a shared machine the load drifts over seconds, so timing every contender once
per round (round-robin) spreads that drift evenly over all of them, and a ratio between two rows
of one run stays meaningful even when absolute times are not. Each visit renders untimed frames for
50 ms before the timed one (see `measure`).

Why the model calls are timed inside the pipeline: the pipeline's overhead (tiling, batching,
blending, rounding) is then measured on the very frames that are being timed — frame time minus the
time spent inside the model callable — instead of being inferred from a separate run. The numpy
pipeline also clocks its pixel conversion (normalising and rounding, or an integer model's byte
tables) in its workspace, which splits that overhead into conversion and tiling + blending.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


SETTLE_SECONDS = 0.05  # untimed rendering before each timed frame; 20 ms covered onnxruntime's spinning here


class CallTimer:
    """Wraps a patch model and adds up the wall time spent inside it."""

    def __init__(self, model: Callable[[Any], Any]):
        self.model = model
        self.seconds = 0.0

    def __call__(self, x):
        return self.time(self.model, x)

    def time(self, fn: Callable[[Any], Any], x):
        """fn(x), its wall time added to this timer (a second entry point into the same model)."""
        began = time.perf_counter()
        y = fn(x)
        self.seconds += time.perf_counter() - began
        return y


@dataclass
class Contender:
    """One row of the benchmark: a way to render a frame, with its model behind a CallTimer."""
    key: str
    render: Callable[[np.ndarray, CallTimer], Any]  # (frame, timed model) -> rendered frame
    timer: CallTimer
    info: dict[str, Any] = field(default_factory=dict)  # backend, model, precision, MACs …
    workspace: Any = None  # the numpy pipeline's Workspace, whose "convert" phase is read per frame


@dataclass
class Samples:
    frame: list[float] = field(default_factory=list)  # seconds per frame
    model: list[float] = field(default_factory=list)  # seconds inside the model per frame
    convert: list[float] = field(default_factory=list)  # seconds converting pixels per frame (numpy rows)


def measure(contenders: list[Contender], frame: np.ndarray, warmup: int, repeats: int,
            settle: float = SETTLE_SECONDS) -> dict[str, Samples]:
    """`warmup` untimed frames per contender, then `repeats` rounds in which every contender renders
    untimed frames for at least `settle` seconds (one at least) and then one timed frame. The settling
    lets the thread pools of the contender before it go quiet and brings this one's buffers back into
    cache and its clocks up, so each timed frame is a frame of a video rendered by that runtime alone.
    One settling frame was not enough for a 5 ms row: onnxruntime's workers spin for 10-20 ms after a
    run, and LiteRT fp32 right after the onnxruntime rows took 8.8 ms a frame against 5.2 ms after 50 ms
    of its own frames (Intel Xeon, docs/speed.md) — which had flattered int8-full against it."""
    for c in contenders:
        for _ in range(warmup):
            c.render(frame, c.timer)
    out = {c.key: Samples() for c in contenders}
    for _ in range(repeats):
        for c in contenders:
            began = time.perf_counter()
            c.render(frame, c.timer)
            while time.perf_counter() - began < settle:
                c.render(frame, c.timer)
            c.timer.seconds = 0.0
            if c.workspace is not None:
                c.workspace.seconds.clear()
            began = time.perf_counter()
            c.render(frame, c.timer)
            out[c.key].frame.append(time.perf_counter() - began)
            out[c.key].model.append(c.timer.seconds)
            if c.workspace is not None:
                out[c.key].convert.append(c.workspace.seconds.get("convert", 0.0))
    return out


def summarise(s: Samples) -> dict[str, float | None]:
    """Median and p90 per frame (ms), frames per second from the median, and the pipeline's share:
    all of it (outside the model), and for numpy rows its pixel conversion and tiling + blending
    apart (None for rows whose pipeline does not clock itself)."""
    frame = np.asarray(s.frame) * 1e3
    overhead = frame - np.asarray(s.model) * 1e3
    median = float(np.median(frame))
    out: dict[str, float | None] = {
        "median_ms": median,
        "p90_ms": float(np.percentile(frame, 90)),
        "fps": 1e3 / median,
        "overhead_ms": float(np.median(overhead)),
        "overhead_share": float(np.median(overhead / frame)),
        "convert_ms": None, "convert_share": None, "tiling_ms": None, "tiling_share": None,
    }
    if s.convert:
        convert = np.asarray(s.convert) * 1e3
        tiling = np.maximum(overhead - convert, 0.0)
        out.update(convert_ms=float(np.median(convert)), convert_share=float(np.median(convert / frame)),
                   tiling_ms=float(np.median(tiling)), tiling_share=float(np.median(tiling / frame)))
    return out
