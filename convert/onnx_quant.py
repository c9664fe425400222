"""int8 ONNX patch models: onnxruntime's static QDQ quantisation, for the web page's onnxruntime-web.

Why QDQ with float I/O: the page feeds the same float32 patches to every ONNX artifact, and
onnxruntime fuses the QuantizeLinear/DequantizeLinear pairs around each Conv into integer kernels, so
the model computes in int8 while the pipeline around it stays the float one. Calibration uses the
train patches that calibrate the TFLite int8-full models (convert/calibration.py), in full chunks
of the artifact's fixed batch (cycled, so no zero padding skews the activation ranges).

Weights are uint8 (U8U8), not onnxruntime's default int8 (U8S8): on x86 CPUs without VNNI (AVX2 only,
as an x86_64 Android emulator or a CI runner may be) onnxruntime runs U8S8 with VPMADDUBSW, whose
16-bit sums of two u8·s8 products saturate: on an AVX2-only AMD EPYC the `full` build's QDQ golden
frames fell to 25.5–30.8 dB against 32, and a test graph's 7.17 came out 3.67. Its U8U8 kernels give
the unfused graph's result bit for bit there (tests/convert/test_convert_onnx_quant.py); onnxruntime's
quantisation docs name the saturation and U8U8 or reduce_range as the remedies, and reduce_range
would give up a bit of every weight on every CPU.

A restoration model's skip (`Clip(Add(x, correction))`, docs/restore.md) stays float and reads the
float input itself: quantised, the input x = u8/127.5 − 1 falls half-way between two uint8 codes of
scale 2/255 and QuantizeLinear's ties merge neighbouring pixel values, and the output code lies on
the boundary between two pixels, so a zero correction changed about half of the pixels by one
level. Float, the sum gives back every pixel a zero correction leaves alone; the correction itself
is still computed in int8.
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
    """Write the QDQ int8 model of the fp32 `onnx_path` to `out`: per-channel uint8 weights, uint8
    activations, MinMax calibration."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    out.parent.mkdir(parents=True, exist_ok=True)
    skip = skip_nodes(onnx.load(str(onnx_path), load_external_data=False))
    try:
        with quiet():
            quantize_static(str(onnx_path), str(out), _Patches(input_name, patches, batch), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QUInt8, per_channel=True,
                            calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=[n.name for n in skip])
    except Exception as exc:
        raise YganError(f"onnxruntime could not quantise {label} to int8 QDQ: {str(exc).splitlines()[0][:200]}") from None
    if skip:
        model = onnx.load(str(out))
        add = next(n for n in model.graph.node if n.name == skip[0].name)
        add.input[list(skip[0].input).index(input_name)] = input_name  # the float input, not its dequantised copy
        onnx.save(model, str(out))
    return out


def skip_nodes(model) -> list:
    """The skip's [Add, Clip] when the graph ends in Clip(Add(input, …)), else []."""
    graph = model.graph
    (source,), (sink,) = [i.name for i in graph.input], [o.name for o in graph.output]
    clip = next((n for n in graph.node if sink in n.output), None)
    if clip is None or clip.op_type != "Clip":
        return []
    add = next((n for n in graph.node if clip.input[0] in n.output), None)
    return [add, clip] if add is not None and add.op_type == "Add" and source in add.input else []
