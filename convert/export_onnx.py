"""Export one network to ONNX at a fixed batch: BatchNorm folded, checked, simplified.

Why a fixed batch: onnx2tf fails on a dynamic batch feeding ConvTranspose (DESIGN §3), and a phone
runs a fixed-size tensor anyway, so the batch B is part of the artifact and recorded in the manifest.
Why the torch.export-based exporter: the TorchScript one is deprecated since torch 2.9.
Why `lean`: a student is exported in the form whose int8 TFLite graph XNNPACK runs whole
(convert/lean.py); its function is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import onnx
import torch
from torch import nn

from convert.fold import fold_batchnorm
from convert.lean import dcr_depth_to_space, lean
from convert.quiet import quiet
from ygan_mobile.errors import YganError

OPSET = 18


@dataclass(frozen=True)
class OnnxExport:
    path: Path
    opset: int
    input_name: str
    output_name: str


def export(module: nn.Module, example: torch.Tensor, path: Path, label: str,
           input_name: str, output_name: str, opset: int = OPSET) -> OnnxExport:
    """Write `module` (folded, eval mode) as ONNX; raise YganError naming the op if export fails."""
    folded = lean(fold_batchnorm(module))  # the student's XNNPACK-friendly export form, same math
    try:
        with quiet():
            program = torch.onnx.export(folded, (example,), dynamo=True, opset_version=opset, verbose=False,
                                        input_names=[input_name], output_names=[output_name], optimize=True)
        model = program.model_proto
    except Exception as exc:  # the exporter raises many types; the user needs the op it choked on
        raise YganError(f"ONNX export of {label} failed: {_first_line(exc)} — use only the ops of DESIGN §3") from None
    model = dcr_depth_to_space(simplify(model, label))
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path))
    return OnnxExport(path, opset_of(model), input_name, output_name)


def simplify(model: onnx.ModelProto, label: str) -> onnx.ModelProto:
    """onnx.checker before and after onnxsim, so a simplifier bug can't slip a broken graph through."""
    import onnxsim

    try:
        onnx.checker.check_model(model, full_check=True)
        simplified, ok = onnxsim.simplify(model)
    except Exception as exc:
        raise YganError(f"ONNX graph of {label} is invalid: {_first_line(exc)}") from None
    if not ok:
        raise YganError(f"onnxsim could not validate the simplified graph of {label}: re-run with a supported model")
    onnx.checker.check_model(simplified, full_check=True)
    return simplified


def opset_of(model: onnx.ModelProto) -> int:
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
