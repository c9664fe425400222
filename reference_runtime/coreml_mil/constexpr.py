"""Compressed weights expanded to dense tensors: the constexpr_* ops, evaluated once at load.

The arithmetic follows the MIL op definitions (and coremltools' own value inference, which the tests
compare against bit for bit): int8 weights are `(q − zero_point)·scale` in float32, cast to the
scale's dtype; palettes are `lut[indices]` with indices packed LSB first.
"""

from __future__ import annotations

import numpy as np

from reference_runtime.coreml_mil.blob import unpack_bits


def _scalar(value) -> float:
    return np.asarray(value).reshape(-1)[0].item()


def _along(param: np.ndarray, rank: int, axis: int) -> np.ndarray:
    """A scalar or per-axis vector shaped to broadcast against a rank-`rank` tensor along `axis`."""
    param = np.asarray(param)
    if param.ndim == rank:
        return param
    if param.ndim == 0:
        return param.reshape((1,) * rank)
    axis = axis % rank
    return np.expand_dims(param, tuple(i for i in range(rank) if i != axis))


def affine_dequantize(quantized_data: np.ndarray, zero_point: np.ndarray, scale: np.ndarray, axis: int) -> np.ndarray:
    """iOS16 constexpr_affine_dequantize: (q − zero_point)·scale, in scale's dtype."""
    rank = quantized_data.ndim
    dense = quantized_data.astype(np.float32) - _along(zero_point, rank, int(axis)).astype(np.float32)
    dense *= _along(scale, rank, int(axis)).astype(np.float32)
    return dense.astype(np.asarray(scale).dtype)


def lut_to_dense_ios16(lut: np.ndarray, indices: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """iOS16 constexpr_lut_to_dense: a 1-D palette of 2^nbits entries, uint8-packed indices."""
    shape = tuple(int(v) for v in np.asarray(shape).reshape(-1))
    nbits = int(round(np.log2(lut.size)))
    if 1 << nbits != lut.size or lut.ndim != 1:
        raise ValueError(f"constexpr_lut_to_dense: palette of {lut.size} entries is not a power of two")
    flat = unpack_bits(indices, nbits, int(np.prod(shape, dtype=np.int64)))
    return lut[flat].reshape(shape)


def lut_to_dense_ios18(indices: np.ndarray, lut: np.ndarray, vector_axis=None) -> np.ndarray:
    """iOS18 constexpr_lut_to_dense: lut [..block counts per indices axis.., 2^nbits, vector size].

    Each block of indices has its own palette; with vector size V > 1 every index selects V
    consecutive values along `vector_axis`.
    """
    rank = indices.ndim
    if lut.ndim != rank + 2:
        raise ValueError(f"constexpr_lut_to_dense: lut rank {lut.ndim} does not match indices rank {rank}")
    block = [indices.shape[i] // lut.shape[i] for i in range(rank)]
    grid = np.ix_(*[np.arange(indices.shape[i]) // block[i] for i in range(rank)])
    picked = lut[(*grid, indices.astype(np.int64))]  # indices.shape + [V]
    vector = lut.shape[-1]
    if vector == 1:
        return picked[..., 0]
    axis = int(_scalar(vector_axis)) % rank
    shape = list(indices.shape)
    shape[axis] *= vector
    return np.moveaxis(picked, -1, axis + 1).reshape(shape)


def blockwise_shift_scale(data: np.ndarray, scale: np.ndarray, offset=None) -> np.ndarray:
    """iOS18 constexpr_blockwise_shift_scale: (data − offset)·scale, per-block scale and offset,
    computed in the scale's dtype as the op definition does."""
    def expand(param: np.ndarray) -> np.ndarray:
        for axis in range(data.ndim):
            if param.shape[axis] != data.shape[axis]:
                param = np.repeat(param, data.shape[axis] // param.shape[axis], axis=axis)
        return param

    scale = np.asarray(scale)
    dense = data.astype(scale.dtype)
    if offset is not None:
        dense = dense - expand(np.asarray(offset))
    return expand(scale) * dense


def evaluate(op_type: str, args: dict) -> np.ndarray:
    """The dense value of one constexpr op, from its (constant) arguments by name."""
    if op_type == "constexpr_affine_dequantize":
        return affine_dequantize(args["quantized_data"], args["zero_point"], args["scale"], int(args["axis"]))
    if op_type == "constexpr_lut_to_dense":
        if "shape" in args:
            return lut_to_dense_ios16(args["lut"], args["indices"], args["shape"])
        return lut_to_dense_ios18(args["indices"], args["lut"], args.get("vector_axis"))
    if op_type == "constexpr_blockwise_shift_scale":
        return blockwise_shift_scale(args["data"], args["scale"], args.get("offset"))
    if op_type == "constexpr_cast":
        return np.asarray(args["source_val"]).astype(np.float32)
    raise ValueError(f"unsupported MIL op '{op_type}'")


CONSTEXPR_OPS = ("constexpr_affine_dequantize", "constexpr_lut_to_dense", "constexpr_blockwise_shift_scale", "constexpr_cast")
