"""Refuse, before any slow conversion, a graph holding an op a requested target can't take.

Why allow-lists rather than try-and-see: onnx2tf and coremltools often convert an unsupported op into
something that runs but computes the wrong thing (or fails deep inside with a traceback), so the
check is on the exported ONNX graph's op types against what the project's models use and what each
target is known to convert faithfully. The lists are deliberately narrow: adding an op is a decision
to be backed by a parity test, not a default.
"""

from __future__ import annotations

import onnx

from ygan_mobile.errors import YganError

# Ops of the teacher (Conv/ConvTranspose/Gemm/LeakyRelu/Relu/Tanh) and the student (depthwise Conv,
# nearest Resize, and DepthToSpace in its export form, convert/lean.py), plus the shape plumbing the exporter emits around them and the activations
# DESIGN §3 names (ReLU6 exports as Clip).
_CORE = frozenset({
    "Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div",
    "Relu", "LeakyRelu", "Clip", "Tanh", "Sigmoid",
    "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Identity", "Constant",
    "Resize", "Upsample", "DepthToSpace", "Pad", "MaxPool", "AveragePool", "BatchNormalization",
})

# Normalisations that run in float but break integer quantisation: onnx2tf fails on int16
# activations with InstanceNorm and full-int8 loses ~3 dB (DESIGN §3), so int8 TFLite refuses them.
_FLOAT_ONLY = frozenset({"InstanceNormalization", "LayerNormalization"})

SUPPORTED: dict[str, frozenset[str]] = {
    "tflite": _CORE | _FLOAT_ONLY,
    "tflite-int8": _CORE,
    "coreml": _CORE | _FLOAT_ONLY,
}

INT8_TFLITE = ("int8-dynamic", "int8-full")


def op_types(model: onnx.ModelProto) -> list[str]:
    """Op types of the graph (and any subgraphs), custom domains spelled `domain::Op`."""
    found: list[str] = []

    def walk(graph: onnx.GraphProto) -> None:
        for node in graph.node:
            name = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}"
            if name not in found:
                found.append(name)
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    walk(attr.g)
    walk(model.graph)
    return found


def targets_for(formats: list[str], tflite_precisions: list[str]) -> list[str]:
    """The allow-list keys a conversion request needs, in a stable order."""
    keys = [f for f in ("onnx", "tflite", "coreml") if f in formats]
    if "tflite" in formats and any(p in INT8_TFLITE for p in tflite_precisions):
        keys.insert(keys.index("tflite") + 1, "tflite-int8")
    return keys


def _supported(op: str, target: str) -> bool:
    """onnxruntime runs every standard op, so the onnx target refuses only custom domains."""
    if target == "onnx":
        return "::" not in op and onnx.defs.has(op)
    return op in SUPPORTED[target]


def check(model: onnx.ModelProto, label: str, targets: list[str]) -> None:
    """Raise one YganError line naming the first unsupported op and the target that lacks it."""
    ops = op_types(model)
    for target in targets:
        bad = [op for op in ops if not _supported(op, target)]
        if bad:
            where = "tflite int8 (int8-dynamic/int8-full)" if target == "tflite-int8" else target
            raise YganError(
                f"{label} uses op {bad[0]} which target {where} does not support"
                f"{' (also ' + ', '.join(bad[1:]) + ')' if bad[1:] else ''}: replace it with a DESIGN §3 op or drop that target/precision"
            )
