"""The Linux Core ML interpreter (reference_runtime.coreml_mil) against torch and against coremltools itself.

Fast tests check the convolution kernels against torch.nn.functional and the error paths on
hand-written packages; slow ones convert a tiny student with the project's converter (every Core
ML precision, every role) and compare: fp32 within 1e-4 of torch, every constexpr weight expansion
bit-equal to coremltools' value inference, compressed outputs above the bundle thresholds, and a
run in a fresh interpreter that never imports torch, tensorflow or coremltools.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from reference_runtime.coreml_mil import constexpr, load_program
from reference_runtime.coreml_mil.conv import conv2d, conv_transpose2d
from reference_runtime.coreml_mil.proto import mil_pb2, model_pb2

ROOT = Path(__file__).resolve().parents[2]
PRECISIONS = ["fp32", "fp16", "int8-weights", "palettized-6bit", "palettized-4bit"]
ROLES = ["encoder", "generator", "patch_model"]


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- convolution kernels vs torch

@pytest.mark.parametrize("cin,cout,k,stride,pad,dilation,groups", [
    (3, 8, 3, 1, (1, 1, 1, 1), 1, 1),
    (4, 6, 3, 2, (0, 1, 2, 0), 1, 2),
    (8, 8, 3, 1, (2, 2, 2, 2), 2, 8),   # depthwise, dilated
    (6, 12, 5, 3, (0, 0, 0, 0), 1, 3),
    (4, 4, 1, 1, (0, 0, 0, 0), 1, 1),
])
def test_conv_custom_and_valid_padding_match_torch(cin, cout, k, stride, pad, dilation, groups):
    x, w, b = _rand(2, cin, 11, 13), _rand(cout, cin // groups, k, k, seed=1), _rand(cout, seed=2)
    got = conv2d(x, w, b, [stride, stride], "custom", np.array(pad), [dilation, dilation], groups)
    padded = F.pad(torch.from_numpy(x), (pad[2], pad[3], pad[0], pad[1]))
    want = F.conv2d(padded, torch.from_numpy(w), torch.from_numpy(b), stride, 0, dilation, groups).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("size,k,stride,dilation", [(11, 3, 2, 1), (12, 4, 2, 1), (9, 3, 1, 2), (10, 5, 3, 1)])
def test_conv_same_padding_gives_ceil_size_with_the_extra_row_at_the_end(size, k, stride, dilation):
    x, w = _rand(1, 2, size, size), _rand(3, 2, k, k, seed=1)
    got = conv2d(x, w, None, [stride, stride], "same", None, [dilation, dilation], 1)
    out = -(-size // stride)
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    lo, hi = total // 2, total - total // 2
    padded = F.pad(torch.from_numpy(x), (lo, hi, lo, hi))
    want = F.conv2d(padded, torch.from_numpy(w), None, stride, 0, dilation).numpy()
    assert got.shape == (1, 3, out, out)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cin,cout,k,stride,padding,output_padding,dilation,groups", [
    (8, 4, 4, 2, 1, 0, 1, 1),
    (4, 6, 3, 2, 1, 1, 1, 2),
    (3, 5, 3, 1, 0, 0, 2, 1),
    (6, 6, 3, 3, 2, 2, 1, 6),
])
def test_conv_transpose_matches_torch(cin, cout, k, stride, padding, output_padding, dilation, groups):
    x, w, b = _rand(2, cin, 5, 7), _rand(cin, cout // groups, k, k, seed=1), _rand(cout, seed=2)
    want = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride, padding,
                              output_padding, groups, dilation).numpy()
    pad = np.array([padding] * 4)
    got = conv_transpose2d(x, w, b, [stride] * 2, "custom", pad, [dilation] * 2, groups,
                           np.array(want.shape) if output_padding else None)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------- hand-written packages

def _tensor_type(dtype: str, shape):
    t = mil_pb2().ValueType()
    t.tensorType.dataType = getattr(mil_pb2(), dtype)
    t.tensorType.rank = len(shape)
    for size in shape:
        t.tensorType.dimensions.add().constant.size = size
    return t


def _write_package(path: Path, op_types: list[str]) -> Path:
    """An ML program x → op_types[0] → op_types[1] → … → y on a float32 [2, 3] tensor."""
    m = model_pb2()
    model = m.Model()
    model.specificationVersion = 7
    for slot, name in ((model.description.input.add(), "x"), (model.description.output.add(), "y")):
        slot.name = name
        slot.type.multiArrayType.shape.extend([2, 3])
        slot.type.multiArrayType.dataType = m.ArrayFeatureType.FLOAT32
    model.mlProgram.version = 1
    fn = model.mlProgram.functions["main"]
    fn.opset = "CoreML6"
    arg = fn.inputs.add()
    arg.name = "x"
    arg.type.CopyFrom(_tensor_type("FLOAT32", [2, 3]))
    block = fn.block_specializations["CoreML6"]
    previous = "x"
    for i, op_type in enumerate(op_types):
        op = block.operations.add()
        op.type = op_type
        op.inputs["x"].arguments.add().name = previous
        out = op.outputs.add()
        out.name = previous = "y" if i == len(op_types) - 1 else f"v{i}"
        out.type.CopyFrom(_tensor_type("FLOAT32", [2, 3]))
    block.outputs.append("y")
    data = path / "Data" / "com.apple.CoreML"
    data.mkdir(parents=True)
    (data / "model.mlmodel").write_bytes(model.SerializeToString())
    (path / "Manifest.json").write_text(json.dumps({
        "fileFormatVersion": "1.0.0", "rootModelIdentifier": "m",
        "itemInfoEntries": {"m": {"author": "com.apple.CoreML", "name": "model.mlmodel", "path": "com.apple.CoreML/model.mlmodel"}}}))
    return path


def test_a_hand_written_program_runs(tmp_path):
    program = load_program(_write_package(tmp_path / "ok.mlpackage", ["leaky_relu", "sigmoid", "identity", "tanh"]))
    x = _rand(2, 3)
    assert program.input_names == ["x"] and program.output_names == ["y"]
    want = np.tanh(1 / (1 + np.exp(-np.where(x >= 0, x, 0.01 * x))))  # MIL's default leaky_relu alpha
    np.testing.assert_allclose(program.run({"x": x})["y"], want, atol=1e-6)


def test_an_unknown_op_is_refused_naming_it(tmp_path):
    with pytest.raises(ValueError, match="frobnicate"):
        load_program(_write_package(tmp_path / "bad.mlpackage", ["relu", "frobnicate"]))


def test_a_wrong_input_shape_is_refused(tmp_path):
    program = load_program(_write_package(tmp_path / "ok.mlpackage", ["relu"]))
    with pytest.raises(ValueError, match=r"input 'x' has shape \(3, 3\)"):
        program.run({"x": _rand(3, 3)})


# ---------------------------------------------------------------- converted tiny student, every precision

@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """{(role, precision): (package path, torch module, input)} for a student big enough that int8
    int8 quantisation and palettisation (both: weights > 2048 elements) apply."""
    from convert import coreml
    from convert.plan import jobs
    from convert.source import Networks
    from distill.students import StudentConfig, StudentModels

    torch.manual_seed(0)
    torch.set_num_threads(1)
    models = StudentModels.create(StudentConfig(patch=16, latent=32, width=8, max_channels=16), ["flowers"])
    models.eval()
    net = Networks("student", 16, 32, models.encoder, dict(models.generators), "3" * 64, 0, 0.25)
    out = tmp_path_factory.mktemp("coreml_mil")
    made = {}
    for job in jobs(net, batch=4):
        paths = coreml.convert(job.module, job.example, out, job.key, PRECISIONS, job.input_name, job.output_name, job.key)
        g = torch.Generator().manual_seed(1)
        x = (torch.randn(4, 32, generator=g) if job.input_name == "z" else torch.rand(4, 3, 16, 16, generator=g) * 2 - 1)
        with torch.no_grad():
            reference = job.module(x).numpy()
        for precision, path in paths.items():
            made[job.role, precision] = (path, x.numpy(), reference)
    return made


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    program = load_program(path)
    return program.run({program.input_names[0]: x})[program.output_names[0]]


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_fp32_package_matches_torch_within_1e4(converted, role):
    path, x, reference = converted[role, "fp32"]
    got = _run(path, x)
    assert got.shape == reference.shape
    assert np.abs(got - reference).max() < 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["int8-weights", "palettized-6bit", "palettized-4bit"])
def test_constexpr_weights_equal_coremltools_value_inference(converted, precision):
    import coremltools as ct
    from coremltools.converters.mil.frontend.milproto.load import load

    expected_op = "constexpr_affine_dequantize" if precision == "int8-weights" else "constexpr_lut_to_dense"
    for role in ROLES:
        path = converted[role, precision][0]
        spec = ct.models.MLModel(str(path), skip_model_load=True).get_spec()
        theirs = load(spec, spec.specificationVersion, str(path / "Data" / "com.apple.CoreML" / "weights"))
        mine = load_program(path)
        checked = 0
        for op in theirs.functions["main"].operations:
            if not op.op_type.startswith("constexpr_"):
                continue
            assert op.op_type == expected_op
            want = op.materialized_val_inference()
            got = mine.constants[op.outputs[0].name]
            assert got.dtype == want.dtype and got.shape == want.shape, op.name
            assert np.array_equal(got, want), f"{path.name}: {op.name} differs from coremltools"
            checked += 1
        assert checked >= 1, f"{path.name} has no {expected_op} op to check"


@pytest.mark.slow
@pytest.mark.parametrize("precision", PRECISIONS[1:])
def test_compressed_and_fp16_packages_clear_the_bundle_thresholds(converted, precision):
    from reference_runtime.metrics import psnr
    from reference_runtime.verify import THRESHOLDS_DB, data_range, threshold

    limit = threshold(precision, THRESHOLDS_DB)
    for role in ROLES:
        path, x, reference = converted[role, precision]
        db = psnr(_run(path, x), reference, data_range=data_range(role, reference))
        assert db >= limit, f"{path.name}: {db:.1f} dB < {limit} dB"


@pytest.mark.slow
@pytest.mark.parametrize("vector", [1, 2])
def test_ios18_lut_to_dense_equals_coremltools(vector):
    """Not emitted for the project's iOS16 target, but expanded the same way should the target move."""
    from coremltools.converters.mil.mil.ops.defs.iOS18.compression import constexpr_lut_to_dense as theirs

    rng = np.random.default_rng(0)
    indices = rng.integers(0, 16, size=(4, 6 // vector, 3)).astype(np.uint8)
    lut = rng.standard_normal((2, 1, 3, 16, vector)).astype(np.float16)
    args = {"indices": indices, "lut": lut, "vector_axis": np.int32(1)}
    got = constexpr.evaluate("constexpr_lut_to_dense", args)
    want = theirs.decompress(indices, lut, 1)
    assert got.shape == want.shape == (4, 6, 3)
    assert np.array_equal(got, want)


@pytest.mark.slow
@pytest.mark.parametrize("with_offset", [False, True])
def test_ios18_blockwise_shift_scale_equals_coremltools(with_offset):
    from coremltools.converters.mil.mil.ops.defs.iOS18.compression import constexpr_blockwise_shift_scale as theirs

    rng = np.random.default_rng(1)
    data = rng.integers(-128, 128, size=(8, 6)).astype(np.int8)
    scale = (rng.random((8, 2)) * 0.01).astype(np.float16)
    offset = rng.integers(-4, 4, size=(8, 2)).astype(np.int8) if with_offset else None
    args = {"data": data, "scale": scale, **({"offset": offset} if with_offset else {})}
    got = constexpr.evaluate("constexpr_blockwise_shift_scale", args)
    want = theirs.decompress(data, scale, offset)
    assert got.dtype == want.dtype == np.float16
    assert np.array_equal(got, want)


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_teacher_fp32_package_matches_torch_within_1e4(tmp_path, role):
    """The teacher's encoder adds leaky_relu to the student's op set."""
    from conftest import tiny_teacher
    from convert import coreml
    from convert.plan import jobs

    job = next(j for j in jobs(tiny_teacher(), batch=2) if j.role == role)
    path = coreml.convert(job.module, job.example, tmp_path, job.key, ["fp32"], job.input_name, job.output_name, job.key)["fp32"]
    assert ("leaky_relu" in load_program(path).op_types) == (role != "generator")
    g = torch.Generator().manual_seed(2)
    x = torch.randn(*job.example.shape, generator=g).clamp(-1, 1)
    with torch.no_grad():
        reference = job.module(x).numpy()
    assert np.abs(_run(path, x.numpy()) - reference).max() < 1e-4


@pytest.mark.slow
def test_runs_without_importing_torch_tensorflow_or_coremltools(converted):
    path, x, reference = converted["patch_model", "palettized-6bit"]
    script = (
        "import sys, numpy as np\n"
        "from reference_runtime.coreml_mil import load_program\n"
        f"p = load_program({str(path)!r})\n"
        f"y = p.run({{p.input_names[0]: np.full({x.shape!r}, 0.25, np.float32)}})[p.output_names[0]]\n"
        "assert y.shape == " + repr(reference.shape) + " and np.isfinite(y).all()\n"
        "print(sorted(m for m in ('torch', 'tensorflow', 'coremltools') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
