"""MIL proto values and types → numpy: immediate tensors, blob file references, declared dtypes and shapes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference_runtime.coreml_mil.blob import SUB_BYTE_BITS, BlobFile, unpack_bits

# MIL DataType enum (MIL.proto) → (name, numpy dtype, bits for sub-byte types).
DATA_TYPES = {
    1: ("bool", np.bool_, 0), 2: ("string", np.str_, 0), 10: ("fp16", np.float16, 0), 11: ("fp32", np.float32, 0),
    12: ("fp64", np.float64, 0), 21: ("int8", np.int8, 0), 22: ("int16", np.int16, 0), 23: ("int32", np.int32, 0),
    24: ("int64", np.int64, 0), 25: ("int4", np.int8, 4), 31: ("uint8", np.uint8, 0), 32: ("uint16", np.uint16, 0),
    33: ("uint32", np.uint32, 0), 34: ("uint64", np.uint64, 0), 35: ("uint4", np.uint8, 4), 36: ("uint2", np.uint8, 2),
    37: ("uint1", np.uint8, 1), 38: ("uint6", np.uint8, 6), 39: ("uint3", np.uint8, 3),
}
BY_NAME = {name: (np_dtype, bits) for name, np_dtype, bits in DATA_TYPES.values()}
WEIGHTS_PREFIX = "@model_path/"


@dataclass(frozen=True)
class TensorSpec:
    """A declared tensor type: MIL dtype name and shape (None for unknown dimensions)."""

    dtype: str
    shape: tuple

    @property
    def numpy_dtype(self):
        return BY_NAME[self.dtype][0]

    @property
    def bits(self) -> int:
        """Width of a sub-byte type (0 for whole-byte types)."""
        return BY_NAME[self.dtype][1]


def tensor_spec(value_type) -> TensorSpec:
    """The TensorSpec of a MIL ValueType (only tensor types occur in the project's programs)."""
    kind = value_type.WhichOneof("type")
    if kind != "tensorType":
        raise ValueError(f"unsupported MIL value type {kind!r} (only tensors are interpreted)")
    t = value_type.tensorType
    if t.dataType not in DATA_TYPES:
        raise ValueError(f"unsupported MIL data type code {t.dataType}")
    dims = tuple(d.constant.size if d.WhichOneof("dimension") == "constant" else None for d in t.dimensions)
    return TensorSpec(DATA_TYPES[t.dataType][0], dims)


def _count(shape: tuple) -> int:
    return int(np.prod(shape, dtype=np.int64)) if shape else 1


def _immediate(tensor, spec: TensorSpec) -> np.ndarray:
    np_dtype, bits = spec.numpy_dtype, spec.bits
    kind = tensor.WhichOneof("value")
    if kind == "bytes":
        raw = np.frombuffer(tensor.bytes.values, np.uint8)
        flat = unpack_bits(raw, bits, _count(spec.shape), spec.dtype == "int4") if bits else raw.view(np_dtype)
    elif kind == "strings":
        flat = np.array(list(tensor.strings.values), dtype=object)
    elif kind is None:
        flat = np.zeros(0, np_dtype)
    else:
        flat = np.asarray(getattr(tensor, kind).values)
    if kind != "strings":
        flat = flat.astype(np_dtype)
    return flat.reshape(spec.shape) if spec.shape else flat.reshape(())


def _from_blob(blob_value, spec: TensorSpec, blobs: dict[str, BlobFile]) -> np.ndarray:
    name = blob_value.fileName
    if not name.startswith(WEIGHTS_PREFIX) or name.removeprefix(WEIGHTS_PREFIX) not in blobs:
        raise ValueError(f"weights file {name!r} is not in the package")
    code, raw = blobs[name.removeprefix(WEIGHTS_PREFIX)].read(blob_value.offset)
    np_dtype, bits = spec.numpy_dtype, spec.bits
    count = _count(spec.shape)
    if code in SUB_BYTE_BITS:
        if SUB_BYTE_BITS[code] != bits:
            raise ValueError(f"blob at offset {blob_value.offset} holds {SUB_BYTE_BITS[code]}-bit data, the program declares {spec.dtype}")
        flat = unpack_bits(raw, bits, count, spec.dtype == "int4").astype(np_dtype)
    else:
        if raw.dtype != np.dtype(np_dtype):
            raise ValueError(f"blob at offset {blob_value.offset} holds {raw.dtype}, the program declares {spec.dtype}")
        flat = raw
    if flat.size != count:
        raise ValueError(f"blob at offset {blob_value.offset} holds {flat.size} values, the program declares shape {spec.shape}")
    return flat.reshape(spec.shape)


def decode_value(value, blobs: dict[str, BlobFile]) -> np.ndarray:
    """A MIL Value (immediate or in a weights file) as a numpy array of its declared dtype and shape."""
    spec = tensor_spec(value.type)
    kind = value.WhichOneof("value")
    if kind == "immediateValue":
        if value.immediateValue.WhichOneof("value") != "tensor":
            raise ValueError("only tensor immediate values are supported")
        return _immediate(value.immediateValue.tensor, spec)
    if kind == "blobFileValue":
        return _from_blob(value.blobFileValue, spec, blobs)
    raise ValueError(f"MIL value without data ({kind})")
