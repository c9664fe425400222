"""The step/log/checkpoint loop that teacher training and student distillation share.

Both runs are a sequence of pure steps (each a function of weights, optimiser state and the step
number), so the loop around them is the same: stop cleanly on Ctrl-C/SIGTERM between steps, append
one JSON line every `log_every` steps, write a checkpoint every `checkpoint_every` steps, and on a
resume forget log lines the checkpoint does not contain.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from ygan_mobile.atomic import write_text
from ygan_mobile.distributed import World


def cosine_decay(step: int, steps: int, final: float) -> float:
    """The learning-rate factor going from 1 at step 0 to `final` at `steps`, a function of the step
    alone so a resumed run continues the same schedule."""
    return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * min(step / max(steps, 1), 1.0)))


class StopFlag:
    """Turns Ctrl-C (SIGINT) and SIGTERM into a flag checked between steps, so the checkpoint
    written on interruption always holds a whole step."""

    def __init__(self):
        self.raised = False

    def __enter__(self):
        self._old = {s: signal.signal(s, self._set) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def _set(self, signum, frame):
        self.raised = True

    def __exit__(self, *exc):
        for s, handler in self._old.items():
            signal.signal(s, handler)


def truncate_log(path: Path, step: int) -> None:
    """After a resume, forget log lines from steps the checkpoint does not contain."""
    if path.exists():
        kept = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] < step]
        write_text(path, "".join(line + "\n" for line in kept))


@dataclass
class Schedule:
    """How long to run and how often to log and checkpoint (the [train] keys of both presets)."""
    steps: int
    log_every: int
    checkpoint_every: int


@dataclass
class LoopEnd:
    step: int  # steps done in total, counting those before a resume
    seconds: float  # wall time of this invocation's steps


def run_steps(step_fn: Callable[[int], dict[str, float]], save: Callable[[int], None], *, start: int,
              schedule: Schedule, log_path: Path, world: World, desc: str, headline: str, progress: bool) -> LoopEnd:
    """Run `step_fn(step)` from `start` to `schedule.steps`; `save(step)` writes an intermediate
    checkpoint (rank 0 only). The final checkpoint is the caller's: it adds its own evaluation."""
    if world.main:
        truncate_log(log_path, start)
    step, began = start, time.monotonic()
    bar = tqdm(total=schedule.steps, initial=start, desc=desc, unit="step",
               disable=not (progress and world.main and sys.stderr.isatty()), dynamic_ncols=True)
    with StopFlag() as stop, open(log_path, "a") if world.main else contextlib.nullcontext() as log:
        while step < schedule.steps and not world.any(stop.raised):
            record = step_fn(step)
            step += 1
            if step % schedule.log_every == 0 or step == schedule.steps:
                record = {"step": step - 1, **world.mean(record), "elapsed": round(time.monotonic() - began, 3)}
                if world.main:
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                bar.set_postfix({headline: f"{record[headline]:.4f}"})
            bar.update(1)
            if world.main and step % schedule.checkpoint_every == 0 and step < schedule.steps:
                save(step)
    bar.close()
    return LoopEnd(step, time.monotonic() - began)
