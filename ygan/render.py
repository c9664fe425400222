"""`ygan render`: an image or a video through a trained checkpoint's PyTorch pipeline
(ygan_mobile.render.command) or, with --bundle, through the bundle's artifacts without torch
(reference_runtime.render: the bytes `python -m reference_runtime render` writes).

Each path refuses, in one line, the options only the other one takes.
"""

from __future__ import annotations

import argparse
from typing import Callable

from reference_runtime.cli import add_bundle_arguments
from reference_runtime.render import ERRORS, render
from ygan_mobile.errors import YganError
from ygan_mobile.render import command

CHECKPOINT_ONLY = ("patch", "feedback", "stereo", "disparity", "batch", "seed", "strict")
"""What the bundle's artifacts do not render: resized crops, feedback, stereo pairs, another batch
than the artifact's, random sampling's seed, --strict's check of a video's length."""
BUNDLE_ONLY = ("precision", "format", "threads")


def add_render_arguments(p: argparse.ArgumentParser) -> None:
    command.add_render_arguments(p)
    add_bundle_arguments(p, required=False)


def _given(args: argparse.Namespace, add: Callable[[argparse.ArgumentParser], None], dests: tuple[str, ...]) -> list[str]:
    """The options among `dests` set to something other than the default `add` gives them."""
    defaults = argparse.ArgumentParser()
    add(defaults)
    return [dest for dest in dests if getattr(args, dest) != defaults.get_default(dest)]


def run_render(args: argparse.Namespace) -> int:
    if (args.checkpoint is None) == (args.bundle is None):
        raise YganError("pass one of --checkpoint RUN (the PyTorch model) and --bundle BUNDLE (its artifacts, no torch)")
    if args.checkpoint is not None:
        given = _given(args, lambda p: add_bundle_arguments(p, required=False), BUNDLE_ONLY)
        if given:
            raise YganError(f"--{given[0]} chooses the bundle's artifacts: pass --bundle BUNDLE instead of --checkpoint")
        return command.run_render(args)
    given = _given(args, command.add_render_arguments, CHECKPOINT_ONLY)
    if given:
        raise YganError(f"--{given[0]} needs --checkpoint: the bundle's artifacts render spec v1's grid only")
    try:
        print(render(args))
    except ERRORS as exc:
        raise YganError(str(exc)) from None
    return 0
