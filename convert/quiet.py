"""Silence converters that print from C++ as well as Python (TensorFlow, onnx2tf, coremltools).

Why at the file-descriptor level: TFLite's converter and absl write straight to fd 1/2, which
`contextlib.redirect_stdout` never sees, and their chatter would break the progress bar. Failures
still reach the user through the exception, turned into one YganError line by the caller.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import warnings
from typing import Iterator


ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Captured:
    """What the silenced code printed, for the one error line when it fails without saying why
    in its exception (onnx2tf calls sys.exit(1) after printing the reason)."""

    def __init__(self, sink, text):
        self.sink, self.text = sink, text

    def last_error(self) -> str:
        self.text.flush()
        self.sink.flush()
        self.sink.seek(0)
        lines = [ANSI.sub("", line).strip() for line in self.sink.read().decode("utf-8", "replace").splitlines()]
        errors = [line for line in lines if "ERROR" in line]
        return errors[-1] if errors else next((line for line in reversed(lines) if line), "")


@contextlib.contextmanager
def quiet() -> Iterator[Captured]:
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    previous = logging.root.manager.disable
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings(), \
            contextlib.redirect_stdout(open(os.dup(sink.fileno()), "w", encoding="utf-8", errors="replace")) as out, \
            contextlib.redirect_stderr(out):
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield Captured(sink, out)
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            logging.disable(previous)
            out.close()
