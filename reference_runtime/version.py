"""The installed ygan-mobile's version, read from its distribution metadata.

The runtime may not import ygan_mobile (where the training side keeps `__version__`), and a copy of
the number would drift, so it asks the installed package; a source tree run without installing says
so instead of guessing.
"""

from importlib import metadata

try:
    __version__ = metadata.version("ygan-mobile")
except metadata.PackageNotFoundError:
    __version__ = "unknown (not installed: pip install the project)"
