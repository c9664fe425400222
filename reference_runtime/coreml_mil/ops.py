"""The MIL ops the project's programs use, in numpy float32: name → function(args) → output(s).

The set is what coremltools emits for the project's encoders, generators and patch models (student
and teacher, every precision), plus a few elementwise ops; anything else is refused by name.

`args` maps an op's input names to arrays (a list for variadic inputs such as concat's `values`).
Float tensors are float32 here; the interpreter rounds fp16-declared outputs afterwards.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from reference_runtime.coreml_mil.conv import conv2d, conv_transpose2d

CAST_DTYPES = {"fp16": np.float16, "fp32": np.float32, "fp64": np.float64, "int8": np.int8, "uint8": np.uint8,
               "int16": np.int16, "uint16": np.uint16, "int32": np.int32, "int64": np.int64, "bool": np.bool_}


def _scalar(value, default=None):
    if value is None:
        return default
    first = np.asarray(value).reshape(-1)[0]
    return first.item() if isinstance(first, np.generic) else first


def _axes(value) -> tuple[int, ...]:
    return tuple(int(v) for v in np.asarray(value).reshape(-1))


def _f32(x) -> np.ndarray:
    return np.asarray(x, np.float32)


def _cast(a):
    dtype = str(_scalar(a["dtype"]))
    if dtype not in CAST_DTYPES:
        raise ValueError(f"cast to {dtype!r} is not supported")
    out = np.asarray(a["x"]).astype(CAST_DTYPES[dtype])
    return out.astype(np.float32) if out.dtype.kind == "f" else out


def _conv(a):
    return conv2d(_f32(a["x"]), _f32(a["weight"]), a.get("bias"), a.get("strides"), str(_scalar(a.get("pad_type"), "valid")),
                  a.get("pad"), a.get("dilations"), _scalar(a.get("groups"), 1))


def _conv_transpose(a):
    return conv_transpose2d(_f32(a["x"]), _f32(a["weight"]), a.get("bias"), a.get("strides"),
                            str(_scalar(a.get("pad_type"), "valid")), a.get("pad"), a.get("dilations"),
                            _scalar(a.get("groups"), 1), a.get("output_shape"))


def _linear(a):
    out = np.matmul(_f32(a["x"]), _f32(a["weight"]).T)
    return out + _f32(a["bias"]) if a.get("bias") is not None else out


def _upsample_nearest(a):
    sh, sw = _scalar(a.get("scale_factor_height"), 1), _scalar(a.get("scale_factor_width"), 1)
    if not (float(sh).is_integer() and float(sw).is_integer()):
        raise ValueError(f"upsample_nearest_neighbor with fractional scales ({sh}, {sw}) is not supported")
    return np.repeat(np.repeat(_f32(a["x"]), int(sh), axis=-2), int(sw), axis=-1)


def _concat(a):
    values = a["values"] if isinstance(a["values"], list) else [a["values"]]
    axis = int(_scalar(a["axis"]))
    if _scalar(a.get("interleave"), False):
        raise ValueError("concat with interleave is not supported")
    return np.concatenate([np.asarray(v) for v in values], axis=axis)


def _reshape(a):
    return np.reshape(a["x"], _axes(a["shape"]))


def _unary(fn):
    return lambda a: fn(_f32(a["x"]))


def _binary(fn):
    return lambda a: fn(np.asarray(a["x"]), np.asarray(a["y"]))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


OPS: dict[str, Callable[[dict], np.ndarray]] = {
    "cast": _cast,
    "conv": _conv,
    "conv_transpose": _conv_transpose,
    "linear": _linear,
    "upsample_nearest_neighbor": _upsample_nearest,
    "concat": _concat,
    "reshape": _reshape,
    "transpose": lambda a: np.transpose(a["x"], _axes(a["perm"])),
    "identity": lambda a: np.asarray(a["x"]),
    "relu": _unary(lambda x: np.maximum(x, np.float32(0))),
    "tanh": _unary(np.tanh),
    "sigmoid": _unary(_sigmoid),
    "leaky_relu": lambda a: np.where(_f32(a["x"]) >= 0, _f32(a["x"]), np.float32(_scalar(a.get("alpha"), 0.01)) * _f32(a["x"])),
    "clip": lambda a: np.clip(_f32(a["x"]), _scalar(a["alpha"]), _scalar(a["beta"])),
    "add": _binary(np.add),
    "sub": _binary(np.subtract),
    "mul": _binary(np.multiply),
    "real_div": _binary(np.divide),
    "maximum": _binary(np.maximum),
    "minimum": _binary(np.minimum),
}


def run_op(op_type: str, args: dict):
    """Outputs of one op (a single array or a tuple); ValueError naming the op when it is not interpreted."""
    fn = OPS.get(op_type)
    if fn is None:
        raise ValueError(f"unsupported MIL op '{op_type}'")
    return fn(args)
