"""What one convert run produces: the networks to export and the artifacts each target/precision makes.

Why a plan before any work: the op-support check, the progress bar's length and the file names are
all known up front, so a bad request fails in a second, not after minutes of conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from convert import coreml, tflite
from convert.source import Networks
from ygan_mobile.errors import YganError

FORMATS = ("onnx", "tflite", "coreml")
# onnx int8-qdq: the patch models only (what the web page runs), quantised by onnxruntime (onnx_quant.py).
PRECISIONS = {"onnx": ("fp32", "int8-qdq"), "tflite": tflite.PRECISIONS, "coreml": coreml.PRECISIONS}
# palettized-4bit is opt-in: on the quick student its compression-only estimate is 26–40 dB, below
# the 32 dB threshold for most generators, so it is only built when asked for by name.
DEFAULT_PRECISIONS = {"onnx": ("fp32", "int8-qdq"), "tflite": tflite.PRECISIONS,
                      "coreml": ("fp32", "fp16", "int8-weights", "palettized-6bit")}
LAYOUT = {"onnx": "NCHW", "tflite": "NHWC", "coreml": "NCHW"}
EXTENSION = {"onnx": "onnx", "tflite": "tflite", "coreml": "mlpackage"}


@dataclass
class Job:
    """One network to export: its role, theme, module and I/O names."""

    role: str
    theme: str | None
    module: nn.Module
    input_name: str
    output_name: str
    example: torch.Tensor = field(repr=False)

    @property
    def key(self) -> str:
        """Golden key and file stem: `encoder`, `generator.<theme>`, `patch_model.<theme>`."""
        return self.role if self.theme is None else f"{self.role}.{self.theme}"


def jobs(net: Networks, batch: int) -> list[Job]:
    x = torch.zeros(batch, 3, net.patch, net.patch)
    z = torch.zeros(batch, net.latent)
    out = [Job("encoder", None, net.encoder.eval(), "x", "z", x)]
    out += [Job("generator", t, g.eval(), "z", "y", z) for t, g in net.generators.items()]
    out += [Job("patch_model", t, net.patch_model(t), "x", "y", x) for t in net.themes]
    return out


def precisions_for(formats: list[str], requested: list[str] | None) -> dict[str, list[str]]:
    """Per format, the requested precisions it can make (all defaults when none are requested)."""
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise YganError(f"unknown target(s) {bad}: choose from {', '.join(FORMATS)}")
    known = {p for f in FORMATS for p in PRECISIONS[f]}
    unknown = [p for p in requested or [] if p not in known]
    if unknown:
        raise YganError(f"unknown precision(s) {unknown}: choose from {', '.join(sorted(known))}")
    plan = {}
    for f in formats:
        chosen = [p for p in PRECISIONS[f] if p in requested] if requested else list(DEFAULT_PRECISIONS[f])
        if f == "onnx":  # the fp32 ONNX artifact is the float reference whatever else is asked
            chosen = ["fp32", *(p for p in chosen if p != "fp32")]
        plan[f] = chosen
    empty = [f for f, p in plan.items() if not p]
    if empty:
        raise YganError(f"none of the precisions {requested} applies to target {empty[0]}: it makes {', '.join(PRECISIONS[empty[0]])}")
    return plan
