"""Pixel bytes in and out of a full-integer TFLite file exactly: scale 2/255, zero point 0.

Why: the pipeline's pixel is x = u8/127.5 − 1 = (u8 − 127.5)·2/255, so on the int8 grid the
converter calibrates (scale 2/255, an integer zero point) every pixel value falls half-way between
two codes. Quantising rounds those ties and merges neighbouring pixel values, and every output code
dequantises to a half level, so a perfect identity changed 53 % of a photograph's pixels by one
level — a residual restoration model (`x + G(E(x))`) lost 0.5 dB to its I/O alone. With the image
input and output at scale 2/255 and zero point 0, the input quantised rounding down
(q = u8 − 128, the byte read as signed: the real value x − 1/255) and the output code read at the
centre of its level (u8 = q + 128), marked `"pixel_bytes": true` in the manifest, the skip of a
residual model carries every pixel through unchanged: the −½ level of the input and the +½ of the
output cancel (docs/pipeline.md, "Integer artifacts").

Setting a tensor's quantisation in the file is almost all it takes: every int8 kernel derives its
multipliers from its tensors' scales when the interpreter prepares it; only the int32 biases of the
convolutions reading the input are stored on the input's scale, and are rescaled with it. Ops that
copy bytes (PAD, RESHAPE, DEPTH_TO_SPACE, …) need the same quantisation on both sides, so the new
one follows them from the input forwards and from the output backwards. The output's int8 range,
[−128, 127] = u8 0…255, is the pipeline's own clip, so a clamp to [−1, 1] fused into the op that
makes it is dropped (it would lift the lowest input code, −1 − 1/255, to the next one). An output
made by an op with a fixed output quantisation (TANH: 1/128) is left as the converter wrote it; the
manifest records what the file has. An op reading the input that none of this covers is refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reference_runtime.backends import PIXEL_BYTES

PIXEL_SCALE = float(np.float32(2 / 255))
PIXEL_ZERO_POINT = 0
IMAGE_INPUT = "x"  # the I/O name of a pixel patch (convert.plan.jobs)
PATCH_MODEL = "patch_model"

# ops whose int8 kernels copy values, so input and output share one quantisation
_PASS_THROUGH = {"PAD", "RESHAPE", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH", "TRANSPOSE", "SQUEEZE", "EXPAND_DIMS",
                 "STRIDED_SLICE", "SLICE"}
# ops whose int8 kernels read any input scale (their multipliers come from it at prepare time)
_RESCALING = {"ADD", "SUB", "MUL", "QUANTIZE", "DEQUANTIZE"}
# ops with an int32 bias stored on the scale input·weight, their data input first
_BIASED = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}
# ops whose int8 kernels requantise to any output scale
_REQUANTISING = {"ADD", "SUB", "MUL", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "QUANTIZE"}


def applies(fmt: str, precision: str, role: str, input_name: str) -> tuple[bool, bool]:
    """(input, output): which of an artifact's tensors take the pixel quantisation — the image input of
    every full-integer TFLite file, and the output of its patch models."""
    integer = fmt == "tflite" and precision == "int8-full" and input_name == IMAGE_INPUT
    return integer, integer and role == PATCH_MODEL


def mark(entry: dict, fmt: str, precision: str, role: str, input_name: str) -> None:
    """Add `"pixel_bytes": true` to the manifest entry's image tensors that have the pixel quantisation
    (read back from the written file, so an output the file could not give it stays unmarked)."""
    takes_input, takes_output = applies(fmt, precision, role, input_name)
    for tensor, takes in ((entry["inputs"][0], takes_input), (entry["outputs"][0], takes_output)):
        if takes and tensor["dtype"] == "int8" and (tensor["scale"], tensor["zero_point"]) == (PIXEL_SCALE, PIXEL_ZERO_POINT):
            tensor[PIXEL_BYTES] = True


def set_pixel_io(path: Path, *, output: bool) -> bool:
    """Give the file's image input (and, with `output`, its output when the op that computes it can
    requantise) scale 2/255 and zero point 0, in place. True when the output took it too."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    from convert.model_card import TFLITE_IDENTIFIER
    from ygan_mobile.atomic import write_bytes

    model = schema.ModelT.InitFromPackedBuf(bytearray(Path(path).read_bytes()), 0)
    graph = model.subgraphs[0]
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    ops = [(names.get(max(model.operatorCodes[op.opcodeIndex].builtinCode,
                          model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode)), op) for op in graph.operators]
    (source,), (sink,) = list(graph.inputs), list(graph.outputs)
    for index in (source, sink):
        if graph.tensors[index].type != schema.TensorType.INT8:
            raise ValueError(f"{path}: tensor {graph.tensors[index].name!r} is not int8, so not a full-integer file")
    ahead = _tied(ops, source, forwards=True)
    behind = _tied(ops, sink, forwards=False)
    kind, maker = _maker(ops, behind)
    takes_output = output and not ahead & behind and kind in _REQUANTISING
    if takes_output and getattr(maker.builtinOptions, "fusedActivationFunction", None) == schema.ActivationFunctionType.RELU_N1_TO_1:
        # the int8 range of a pixel tensor, [−128, 127] = u8 0…255, is the pipeline's own clip; the
        # clamp to [−1, 1] would cut the input's lowest code (−128, real −1 − 1/255) to −127
        maker.builtinOptions.fusedActivationFunction = schema.ActivationFunctionType.NONE
    _rescale_biases(model, ops, ahead, float(graph.tensors[source].quantization.scale[0]), str(path))
    for index in ahead | (behind if takes_output else set()):
        quantisation = schema.QuantizationParametersT()
        quantisation.scale, quantisation.zeroPoint = [PIXEL_SCALE], [PIXEL_ZERO_POINT]
        graph.tensors[index].quantization = quantisation
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    write_bytes(Path(path), bytes(builder.Output()))
    return takes_output


def _rescale_biases(model, ops: list, ahead: set[int], scale: float, label: str) -> None:
    """Keep the int32 biases of the convolutions that read the input meaning what they meant: a bias is
    stored on the scale input·weight, so a new input scale rescales it (the converter calibrated 0.00747
    for one colourisation model, not 2/255: left alone, its first conv's bias was 5 % off and the
    int8 colours 5 % more saturated)."""
    ratio = scale / PIXEL_SCALE
    graph = model.subgraphs[0]
    for kind, op in ops:
        reads = [int(i) for i in op.inputs if int(i) in ahead]
        if not reads or kind in _PASS_THROUGH or kind in _RESCALING:
            continue
        if kind not in _BIASED or list(op.inputs).index(reads[0]) != 0:
            raise ValueError(f"{label}: {kind} reads the image input, and its int8 kernel cannot take the pixel quantisation")
        if len(op.inputs) < 3 or op.inputs[2] < 0:
            continue
        bias = graph.tensors[op.inputs[2]]
        buffer = model.buffers[bias.buffer]
        stored = np.asarray(buffer.data, dtype=np.uint8).view("<i4").astype(np.float64)
        buffer.data = np.round(stored * ratio).astype("<i4").view(np.uint8)
        bias.quantization.scale = [float(np.float32(x / ratio)) for x in bias.quantization.scale]


def _tied(ops: list, start: int, *, forwards: bool) -> set[int]:
    """`start` and every tensor that must share its quantisation: reached through copying ops."""
    tied, grew = {start}, True
    while grew:
        grew = False
        for kind, op in ops:
            src, dst = (op.inputs[0], op.outputs[0]) if forwards else (op.outputs[0], op.inputs[0])
            if kind in _PASS_THROUGH and src in tied and dst not in tied:
                tied.add(int(dst))
                grew = True
    return tied


def _maker(ops: list, tied: set[int]) -> tuple[str | None, object]:
    """The kind and op that compute the values of a tied group (the one op into it that is not a copy)."""
    return next(((kind, op) for kind, op in ops if kind not in _PASS_THROUGH and set(op.outputs) & tied), (None, None))
