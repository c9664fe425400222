"""A numpy interpreter for Core ML ML programs (.mlpackage), so Core ML parity is checked on Linux.

`load_program(path)` reads the package's protobuf spec and weight blobs without importing the
coremltools package (which pulls in torch and tensorflow); `program.run({name: array})` executes
the "main" function. Unsupported ops raise ValueError naming the op.
"""

from reference_runtime.coreml_mil.program import Program, load_program

__all__ = ["Program", "load_program"]
