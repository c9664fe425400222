"""Defaults several of the runtime's modules and command lines share, each written once. Imports
nothing: the pytest plugin reads them at every pytest start, before numpy is needed."""

DEFAULT_THREADS = 2  # a runner's threads when the caller names none
