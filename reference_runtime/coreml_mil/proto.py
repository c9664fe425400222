"""Core ML's protobuf messages, without importing the coremltools package.

`import coremltools` imports torch and tensorflow when they are installed, which the runtime must
never do. Only the generated *_pb2 modules are needed, so they are loaded from coremltools' proto
directory through an alias package whose `__path__` points there (their relative imports resolve
against it). If the real `coremltools.proto` modules are already imported, those are used instead,
so both can live in one process without two classes for one message type.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path

ALIAS = "reference_runtime.coreml_mil._coreml_proto"


def _proto_dir() -> Path:
    # find_spec on a top-level name locates the package without executing its __init__.
    spec = importlib.util.find_spec("coremltools")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("reading .mlpackage files needs the coremltools package installed (its generated protobuf modules)")
    return Path(list(spec.submodule_search_locations)[0]) / "proto"


def model_pb2() -> types.ModuleType:
    """The Model_pb2 module (CoreML.Specification.Model and the MIL messages it contains)."""
    real = sys.modules.get("coremltools.proto.Model_pb2")
    if real is not None:
        return real
    if ALIAS not in sys.modules:
        package = types.ModuleType(ALIAS)
        package.__path__ = [str(_proto_dir())]
        package.__package__ = ALIAS
        sys.modules[ALIAS] = package
    return importlib.import_module(f"{ALIAS}.Model_pb2")


def mil_pb2() -> types.ModuleType:
    """The MIL_pb2 module (CoreML.Specification.MILSpec), from the same place as model_pb2()."""
    return importlib.import_module(model_pb2().__name__.rsplit(".", 1)[0] + ".MIL_pb2")
