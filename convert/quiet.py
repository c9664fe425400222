"""Silence converters that print from C++ as well as Python (TensorFlow, onnx2tf, coremltools).

Why at the file-descriptor level: TFLite's converter and absl write straight to fd 1/2, which
`contextlib.redirect_stdout` never sees, and their chatter would break the progress bar. Failures
still reach the user through the exception, turned into one YganError line by the caller.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from typing import Iterator


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    previous = logging.root.manager.disable
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings(), \
            contextlib.redirect_stdout(open(os.devnull, "w")) as out, contextlib.redirect_stderr(out):
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            logging.disable(previous)
            out.close()
