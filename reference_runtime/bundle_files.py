"""The names of the files at the top of a bundle, written once: the runtime reads every one of them,
and the tools that write them (convert, verify, the build's quality stage, `ygan bench`) take the
names from here."""

MANIFEST = "manifest.json"  # what the bundle holds; every other file is checked against it
PARITY = "parity.json"  # verify's verdict
QUALITY = "quality.json"  # the build's mosaic quality
BENCH = "bench.json"  # ygan bench's frame times
