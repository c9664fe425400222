"""2-D convolution and transposed convolution in numpy, vectorised (no Python loop over pixels).

conv: sliding_window_view over the padded input, one batched matmul per call (groups are the batch).
conv_transpose: one tensordot gives every input pixel's contribution for every kernel tap; the taps
are then added into the strided output grid, one slice per tap (kH·kW slices).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pairs(value, default: int) -> tuple[int, int]:
    if value is None:
        return default, default
    flat = np.asarray(value).reshape(-1).tolist()
    return (int(flat[0]), int(flat[-1]))


def _same_pads(size: int, kernel: int, stride: int, dilation: int, lower: bool) -> tuple[int, int]:
    """Core ML "same": output = ceil(size / stride); an odd total pad puts the extra row at the end (start for same_lower)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    small = total // 2
    return (total - small, small) if lower else (small, total - small)


def conv_pads(pad_type: str, pad, spatial: tuple[int, int], kernel: tuple[int, int], strides, dilations) -> list[tuple[int, int]]:
    """[(top, bottom), (left, right)] for a conv's pad_type."""
    if pad_type == "valid":
        return [(0, 0), (0, 0)]
    if pad_type == "custom":
        p = [int(v) for v in np.asarray(pad).reshape(-1)] if pad is not None else [0, 0, 0, 0]
        return [(p[0], p[1]), (p[2], p[3])]
    if pad_type in ("same", "same_lower"):
        return [_same_pads(spatial[i], kernel[i], strides[i], dilations[i], pad_type == "same_lower") for i in range(2)]
    raise ValueError(f"conv pad_type {pad_type!r} is not supported")


def conv2d(x: np.ndarray, weight: np.ndarray, bias, strides, pad_type: str, pad, dilations, groups: int) -> np.ndarray:
    """MIL conv: x [N, C, H, W], weight [Cout, C/groups, kH, kW] → [N, Cout, Ho, Wo]."""
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"conv: only 2-D convolution is supported (input rank {x.ndim})")
    n, c, h, w = x.shape
    cout, cg, kh, kw = weight.shape
    groups = int(groups)
    if cg * groups != c or cout % groups:
        raise ValueError(f"conv: weight {weight.shape} does not fit input {x.shape} with groups={groups}")
    strides, dilations = _pairs(strides, 1), _pairs(dilations, 1)
    pads = conv_pads(pad_type, pad, (h, w), (kh, kw), strides, dilations)
    xp = np.pad(x, [(0, 0), (0, 0), *pads]) if any(sum(p) for p in pads) else x
    span = ((kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1)
    win = sliding_window_view(xp, span, axis=(2, 3))  # [N, C, Ho', Wo', spanH, spanW]
    win = win[:, :, :: strides[0], :: strides[1], :: dilations[0], :: dilations[1]]
    ho, wo = win.shape[2], win.shape[3]
    # [G, N·Ho·Wo, Cg·kH·kW] @ [G, Cg·kH·kW, Cout/G] → [G, N·Ho·Wo, Cout/G]
    cols = win.reshape(n, groups, cg, ho, wo, kh, kw).transpose(1, 0, 3, 4, 2, 5, 6).reshape(groups, n * ho * wo, cg * kh * kw)
    kernel = weight.reshape(groups, cout // groups, cg * kh * kw).transpose(0, 2, 1)
    out = np.matmul(cols, kernel.astype(np.float32, copy=False))
    out = out.reshape(groups, n, ho, wo, cout // groups).transpose(1, 0, 4, 2, 3).reshape(n, cout, ho, wo)
    if bias is not None:
        out = out + np.asarray(bias, np.float32).reshape(1, cout, 1, 1)
    return np.ascontiguousarray(out, np.float32)


def conv_transpose2d(x: np.ndarray, weight: np.ndarray, bias, strides, pad_type: str, pad, dilations, groups: int,
                     output_shape=None) -> np.ndarray:
    """MIL conv_transpose: x [N, Cin, H, W], weight [Cin, Cout/groups, kH, kW] → [N, Cout, Ho, Wo]."""
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"conv_transpose: only 2-D is supported (input rank {x.ndim})")
    n, cin, h, w = x.shape
    _, coutg, kh, kw = weight.shape
    groups = int(groups)
    if weight.shape[0] != cin or cin % groups:
        raise ValueError(f"conv_transpose: weight {weight.shape} does not fit input {x.shape} with groups={groups}")
    cing, cout = cin // groups, coutg * groups
    (sh, sw), (dh, dw) = _pairs(strides, 1), _pairs(dilations, 1)
    full_h, full_w = (h - 1) * sh + (kh - 1) * dh + 1, (w - 1) * sw + (kw - 1) * dw + 1
    if pad_type == "custom":
        p = [int(v) for v in np.asarray(pad).reshape(-1)] if pad is not None else [0, 0, 0, 0]
        (top, bottom), (left, right) = (p[0], p[1]), (p[2], p[3])
    elif pad_type == "valid":
        top = bottom = left = right = 0
    elif pad_type in ("same", "same_lower"):
        # the output is size·stride; the surplus of the full output is cropped, extra row at the end ("same").
        th, tw = max(full_h - h * sh, 0), max(full_w - w * sw, 0)
        lower = pad_type == "same_lower"
        top, left = (th - th // 2, tw - tw // 2) if lower else (th // 2, tw // 2)
        bottom, right = th - top, tw - left
    else:
        raise ValueError(f"conv_transpose pad_type {pad_type!r} is not supported")
    out_h, out_w = full_h - top - bottom, full_w - left - right
    if output_shape is not None:
        out_h, out_w = (int(v) for v in np.asarray(output_shape).reshape(-1)[-2:])

    # contributions [G, N, H, W, Cout/G, kH, kW]
    xg = x.reshape(n, groups, cing, h, w).transpose(1, 0, 3, 4, 2)
    wg = weight.astype(np.float32, copy=False).reshape(groups, cing, coutg * kh * kw)
    contrib = np.matmul(xg.reshape(groups, n * h * w, cing), wg).reshape(groups, n, h, w, coutg, kh, kw)
    full = np.zeros((n, groups, coutg, max(full_h, top + out_h), max(full_w, left + out_w)), np.float32)
    for i in range(kh):
        for j in range(kw):
            tap = contrib[..., i, j].transpose(1, 0, 4, 2, 3)  # [N, G, Cout/G, H, W]
            full[:, :, :, i * dh: i * dh + (h - 1) * sh + 1: sh, j * dw: j * dw + (w - 1) * sw + 1: sw] += tap
    out = full[:, :, :, top: top + out_h, left: left + out_w].reshape(n, cout, out_h, out_w)
    if bias is not None:
        out = out + np.asarray(bias, np.float32).reshape(1, cout, 1, 1)
    return np.ascontiguousarray(out, np.float32)
