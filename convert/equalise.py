"""Activation-range equalisation before int8: rescale the channels of every Conv → Relu [→ DepthToSpace]
→ depthwise Conv pair, and of every Conv → Relu → dense 1×1 Conv pair, so that one activation range per
tensor fits all of its channels.

Why: int8-full TFLite and QDQ ONNX give each activation tensor one scale. In the seed-1 `full` student
one channel of the last upsampling block's ReLU output reached 33.9 while the channel the next depthwise
convolution weighs most reached 3.4 — about 25 of its 256 levels — and all three skull int8 files missed
parity (31.1–31.5 dB < 32). Scaling output channel c of the first convolution (weights and bias) by
k_c = R / r_c (r_c: the channel's maximum on the calibration data, R: the tensor's) and the depthwise
weights of that channel by 1 / k_c computes the same function in float — ReLU and DepthToSpace commute
with positive per-channel scales — while every channel spans the whole range; per-channel weight
quantisation keeps both rescaled weight sets as precise as before. After Nagel et al., "Data-Free
Quantization Through Weight Equalization and Bias Correction" (ICCV 2019), which equalises weight
ranges; here the activation ranges, since they are what a single scale per tensor quantises.
Measured on that student (docs/bundle.md, "Activation-range equalisation"): skulls 31.1 → 37.3 dB,
flowers 37.1 → 38.9 dB, every int8 file of every theme higher.

A dense 1×1 consumer (the pointwise half of a depthwise-separable block) takes 1 / k_c on its input column
c instead. Its weights are quantised per *output* channel, so a shrunk column loses precision that a
depthwise channel would not; there k_c = sqrt(R / r_c) splits the difference between the activation and
the weights (Nagel et al.'s balance). Why: in a later `full` student one channel of a depthwise → ReLU
output reached 82.6 against ≤ 23 for the other 31, and the galaxies int8 files fell to 31.4–31.7 dB; QDQ
with these pairs equalised at k = sqrt(R / r): 31.8 → 41.3 dB (k = R / r: 35.1), and +1.3 to +2.5 dB on
every other patch model measured (docs/bundle.md).

The cost: a channel the calibration data leave at half range no longer has the other half as headroom, so
an input the calibration data do not cover clips sooner (one seed-1 skull channel: 5.1 calibrated, 10.3 on
bright held-out patches, 20.6 once equalised); the calibration data therefore span both ends of the pixel
range (convert/calibration.py, with_negatives).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

from convert.calibration import full_batches
from ygan_mobile.errors import YganError

FLOOR = 0.01  # k never exceeds 1 / FLOOR (sqrt of it for a dense consumer): a channel (nearly) silent on the
# calibration data is not blown up without bound
MAX_ERROR = 1e-4  # largest |equalised − original| output allowed, relative to the output's range


@dataclass(frozen=True)
class Pair:
    """A Conv whose only consumer is a Relu feeding (through an optional DepthToSpace) a depthwise Conv, or
    feeding a dense 1×1 Conv directly (`dense`)."""
    first: onnx.NodeProto
    relu: onnx.NodeProto
    second: onnx.NodeProto
    block: int  # DepthToSpace block size, 1 without one
    mode: str  # DepthToSpace mode ("DCR" or "CRD"); irrelevant when block = 1
    dense: bool = False  # `second` is a dense 1×1 Conv: its input column c takes 1 / k_c


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def find_pairs(model: onnx.ModelProto) -> list[Pair]:
    init = {i.name: i for i in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    outputs = {o.name for o in model.graph.output}
    pairs = []
    for relu in (n for n in model.graph.node if n.op_type == "Relu"):
        first = producer.get(relu.input[0])
        if first is None or first.op_type != "Conv" or len(consumers[first.output[0]]) != 1 or first.input[1] not in init:
            continue
        nxt, block, mode = consumers.get(relu.output[0], []), 1, "DCR"
        if len(nxt) == 1 and nxt[0].op_type == "DepthToSpace" and nxt[0].output[0] not in outputs:
            attrs = _attrs(nxt[0])
            block, mode = attrs["blocksize"], attrs.get("mode", b"DCR")
            mode = mode.decode() if isinstance(mode, bytes) else mode
            nxt = consumers.get(nxt[0].output[0], [])
        if relu.output[0] in outputs or len(nxt) != 1 or nxt[0].op_type != "Conv" or nxt[0].input[1] not in init:
            continue
        dims = init[nxt[0].input[1]].dims
        group = _attrs(nxt[0]).get("group", 1)
        if group == dims[0] and dims[1] == 1:  # depthwise, multiplier 1
            pairs.append(Pair(first, relu, nxt[0], block, mode))
        elif group == 1 and block == 1 and list(dims[2:]) == [1, 1]:  # dense 1×1: the only dense kind measured
            pairs.append(Pair(first, relu, nxt[0], block, mode, dense=True))
    return pairs


def _run(model: onnx.ModelProto, names: list[str], input_name: str, data: np.ndarray, batch: int) -> list[np.ndarray]:
    """Each named tensor (intermediate or output) over all of `data`, run in full batches of `batch`."""
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    known = {o.name for o in probe.graph.output}
    for name in names:
        if name not in known:
            probe.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    runs = [session.run(names, {input_name: chunk}) for chunk in full_batches(data, batch)]
    return [np.concatenate([r[k] for r in runs])[:len(data)] for k in range(len(names))]


def equalise(model: onnx.ModelProto, input_name: str, data: np.ndarray, batch: int, label: str) -> tuple[onnx.ModelProto, int]:
    """An equalised copy of `model` (the same function in float) and how many pairs it rescaled.
    `data`: calibration inputs in the graph's own layout; `batch`: the graph's batch (fixed or not)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    pairs = find_pairs(out)
    if not pairs:
        return out, 0
    output = out.graph.output[0].name
    found = _run(out, [p.relu.output[0] for p in pairs] + [output], input_name, data, batch)
    init = {i.name: i for i in out.graph.initializer}

    def scale(name: str, factor: np.ndarray, axis: int = 0) -> None:
        array = numpy_helper.to_array(init[name])
        shape = [1] * array.ndim
        shape[axis] = -1
        init[name].CopyFrom(numpy_helper.from_array((array * factor.reshape(shape)).astype(array.dtype), name))

    for pair, acts in zip(pairs, found):
        channels = init[pair.second.input[1]].dims[1 if pair.dense else 0]
        peak = acts.max(axis=tuple(i for i in range(acts.ndim) if i != 1))
        # the first conv's channel j becomes channel j % C (DCR) or j // block² (CRD) after DepthToSpace
        grouped = peak.reshape(pair.block ** 2, channels).max(0) if pair.mode == "DCR" else peak.reshape(channels, -1).max(1)
        top = grouped.max()
        if top <= 0:
            continue
        k = top / np.maximum(grouped, FLOOR * top)
        if pair.dense:
            k = np.sqrt(k)
        per_first = np.tile(k, pair.block ** 2) if pair.mode == "DCR" else np.repeat(k, pair.block ** 2)
        scale(pair.first.input[1], per_first)
        if len(pair.first.input) > 2 and pair.first.input[2]:
            scale(pair.first.input[2], per_first)
        scale(pair.second.input[1], 1.0 / k, axis=1 if pair.dense else 0)
    before = found[-1]
    after = _run(out, [output], input_name, data, batch)[0]
    error = float(np.abs(after - before).max() / max(float(np.ptp(before)), 1e-12))
    if error > MAX_ERROR:
        raise YganError(f"equalising {label} for int8 changed its float output by {error:.1e} of its range "
                        f"(> {MAX_ERROR:.0e}): a rescaled pair is not what find_pairs assumed")
    return out, len(pairs)
