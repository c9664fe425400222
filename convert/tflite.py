"""TFLite through onnx2tf: fp32, fp16, dynamic-range int8 and full-integer int8 from one run.

Why one run per model: onnx2tf writes every precision of `-oiqt` together (float32, float16,
dynamic-range and integer files), so asking for int8 costs one conversion, not four. It runs
in-process inside a temporary working directory because it reads its calibration sample file from
the current directory. Its output is NHWC for image tensors; latents stay (B, Z).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convert.calibration import ONNX2TF_DEFAULT
from convert.quiet import quiet
from ygan_mobile.errors import YganError

PRECISIONS = ("fp32", "fp16", "int8-dynamic", "int8-full")

# onnx2tf's file-name suffix for each precision we ship
SUFFIX = {
    "fp32": "_float32.tflite",
    "fp16": "_float16.tflite",
    "int8-dynamic": "_dynamic_range_quant.tflite",
    "int8-full": "_full_integer_quant.tflite",
}


@dataclass(frozen=True)
class TfliteIO:
    name: str
    shape: list[int]
    dtype: str
    scale: float | None
    zero_point: int | None


@contextlib.contextmanager
def _cwd(path: Path):
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def convert(onnx_path: Path, out_dir: Path, stem: str, precisions: list[str], input_name: str,
            calibration: Path, default_sample: Path, label: str, scratch: Path) -> dict[str, Path]:
    """Convert one ONNX model; return precision → .tflite path under `out_dir` named `<stem>.<precision>.tflite`.

    onnx2tf works in a folder under `scratch` (the convert's staging folder), not the system's temp
    folder, so a killed run leaves it where the next run cleans up."""
    wanted = [p for p in precisions if p in SUFFIX]
    if not wanted:
        return {}
    quant = "int8-full" in wanted or "int8-dynamic" in wanted
    onnx_path, calibration = Path(onnx_path).resolve(), Path(calibration).resolve()  # onnx2tf runs in its own cwd
    ndim = np.load(calibration, mmap_mode="r").ndim
    shape = [1] * (ndim - 1) + [1]
    mean, std = np.zeros(shape).tolist(), np.ones(shape).tolist()
    scratch = Path(scratch).resolve()  # absolute: onnx2tf runs inside it, and a relative bundle path (-o bundle) would move
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="onnx2tf-", dir=scratch) as tmp:
        work = Path(tmp)
        shutil.copy(default_sample, work / ONNX2TF_DEFAULT)
        failure = None
        with _cwd(work), quiet() as log:
            try:
                import onnx2tf  # TensorFlow prints at import time, so import it silenced

                onnx2tf.convert(
                    input_onnx_file_path=str(onnx_path), output_folder_path=str(work / "out"),
                    copy_onnx_input_output_names_to_tflite=True, not_use_onnxsim=True,
                    output_dynamic_range_quantized_tflite="int8-dynamic" in wanted,
                    output_integer_quantized_tflite=quant,
                    custom_input_op_name_np_data_path=[[input_name, str(calibration), mean, std]] if quant else None,
                    input_quant_dtype="int8", output_quant_dtype="int8", verbosity="error",
                )
            except (Exception, SystemExit) as exc:  # onnx2tf reports some failures with sys.exit(1) after printing why
                said = str(exc).strip()
                failure = log.last_error() or (said.splitlines()[0] if said else type(exc).__name__)
        if failure is not None:
            raise YganError(f"onnx2tf could not convert {label}: {failure}")
        out_dir.mkdir(parents=True, exist_ok=True)
        made = {}
        for precision in wanted:
            found = work / "out" / f"{onnx_path.stem}{SUFFIX[precision]}"
            if not found.is_file():
                raise YganError(f"onnx2tf wrote no {precision} file for {label}: see its log by converting {onnx_path.name} by hand")
            target = out_dir / f"{stem}.{precision}.tflite"
            shutil.move(found, target)
            made[precision] = target
    return made


def io_details(path: Path) -> tuple[list[TfliteIO], list[TfliteIO]]:
    """Names, shapes, dtypes and (for integer I/O) scale/zero point, as the interpreter reports them."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        from tflite_runtime.interpreter import Interpreter

    with quiet():
        interp = Interpreter(model_path=str(path))

    def describe(details: list[dict]) -> list[TfliteIO]:
        out = []
        for d in details:
            dtype = np.dtype(d["dtype"]).name
            scale, zero = d["quantization"]
            integer = dtype in ("int8", "uint8", "int16")
            out.append(TfliteIO(d["name"], [int(s) for s in d["shape"]], dtype,
                                float(scale) if integer else None, int(zero) if integer else None))
        return out

    return describe(interp.get_input_details()), describe(interp.get_output_details())
