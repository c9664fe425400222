"""Core ML ML programs (iOS 16+) from the folded torch module: fp32, fp16 and compressed variants.

Why from torch and not ONNX: coremltools dropped its ONNX frontend; tracing the same folded module
the ONNX export used keeps both artifacts on identical weights. Inputs and outputs are declared
float32 even for fp16 compute, so apps feed one tensor type whatever the precision. Compressed
variants start from the fp16 program, which is what the Neural Engine runs. On Linux nothing here
calls `predict` (macOS only); packages are saved unloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from convert.fold import fold_batchnorm
from convert.model_card import ModelCard, stamp_coreml
from convert.quiet import quiet
from ygan_mobile.errors import YganError

PRECISIONS = ("fp32", "fp16", "int8-weights", "palettized-6bit", "palettized-4bit")
PALETTE_WEIGHT_THRESHOLD = 2048  # weights with at most this many elements stay fp16 (coremltools' default)


def _base(module: nn.Module, example: torch.Tensor, input_name: str, output_name: str, fp16: bool):
    import coremltools as ct

    traced = torch.jit.trace(fold_batchnorm(module), example)
    return ct.convert(
        traced, convert_to="mlprogram", minimum_deployment_target=ct.target.iOS16,
        inputs=[ct.TensorType(name=input_name, shape=tuple(example.shape), dtype=np.float32)],
        outputs=[ct.TensorType(name=output_name, dtype=np.float32)],
        compute_precision=ct.precision.FLOAT16 if fp16 else ct.precision.FLOAT32,
        compute_units=ct.ComputeUnit.CPU_ONLY, skip_model_load=True,
    )


def _compress(mlmodel, precision: str):
    from coremltools.optimize import coreml as cto

    if precision == "int8-weights":
        config = cto.OptimizationConfig(global_config=cto.OpLinearQuantizerConfig(mode="linear_symmetric", dtype="int8", granularity="per_channel"))
        return cto.linear_quantize_weights(mlmodel, config)
    bits = int(precision.removeprefix("palettized-").removesuffix("bit"))
    config = cto.OptimizationConfig(global_config=cto.OpPalettizerConfig(mode="kmeans", nbits=bits, weight_threshold=PALETTE_WEIGHT_THRESHOLD))
    return cto.palettize_weights(mlmodel, config)


def convert(module: nn.Module, example: torch.Tensor, out_dir: Path, stem: str, precisions: list[str],
            input_name: str, output_name: str, label: str,
            card: Callable[[str], ModelCard] | None = None) -> dict[str, Path]:
    """Write `<stem>.<precision>.mlpackage` for each requested precision; return precision → path.
    `card(precision)` is the metadata stamped on each package before it is saved (model_card.py)."""
    wanted = [p for p in precisions if p in PRECISIONS]
    made: dict[str, Path] = {}
    if not wanted:
        return made
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with quiet():
            fp16 = None
            for precision in wanted:
                if precision == "fp32":
                    model = _base(module, example, input_name, output_name, fp16=False)
                else:
                    fp16 = fp16 or _base(module, example, input_name, output_name, fp16=True)
                    model = fp16 if precision == "fp16" else _compress(fp16, precision)
                if card is not None:
                    stamp_coreml(model, card(precision))
                path = out_dir / f"{stem}.{precision}.mlpackage"
                model.save(str(path))
                made[precision] = path
    except YganError:
        raise
    except Exception as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise YganError(f"coremltools could not convert {label}: {text[:300]}") from None
    return made
