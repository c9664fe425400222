"""Core ML packages: the real `predict` on macOS; elsewhere the runtime's MIL interpreter.

`MLModel.predict` exists only on macOS. On Linux the package's MIL program is run by
reference_runtime.coreml_mil in numpy (fp16 emulated by rounding), which is how Core ML parity is
checked in CI; on a Mac both run and `compare_on_mac` reports their agreement.
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

from reference_runtime.backends import BackendError, BackendUnavailable, CallableRunner, check_input


class MilRunner(CallableRunner):
    backend = "coreml-mil"

    def __init__(self, path: Path, artifact: dict):
        from reference_runtime.coreml_mil import load_program

        try:
            self.program = load_program(path)
        except Exception as exc:
            raise BackendError(f"{artifact['id']}: the MIL interpreter cannot read it: {str(exc).splitlines()[0]}") from None
        self.artifact = artifact

    def run(self, x: np.ndarray) -> np.ndarray:
        check_input(self.artifact, x)
        out = self.program.run({self.artifact["inputs"][0]["name"]: x.astype(np.float32)})
        return np.asarray(out[self.artifact["outputs"][0]["name"]], np.float32)


class PredictRunner(CallableRunner):
    backend = "coreml"

    def __init__(self, path: Path, artifact: dict):
        try:
            import coremltools as ct
        except ImportError:
            raise BackendUnavailable(f"{artifact['id']}: no coremltools: pip install coremltools") from None
        try:
            self.model = ct.models.MLModel(str(path))
        except Exception as exc:
            raise BackendError(f"{artifact['id']}: Core ML cannot load it: {str(exc).splitlines()[0]}") from None
        self.artifact = artifact

    def run(self, x: np.ndarray) -> np.ndarray:
        check_input(self.artifact, x)
        out = self.model.predict({self.artifact["inputs"][0]["name"]: x.astype(np.float32)})
        return np.asarray(out[self.artifact["outputs"][0]["name"]], np.float32)


def open_coreml(path: Path, artifact: dict):
    if platform.system() == "Darwin":
        return PredictRunner(path, artifact)
    try:
        import reference_runtime.coreml_mil  # noqa: F401  (present once the interpreter is installed)
    except ImportError:
        raise BackendUnavailable(f"{artifact['id']}: Core ML needs macOS or reference_runtime.coreml_mil") from None
    return MilRunner(path, artifact)
