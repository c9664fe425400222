"""Timing one rendered frame per contender: warm-up, interleaved repeats, median and p90.

Why interleaved: on a shared machine the load drifts over seconds, so timing every contender once
per round (round-robin) spreads that drift evenly over all of them, and a ratio between two rows
of one run stays meaningful even when absolute times are not.

Why the model calls are timed inside the pipeline: the pipeline's overhead (tiling, batching,
blending, rounding) is then measured on the very frames that are being timed — frame time minus the
time spent inside the model callable — instead of being inferred from a separate run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class CallTimer:
    """Wraps a patch model and adds up the wall time spent inside it."""

    def __init__(self, model: Callable[[Any], Any]):
        self.model = model
        self.seconds = 0.0

    def __call__(self, x):
        began = time.perf_counter()
        y = self.model(x)
        self.seconds += time.perf_counter() - began
        return y


@dataclass
class Contender:
    """One row of the benchmark: a way to render a frame, with its model behind a CallTimer."""
    key: str
    render: Callable[[np.ndarray, CallTimer], Any]  # (frame, timed model) -> rendered frame
    timer: CallTimer
    info: dict[str, Any] = field(default_factory=dict)  # backend, model, precision, MACs …


@dataclass
class Samples:
    frame: list[float] = field(default_factory=list)  # seconds per frame
    model: list[float] = field(default_factory=list)  # seconds inside the model per frame


def measure(contenders: list[Contender], frame: np.ndarray, warmup: int, repeats: int) -> dict[str, Samples]:
    for c in contenders:
        for _ in range(warmup):
            c.render(frame, c.timer)
    out = {c.key: Samples() for c in contenders}
    for _ in range(repeats):
        for c in contenders:
            c.timer.seconds = 0.0
            began = time.perf_counter()
            c.render(frame, c.timer)
            out[c.key].frame.append(time.perf_counter() - began)
            out[c.key].model.append(c.timer.seconds)
    return out


def summarise(s: Samples) -> dict[str, float]:
    """Median and p90 per frame (ms), frames per second from the median, and the pipeline's share."""
    frame = np.asarray(s.frame) * 1e3
    overhead = frame - np.asarray(s.model) * 1e3
    median = float(np.median(frame))
    return {
        "median_ms": median,
        "p90_ms": float(np.percentile(frame, 90)),
        "fps": 1e3 / median,
        "overhead_ms": float(np.median(overhead)),
        "overhead_share": float(np.median(overhead / frame)),
    }
