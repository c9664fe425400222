"""The next step's inputs, made on a second thread while this step trains.

Why: a distillation step is the frozen teacher's forward (a third of the step) and the student's
update, whose small ops gain nothing from a second core (0.054 s a step on one thread or two, quick
preset, AMD EPYC). Giving each half of the cores and running the teacher one step ahead takes the
step from 0.072–0.096 s to 0.059 s (docs/distill.md, "Speed"). Each step's inputs are still a function of
the step alone, so a resumed run repeats an uninterrupted one.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")


@contextlib.contextmanager
def one_ahead(make: Callable[[int], T], end: int, enabled: bool = True) -> Iterator[Callable[[int], T]]:
    """Yields `get(step)` = make(step); while the caller uses it, make(step + 1) (below `end`) is
    already running on a second thread. Steps must be asked for in order, as a training loop does;
    an exception in make reaches the caller from get. Disabled, get is make itself."""
    if not enabled:
        yield make
        return
    with ThreadPoolExecutor(1, thread_name_prefix="ahead") as pool:
        pending: dict[int, Future] = {}

        def get(step: int) -> T:
            future = pending.pop(step, None) or pool.submit(make, step)
            pending.clear()  # a step asked out of order: what ran ahead is not needed
            if step + 1 < end:
                pending[step + 1] = pool.submit(make, step + 1)
            return future.result()

        try:
            yield get
        finally:
            for future in pending.values():
                future.cancel()
