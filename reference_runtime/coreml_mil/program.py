"""An .mlpackage's "main" MIL function, loaded once and run op by op in numpy.

Constants (const and the constexpr weight expansions) are evaluated at load; `run` then executes
the remaining ops in order. Every op output whose declared dtype is fp16 is rounded through
np.float16, which is how the fp16 programs are emulated on a machine without Core ML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reference_runtime.coreml_mil import constexpr, ops
from reference_runtime.coreml_mil.blob import BlobFile
from reference_runtime.coreml_mil.proto import model_pb2
from reference_runtime.coreml_mil.values import TensorSpec, decode_value, tensor_spec

FLOAT_TYPES = ("fp16", "fp32", "fp64")


@dataclass
class Step:
    """One non-constant op: its type, argument bindings (input name → value names) and declared outputs."""

    type: str
    inputs: dict[str, list[str]]
    outputs: list[tuple[str, TensorSpec]]


@dataclass
class Program:
    input_names: list[str]
    output_names: list[str]
    input_specs: dict[str, TensorSpec]
    constants: dict[str, np.ndarray] = field(repr=False)  # every const / constexpr output, declared dtype
    steps: list[Step] = field(repr=False)
    op_types: list[str] = field(default_factory=list, repr=False)  # all op types in program order, constants included

    def __post_init__(self):
        # float constants are computed in float32 (fp16 values are exactly representable)
        self._initial = {name: v.astype(np.float32) if v.dtype.kind == "f" else v for name, v in self.constants.items()}

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the program on {input name: array}; returns {output name: array} (float32 for float outputs)."""
        values = dict(self._initial)
        for name in self.input_names:
            if name not in feeds:
                raise ValueError(f"missing input '{name}' (the program takes {self.input_names})")
            values[name] = _conform(np.asarray(feeds[name]), self.input_specs[name], name)
        for step in self.steps:
            args = {key: (values[names[0]] if len(names) == 1 else [values[n] for n in names])
                    for key, names in step.inputs.items()}
            result = ops.run_op(step.type, args)
            results = result if isinstance(result, (tuple, list)) else (result,)
            if len(results) != len(step.outputs):
                raise ValueError(f"op '{step.type}' gave {len(results)} outputs, the program declares {len(step.outputs)}")
            for (name, spec), value in zip(step.outputs, results):
                values[name] = _declared(np.asarray(value), spec)
        return {name: values[name] for name in self.output_names}


def _declared(value: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """An op output in its declared dtype: fp16 rounded (kept as float32 for the next op), others cast."""
    if spec.dtype == "fp16":
        return value.astype(np.float16).astype(np.float32)
    if spec.dtype in FLOAT_TYPES:
        return value.astype(np.float32)
    if spec.dtype == "string":
        return value
    return value.astype(spec.numpy_dtype)


def _conform(x: np.ndarray, spec: TensorSpec, name: str) -> np.ndarray:
    if len(spec.shape) != x.ndim or any(d is not None and d != s for d, s in zip(spec.shape, x.shape)):
        raise ValueError(f"input '{name}' has shape {tuple(x.shape)}, the program takes {spec.shape}")
    return _declared(x, spec)


def _package_paths(path: Path) -> tuple[Path, Path]:
    """(model spec file, weights directory) from the package's Manifest.json."""
    manifest_path = path / "Manifest.json"
    if not manifest_path.is_file():
        raise ValueError(f"{path}: not an .mlpackage (no Manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    entries = manifest.get("itemInfoEntries", {})
    root = entries.get(manifest.get("rootModelIdentifier", ""))
    if root is None:
        raise ValueError(f"{path}: Manifest.json names no root model")
    spec_path = path / "Data" / root["path"]
    weights = next((path / "Data" / e["path"] for e in entries.values() if e.get("name") == "weights"),
                   spec_path.parent / "weights")
    return spec_path, weights


def _bindings(op) -> dict[str, list]:
    return {key: list(arg.arguments) for key, arg in op.inputs.items()}


def _constant_args(op, constants: dict, blobs: dict) -> dict[str, np.ndarray]:
    """A constexpr op's arguments: attributes (iOS16 form) and inputs bound to constants (iOS18 form)."""
    args = {key: decode_value(value, blobs) for key, value in op.attributes.items() if key != "name"}
    for key, bindings in _bindings(op).items():
        if len(bindings) != 1:
            raise ValueError(f"op '{op.type}': variadic constant input '{key}'")
        b = bindings[0]
        args[key] = constants[b.name] if b.WhichOneof("binding") == "name" else decode_value(b.value, blobs)
    return args


def load_program(path: str | Path, function: str = "main") -> Program:
    """Read an .mlpackage (ML program) without coremltools' Python package or Core ML."""
    path = Path(path)
    spec_path, weights_dir = _package_paths(path)
    model = model_pb2().Model()
    model.ParseFromString(spec_path.read_bytes())
    if model.WhichOneof("Type") != "mlProgram":
        raise ValueError(f"{path}: a '{model.WhichOneof('Type')}' model, not an ML program")
    if function not in model.mlProgram.functions:
        raise ValueError(f"{path}: no function '{function}' (has {sorted(model.mlProgram.functions)})")
    fn = model.mlProgram.functions[function]
    block = fn.block_specializations[fn.opset]
    blobs = {p.relative_to(weights_dir.parent).as_posix(): BlobFile(p) for p in weights_dir.glob("*.bin")} if weights_dir.is_dir() else {}

    constants: dict[str, np.ndarray] = {}
    steps: list[Step] = []
    for op in block.operations:
        outputs = [(o.name, tensor_spec(o.type)) for o in op.outputs]
        if op.type == "const":
            constants[outputs[0][0]] = decode_value(op.attributes["val"], blobs)
        elif op.type.startswith("constexpr_"):
            dense = constexpr.evaluate(op.type, _constant_args(op, constants, blobs))
            name, spec = outputs[0]
            if spec.shape and tuple(dense.shape) != spec.shape:
                raise ValueError(f"op '{op.type}' expands to {dense.shape}, the program declares {spec.shape}")
            constants[name] = dense.astype(spec.numpy_dtype)
        else:
            if op.type not in ops.OPS:
                raise ValueError(f"unsupported MIL op '{op.type}'")
            inputs = {}
            for key, bindings in _bindings(op).items():
                names = []
                for b in bindings:
                    if b.WhichOneof("binding") == "name":
                        names.append(b.name)
                    else:
                        # an inline value: give it a private constant name
                        names.append(f"{op.outputs[0].name}::{key}::{len(names)}")
                        constants[names[-1]] = decode_value(b.value, blobs)
                inputs[key] = names
            steps.append(Step(op.type, inputs, outputs))
    return Program(
        input_names=[i.name for i in fn.inputs],
        output_names=list(block.outputs),
        input_specs={i.name: tensor_spec(i.type) for i in fn.inputs},
        constants=constants,
        steps=steps,
        op_types=[op.type for op in block.operations],
    )
