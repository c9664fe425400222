"""One exception type for bad input, so the CLI can print one clear line instead of a traceback."""


class YganError(Exception):
    """A user-facing failure: the message says what went wrong, why, and what to do."""
