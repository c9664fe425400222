"""The manifest entry of one artifact: identity, layout, I/O tensors, hash, size and cost.

Why read the I/O back from the written file: TFLite names and int8 scale/zero point are chosen by
the converter, so the manifest reports what the interpreter sees, not what we asked for.
"""

from __future__ import annotations

from pathlib import Path

import onnx

from convert import pixel_io, tflite, tflite_io
from convert.plan import LAYOUT, Job
from convert.manifest import file_entry


def _tensor(name: str, shape: list[int], dtype: str, scale=None, zero_point=None) -> dict:
    entry = {"name": name, "shape": [int(s) for s in shape], "dtype": dtype}
    if scale is not None:
        entry.update(scale=float(scale), zero_point=int(zero_point))
    return entry


def _canonical_io(job: Job, output_shape: list[int]) -> tuple[list[dict], list[dict]]:
    return ([_tensor(job.input_name, list(job.example.shape), "float32")],
            [_tensor(job.output_name, output_shape, "float32")])


def _onnx_io(path: Path) -> tuple[list[dict], list[dict]]:
    model = onnx.load(str(path), load_external_data=False)

    def tensors(values) -> list[dict]:
        return [_tensor(v.name, [d.dim_value for d in v.type.tensor_type.shape.dim],
                        onnx.helper.tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type).name) for v in values]
    return tensors(model.graph.input), tensors(model.graph.output)


def _tflite_io(path: Path) -> tuple[list[dict], list[dict]]:
    inputs, outputs = tflite.io_details(path)
    return ([_tensor(t.name, t.shape, t.dtype, t.scale, t.zero_point) for t in inputs],
            [_tensor(t.name, t.shape, t.dtype, t.scale, t.zero_point) for t in outputs])


def describe(bundle: Path, fmt: str, precision: str, job: Job, path: Path, *, output_shape: list[int],
             macs: int, params: int, opset: int | None) -> dict:
    rel = path.relative_to(bundle).as_posix()
    if fmt == "onnx":
        inputs, outputs = _onnx_io(path)
    elif fmt == "tflite":
        inputs, outputs = _tflite_io(path)
    else:
        inputs, outputs = _canonical_io(job, output_shape)
    entry = {
        "id": rel.rsplit(".", 1)[0], "path": rel, "format": fmt, "role": job.role, "theme": job.theme,
        "precision": precision, "layout": LAYOUT[fmt], "batch": int(job.example.shape[0]),
        "inputs": inputs, "outputs": outputs, **{k: v for k, v in file_entry(bundle, rel).items() if k != "path"},
        "macs": int(macs), "params": int(params), "golden_key": job.key,
    }
    if opset is not None:
        entry["opset"] = opset
    if fmt == "tflite":
        entry["signature"] = tflite_io.SIGNATURE
        pixel_io.mark(entry, fmt, precision, job.role, job.input_name)
    return entry
