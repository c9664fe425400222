"""Each target converts a tiny model; parity, layout, quantisation and atomic install hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from conftest import tiny_student, tiny_teacher, tiny_teacher_model
from convert.bundle import convert
from convert.fold import fold_batchnorm
from convert.hashing import sha256, size
from convert.manifest import validate
from convert.options import Options
from ygan_mobile.errors import YganError


def test_fold_batchnorm_is_exact():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(4, 6, 3, padding=1, groups=2), nn.BatchNorm2d(6), nn.ReLU(),
                        nn.ConvTranspose2d(6, 4, 4, 2, 1, groups=2, bias=False), nn.BatchNorm2d(4))
    for bn in (net[1], net[4]):
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.data.uniform_(0.5, 1.5)
    net.eval()
    folded = fold_batchnorm(net)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        assert torch.allclose(net(x), folded(x), atol=1e-5)


@pytest.fixture(scope="module")
def tflite_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("tfl") / "bundle"
    result = convert(tiny_student(), out, Options(targets=["onnx", "tflite"], batch=2, calibration=32, golden=8))
    return out, result


def test_onnx_and_tflite_all_precisions_pass(tflite_bundle):
    out, result = tflite_bundle
    manifest = json.loads((out / "manifest.json").read_text())
    validate(manifest)
    arts = manifest["artifacts"]
    assert {(a["format"], a["precision"]) for a in arts} == {
        ("onnx", "fp32"), ("onnx", "int8-qdq"), ("tflite", "fp32"), ("tflite", "fp16"), ("tflite", "int8-dynamic"),
        ("tflite", "int8-full")}
    assert {a["role"] for a in arts} == {"encoder", "generator", "patch_model"}
    for a in arts:
        assert a["parity"]["status"] == "pass", (a["id"], a["parity"])
        assert a["sha256"] == sha256(out / a["path"]) and a["size"] == size(out / a["path"])
        assert a["batch"] == 2 and a["macs"] > 0 and a["params"] > 0
    onnx_pm = next(a for a in arts if a["id"] == "onnx/patch_model.flowers")
    assert onnx_pm["opset"] >= 17 and onnx_pm["layout"] == "NCHW" and onnx_pm["inputs"][0]["shape"] == [2, 3, 16, 16]
    full = next(a for a in arts if a["id"] == "tflite/patch_model.flowers.int8-full")
    assert full["layout"] == "NHWC" and full["inputs"][0]["shape"] == [2, 16, 16, 3]
    for t in full["inputs"] + full["outputs"]:
        assert t["dtype"] == "int8" and t["scale"] > 0 and isinstance(t["zero_point"], int)
    assert full["inputs"][0]["pixel_bytes"] and "pixel_bytes" not in full["outputs"][0]  # tanh's output: 1/128
    gen = next(a for a in arts if a["id"] == "tflite/generator.flowers.int8-full")
    assert gen["inputs"][0]["shape"] == [2, 8] and gen["outputs"][0]["shape"] == [2, 16, 16, 3]
    qdq = [a for a in arts if a["precision"] == "int8-qdq"]
    assert [a["id"] for a in qdq] == ["onnx/patch_model.flowers.int8-qdq"]  # the patch models only
    assert qdq[0]["inputs"] == onnx_pm["inputs"] and qdq[0]["outputs"] == onnx_pm["outputs"]  # float I/O, as fp32
    assert 32.0 <= qdq[0]["parity"]["psnr_db"] < onnx_pm["parity"]["psnr_db"] and qdq[0]["parity"]["threshold_db"] == 32.0
    assert result.seconds["onnx-int8"] > 0
    assert [g["kind"] for g in manifest["golden"]] == ["patches", "frames", "pipeline", "multiscale"]
    assert not list(out.parent.glob(".bundle.convert-*"))


def test_full_integer_patch_model_fed_bytes_renders_the_float_paths_bytes(tflite_bundle):
    """LiteRT on a real int8-full artifact: the byte tables change no output byte, the other
    artifacts (float I/O, latent input) are not offered as integer models."""
    import numpy as np

    from reference_runtime import fast_paths, pipeline
    from reference_runtime.backends import open_artifact

    out, _ = tflite_bundle
    arts = {a["id"]: a for a in json.loads((out / "manifest.json").read_text())["artifacts"]}
    runner = open_artifact(out, arts["tflite/patch_model.flowers.int8-full"], threads=1)
    integer = runner.integer_model()
    assert integer is not None
    for other in ("tflite/patch_model.flowers.fp32", "tflite/generator.flowers.int8-full", "tflite/encoder.int8-full"):
        assert open_artifact(out, arts[other], threads=1).integer_model() is None
    img = np.random.default_rng(0).integers(0, 256, (48, 32, 3), dtype=np.uint8)  # 6 patches of 16: 3 chunks of 2
    kw = dict(patch=16, stride=16, batch=2, layout="NHWC")
    got = fast_paths.render_frame(img, [integer], **kw)
    assert np.array_equal(got, fast_paths.render_frame(img, [runner.run_native], **kw))
    assert np.array_equal(got, pipeline.quantise(pipeline.render_float(img, [runner.run_native], **kw)))


@pytest.fixture(scope="module")
def identity_bundle(tmp_path_factory):
    """A restoration student whose correction is zero: its patch model is the identity."""
    from convert.source import Networks
    from distill.students import StudentConfig, StudentModels

    torch.manual_seed(0)
    models = StudentModels.create(StudentConfig(patch=16, latent=8, width=4, max_channels=8, residual=True), ["sharp"])
    with torch.no_grad():
        models.generators["sharp"].out[0].weight.zero_()
        models.generators["sharp"].out[0].bias.zero_()
    net = Networks("student", 16, 8, models.encoder, dict(models.generators), "1" * 64, 0, 0.25, residual=True)
    out = tmp_path_factory.mktemp("identity") / "bundle"
    convert(net, out, Options(targets=["onnx", "tflite"], batch=2, calibration=32, golden=8))
    return out


@pytest.mark.slow
def test_a_zero_correction_gives_back_every_byte_through_the_int8_artifacts(identity_bundle):
    """docs/pipeline.md, "Integer artifacts": the int8-full file's image I/O is scale 2/255, zero point 0,
    pixel bytes (q = u8 − 128 in, u8 = q + 128 out), so the skip carries every pixel through, 0 and 255
    included, on the byte tables and on the blending path; the int8-qdq file keeps the skip float."""
    import numpy as np

    from reference_runtime import fast_paths
    from reference_runtime.backends import open_artifact

    manifest = json.loads((identity_bundle / "manifest.json").read_text())
    validate(manifest)
    arts = {a["id"]: a for a in manifest["artifacts"]}
    full = arts["tflite/patch_model.sharp.int8-full"]
    for tensor in (full["inputs"][0], full["outputs"][0], arts["tflite/encoder.int8-full"]["inputs"][0]):
        assert tensor["pixel_bytes"] and tensor["zero_point"] == 0 and tensor["scale"] == float(np.float32(2 / 255))
    assert "pixel_bytes" not in arts["tflite/generator.sharp.int8-full"]["inputs"][0]
    img = np.random.default_rng(0).integers(0, 256, (48, 40, 3), dtype=np.uint8)
    img[0, :, :] = 0
    img[1, :, :] = 255
    runner = open_artifact(identity_bundle, full, threads=1)
    for model, stride in ((runner.integer_model(), 16), (runner.integer_model(), 8), (runner.run_native, 16)):
        assert np.array_equal(fast_paths.render_frame(img, [model], patch=16, stride=stride, batch=2, layout="NHWC"), img)
    qdq = open_artifact(identity_bundle, arts["onnx/patch_model.sharp.int8-qdq"], threads=1)
    assert np.array_equal(fast_paths.render_frame(img, [qdq], patch=16, stride=8, batch=2, layout="NCHW"), img)
    assert all(a["parity"]["status"] == "pass" for a in manifest["artifacts"]), [a["id"] for a in manifest["artifacts"]]


@pytest.mark.slow
def test_pixel_io_rescales_the_biases_of_the_convolutions_reading_the_input(tmp_path):
    """Calibration patches that span only ±0.75 make the converter choose an input scale of about
    1.5/255; giving the input 2/255 must rescale the first conv's int32 bias (stored on input·weight
    scale) with it. Measured on this tiny encoder: 51.5 dB parity with the rescale, 41.5 without."""
    import dataclasses

    import numpy as np

    from convert.samples import embedded_samples

    net = tiny_student()
    samples = embedded_samples(net, 32, 8)
    samples = dataclasses.replace(samples, calibration=samples.calibration * np.float32(0.75))
    out = tmp_path / "bundle"
    convert(net, out, Options(targets=["tflite"], precisions=["int8-full"], batch=2, calibration=32, golden=8), samples=samples)
    encoder = next(a for a in json.loads((out / "manifest.json").read_text())["artifacts"] if a["id"] == "tflite/encoder.int8-full")
    assert encoder["inputs"][0]["pixel_bytes"] and encoder["inputs"][0]["scale"] == float(np.float32(2 / 255))
    assert encoder["parity"]["psnr_db"] >= 46.0, encoder["parity"]


def test_int8_patch_model_runs_whole_in_xnnpack_without_layout_ops(tflite_bundle):
    """One XNNPACK partition (an op it refuses would split the graph), and none of the shuffles
    the pre-lean export carried: no TRANSPOSE/RESHAPE/STRIDED_SLICE, no RESIZE, no TRANSPOSE_CONV.
    The one MUL is ×LOGIT_BOUND before tanh, the clamp fused into the last conv (convert/lean.py)."""
    from convert.op_profile import profile

    out, _ = tflite_bundle
    rows, whole = profile(out / "tflite" / "patch_model.flowers.int8-full.tflite", threads=1, runs=2)
    ops = {r.op for r in rows}
    assert ops <= {"CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "PAD", "MUL", "TANH"}, ops
    assert [r.op for r in rows].count("MUL") == 1
    assert all(r.xnnpack and r.dtype == "int8" for r in rows), [(r.op, r.xnnpack, r.dtype) for r in rows]
    assert whole > 0


def test_every_tflite_precision_has_one_io_contract(tflite_bundle):
    """Same tensor names and a serving_default signature in fp32, fp16, int8-dynamic and int8-full,
    as the manifest says; a manifest naming another contract fails to open, in one line."""
    from ai_edge_litert.interpreter import Interpreter

    from reference_runtime.backends import BackendError
    from reference_runtime.backends.litert import LiteRunner

    out, _ = tflite_bundle
    arts = [a for a in json.loads((out / "manifest.json").read_text())["artifacts"] if a["format"] == "tflite"]
    want = {"encoder": ("x", "z"), "generator": ("z", "y"), "patch_model": ("x", "y")}
    assert len(arts) == 4 * 3
    for a in arts:
        names = want[a["role"]]
        assert (a["signature"], a["inputs"][0]["name"], a["outputs"][0]["name"]) == ("serving_default", *names), a["id"]
        interp = Interpreter(model_path=str(out / a["path"]))
        assert interp.get_signature_list() == {"serving_default": {"inputs": [names[0]], "outputs": [names[1]]}}, a["id"]
        assert (interp.get_input_details()[0]["name"], interp.get_output_details()[0]["name"]) == names
    wrong = {**arts[0], "outputs": [{**arts[0]["outputs"][0], "name": "Identity"}]}
    with pytest.raises(BackendError, match="does not describe this file"):
        LiteRunner(out / wrong["path"], wrong, threads=1)


def test_goldens_hold_the_contract_keys(tflite_bundle):
    import numpy as np

    out, _ = tflite_bundle
    patches = np.load(out / "golden/patches.npz")
    assert patches["x"].shape == (8, 3, 16, 16) and patches["z"].shape == (8, 8)
    assert {"out.encoder", "out.generator.flowers", "out.patch_model.flowers"} <= set(patches.files)
    frames = np.load(out / "golden/frames.npz")
    assert frames["frame.0"].dtype == np.uint8 and frames["torch_u8.flowers.0"].shape == frames["frame.0"].shape
    assert frames["torch_float.flowers.1"].dtype == np.float32
    pipe = np.load(out / "golden/pipeline.npz")
    manifest = json.loads((out / "manifest.json").read_text())
    cases = next(g for g in manifest["golden"] if g["kind"] == "pipeline")["cases"]
    identity = next(c for c in cases if c["model"] == "identity" and c["blend"] == "feather")
    # the identity model through the pipeline gives the normalised frame back
    frame = pipe[identity["frame"]].astype(np.float32) / 127.5 - 1
    assert np.abs(pipe[f"{identity['key']}.float"] - frame).max() < 1e-5
    v2 = np.load(out / "golden/multiscale.npz")
    entry = next(g for g in manifest["golden"] if g["kind"] == "multiscale")
    cells = v2["layout.0"]
    assert cells.dtype == np.int32 and cells.shape[1] == 4 and entry["batch"] == 2
    assert v2["torch_float.flowers.0"].shape == (len(cells), 16, 16, 3) and v2["torch_u8.flowers.0"].shape == v2["frame.0"].shape
    identity = next(c for c in entry["stand_ins"] if c["models"] == ["identity"])
    small = v2[f"{identity['key']}.layout.0"]
    for top, left, size, _ in small[small[:, 2] <= 16].tolist():  # cells of P and smaller come back exactly
        region = (slice(top, top + size), slice(left, left + size))
        assert np.array_equal(v2[f"{identity['key']}.u8.0"][region], v2[identity["frames"][0]][region])


def test_reconvert_keeps_other_stages_and_replaces_own(tmp_path):
    out = tmp_path / "bundle"
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / "keep.txt").write_text("teacher")
    (out / "onnx").mkdir()
    (out / "onnx" / "stale.onnx").write_text("old")
    convert(tiny_teacher(), out, Options(targets=["onnx"], batch=2, golden=4))
    assert (out / "checkpoints" / "keep.txt").read_text() == "teacher"
    assert not (out / "onnx" / "stale.onnx").exists()
    assert sorted(p.name for p in (out / "onnx").iterdir()) == ["encoder.onnx", "generator.flowers.onnx",
                                                                 "patch_model.flowers.int8-qdq.onnx", "patch_model.flowers.onnx"]


def test_failed_convert_leaves_previous_bundle(tmp_path, monkeypatch):
    out = tmp_path / "bundle"
    convert(tiny_teacher(), out, Options(targets=["onnx"], batch=2, golden=4))
    before = (out / "manifest.json").read_bytes()

    def boom(*args, **kwargs):
        raise YganError("simulated failure")
    monkeypatch.setattr("convert.bundle.manifest.write", boom)
    with pytest.raises(YganError):
        convert(tiny_teacher(), out, Options(targets=["onnx"], batch=2, golden=4))
    assert (out / "manifest.json").read_bytes() == before
    assert not list(tmp_path.glob(".bundle.convert-*"))


@pytest.mark.slow
def test_a_relative_output_directory_works(tmp_path, monkeypatch):
    """`make demo` passes -o bundle; onnx2tf runs in a directory of its own, so paths must be absolute by then."""
    monkeypatch.chdir(tmp_path)
    result = convert(tiny_student(), Path("bundle"), Options(targets=["tflite"], precisions=["fp32"], batch=2,
                                                             calibration=16, golden=4))
    assert {a["path"] for a in result.manifest["artifacts"]} >= {"tflite/patch_model.flowers.fp32.tflite"}
    assert (tmp_path / "bundle" / "tflite" / "patch_model.flowers.fp32.tflite").is_file()


def test_onnx2tf_failure_is_one_line_naming_its_reason(tmp_path, monkeypatch):
    import onnx2tf

    def exits(**kwargs):
        print("\x1b[31mERROR:\x1b[0m The specified *.onnx file does not exist.")
        raise SystemExit(1)

    monkeypatch.setattr(onnx2tf, "convert", exits)
    with pytest.raises(YganError, match=r"onnx2tf could not convert .*: ERROR: The specified \*\.onnx file does not exist\."):
        convert(tiny_student(), tmp_path / "b", Options(targets=["tflite"], precisions=["fp32"], batch=2, calibration=16, golden=4))
    assert not (tmp_path / "b").exists()


def test_coreml_all_precisions(tmp_path):
    out = tmp_path / "bundle"
    result = convert(tiny_teacher(), out, Options(targets=["coreml"], batch=2, golden=8))
    validate(result.manifest)
    arts = result.manifest["artifacts"]
    assert {a["precision"] for a in arts} == {"fp32", "fp16", "int8-weights", "palettized-6bit"}
    for a in arts:
        assert (out / a["path"]).is_dir() and a["path"].endswith(".mlpackage") and a["layout"] == "NCHW"
        assert a["sha256"] == sha256(out / a["path"])
        assert a["inputs"][0]["dtype"] == "float32" and a["outputs"][0]["dtype"] == "float32"
        assert a["parity"]["status"] in ("pass", "not verified", "fail")
    six = next(a for a in arts if a["id"] == "coreml/patch_model.flowers.palettized-6bit")
    if six["parity"]["status"] != "pass":  # no MIL interpreter: the compression-only estimate is recorded
        assert six["parity"]["estimate_db"] >= 32


def test_cli_on_teacher_checkpoint(tmp_path, capsys):
    import argparse

    from convert.command import add_convert_arguments, run_convert
    from ygan_mobile.checkpoint import save
    from ygan_mobile.config import Config

    model = tiny_teacher_model()
    cfg = Config.from_dict({"model": {"patch": 8, "latent": 8, "width": 8}, "data": {"themes": ["flowers"]}})
    ckpt = save(tmp_path / "run" / "checkpoint.safetensors", model, {}, 1, cfg, {})
    parser = argparse.ArgumentParser()
    add_convert_arguments(parser)
    args = parser.parse_args(["--checkpoint", str(ckpt.parent), "--targets", "onnx", "-o", str(tmp_path / "b"),
                              "--batch", "2", "--golden", "4", "--quiet"])
    assert run_convert(args) == 0
    printed = capsys.readouterr().out
    assert "onnx/patch_model.flowers" in printed and "pass" in printed
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["source"]["kind"] == "teacher" and manifest["pipeline"]["stride"] == 4

    for bad, match in ((["--precisions", "int3"], "unknown precision"), (["--targets", "onnx,tflite", "--source", "student"], "teacher checkpoint")):
        args = parser.parse_args(["--checkpoint", str(ckpt), "-o", str(tmp_path / "c"), "--quiet", *bad])
        with pytest.raises(YganError, match=match):
            run_convert(args)


def test_onnx_keeps_fp32_and_adds_int8_qdq_only_when_asked_or_by_default():
    from convert.plan import precisions_for

    assert precisions_for(["onnx"], None) == {"onnx": ["fp32", "int8-qdq"]}
    assert precisions_for(["onnx", "tflite"], ["int8-full"]) == {"onnx": ["fp32"], "tflite": ["int8-full"]}
    assert precisions_for(["onnx"], ["int8-qdq"]) == {"onnx": ["fp32", "int8-qdq"]}


def test_qdq_calibration_feeds_full_batches_of_the_calibration_patches():
    import numpy as np

    from convert.onnx_quant import _Patches

    patches = np.arange(5, dtype=np.float32)[:, None, None, None] * np.ones((5, 3, 2, 2), np.float32)
    reader = _Patches("x", patches, 2)
    feeds = iter(reader.get_next, None)
    firsts = [feed["x"][:, 0, 0, 0].tolist() for feed in feeds]
    assert firsts == [[0, 1], [2, 3], [4, 0]]  # cycled, never zero-padded
