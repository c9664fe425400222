"""int8 ONNX patch models: onnxruntime's static QDQ quantisation, for the web page's onnxruntime-web.

Why QDQ with float I/O: the page feeds the same float32 patches to every ONNX artifact, and
onnxruntime fuses the QuantizeLinear/DequantizeLinear pairs around each Conv into integer kernels, so
the model computes in int8 while the pipeline around it stays the float one. Calibration uses the
train patches that calibrate the TFLite int8-full models (convert/calibration.py), in full chunks
of the artifact's fixed batch (cycled, so no zero padding skews the activation ranges).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convert.calibration import full_batches
from convert.quiet import quiet
from ygan_mobile.errors import YganError

PRECISION = "int8-qdq"


class _Patches:
    """onnxruntime's CalibrationDataReader protocol over fixed-batch chunks of the calibration patches."""

    def __init__(self, name: str, patches: np.ndarray, batch: int):
        self._feeds = iter([{name: chunk} for chunk in full_batches(patches, batch)])

    def get_next(self) -> dict | None:
        return next(self._feeds, None)


def quantize(onnx_path: Path, out: Path, input_name: str, patches: np.ndarray, batch: int, label: str) -> Path:
    """Write the QDQ int8 model of the fp32 `onnx_path` to `out`: per-channel int8 weights, uint8
    activations (onnxruntime's defaults for QDQ), MinMax calibration."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with quiet():
            quantize_static(str(onnx_path), str(out), _Patches(input_name, patches, batch), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                            calibrate_method=CalibrationMethod.MinMax)
    except Exception as exc:
        raise YganError(f"onnxruntime could not quantise {label} to int8 QDQ: {str(exc).splitlines()[0][:200]}") from None
    return out
