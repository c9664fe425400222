"""`verify` passes a sound bundle and catches broken artifacts, naming the artifact and the metric.

The broken artifacts are the mistakes a converter or an app makes: perturbed weights, RGB and BGR
swapped, NCHW memory read as NHWC, a model that expects [0, 1] instead of [-1, 1]. Each is built by
editing the ONNX patch model and re-hashing it into the manifest, so the manifest reader accepts
the bundle and only the parity metrics can catch it.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from conftest import tiny_student
from convert.bundle import convert
from convert.options import Options
from reference_runtime import multiscale, pipeline
from reference_runtime.cli import main as runtime_main
from reference_runtime.cpu import cpu_description
from reference_runtime.manifest import file_sha256
from reference_runtime.verify import verify_bundle

PATCH_MODEL = "onnx/patch_model.flowers"
TRAINING_PACKAGES = ("torch", "tensorflow", "tf_keras", "keras", "onnx2tf", "coremltools", "sklearn",
                     "ygan", "ygan_mobile", "distill", "convert")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("verify") / "bundle"
    convert(tiny_student(), out, Options(targets=["onnx", "tflite", "coreml"], precisions=["fp32", "fp16", "int8-full"],
                                         batch=2, calibration=16, golden=4))
    return out


def _copy(bundle: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    (copy / "parity.json").unlink(missing_ok=True)
    return copy


def _rehash(bundle: Path, rel: str) -> None:
    """Record an edited file in the manifest as if convert had written it."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    for entry in [*manifest["artifacts"], *manifest["golden"]]:
        if entry["path"] == rel:
            entry["sha256"], entry["size"] = file_sha256(bundle / rel), (bundle / rel).stat().st_size
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=1))


def _prepend(bundle: Path, artifact_id: str, nodes, initializers=()) -> None:
    """Insert nodes between the graph input and the nodes that read it; the last node writes 'x_in'."""
    rel = f"{artifact_id}.onnx"
    model = onnx.load(str(bundle / rel))
    graph = model.graph
    name = graph.input[0].name
    for node in graph.node:
        node.input[:] = ["x_in" if i == name else i for i in node.input]
    for k, node in enumerate(nodes):
        graph.node.insert(k, node)
    graph.initializer.extend(initializers)
    onnx.checker.check_model(model)
    onnx.save(model, str(bundle / rel))
    _rehash(bundle, rel)


def _input(bundle: Path) -> tuple[str, list[int]]:
    model = onnx.load(str(bundle / f"{PATCH_MODEL}.onnx"))
    return model.graph.input[0].name, [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]


def _swap_rgb(bundle: Path) -> None:
    name, _ = _input(bundle)
    _prepend(bundle, PATCH_MODEL, [helper.make_node("Gather", [name, "bgr"], ["x_in"], axis=1)],
             [numpy_helper.from_array(np.array([2, 1, 0], np.int64), "bgr")])


def _mix_layout(bundle: Path) -> None:
    name, (b, c, h, w) = _input(bundle)
    _prepend(bundle, PATCH_MODEL, [helper.make_node("Reshape", [name, "nhwc"], ["x_nhwc"]),
                                   helper.make_node("Transpose", ["x_nhwc"], ["x_in"], perm=[0, 3, 1, 2])],
             [numpy_helper.from_array(np.array([b, h, w, c], np.int64), "nhwc")])


def _unit_range(bundle: Path) -> None:
    name, _ = _input(bundle)
    _prepend(bundle, PATCH_MODEL, [helper.make_node("Mul", [name, "half"], ["x_half"]),
                                   helper.make_node("Add", ["x_half", "half"], ["x_in"])],
             [numpy_helper.from_array(np.array(0.5, np.float32), "half")])


def _perturb_weights(bundle: Path) -> None:
    """5% of each weight tensor's spread added as noise: a converter that garbled its weights."""
    rel = f"{PATCH_MODEL}.onnx"
    model = onnx.load(str(bundle / rel))
    rng = np.random.default_rng(0)
    for tensor in model.graph.initializer:
        if len(tensor.dims) >= 2:
            w = numpy_helper.to_array(tensor)
            tensor.CopyFrom(numpy_helper.from_array(w + rng.normal(0, 0.05 * float(w.std()), w.shape).astype(w.dtype),
                                                    tensor.name))
    onnx.save(model, str(bundle / rel))
    _rehash(bundle, rel)


def test_every_artifact_of_a_sound_bundle_passes(bundle):
    doc = verify_bundle(bundle)
    written = json.loads((bundle / "parity.json").read_text())
    assert written == json.loads(json.dumps(doc))
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert {r["id"] for r in doc["models"]} == {a["id"] for a in manifest["artifacts"]}
    assert all(r["status"] == "pass" for r in doc["models"]), [(r["id"], r.get("psnr_db")) for r in doc["models"]]
    patch_models = [a for a in manifest["artifacts"] if a["role"] == "patch_model"]
    v2 = [r for r in doc["pipeline"] if r.get("sampling") == "multiscale"]
    assert len(doc["pipeline"]) - len(v2) == len(v2) == 2 * len(patch_models)  # two golden frames each, v1 and v2
    assert all(r["status"] == "pass" and r["ssim"] > 0.9 for r in doc["pipeline"])
    assert {r["frame"] for r in v2} == {"multiscale.0", "multiscale.1"} and all(r["cells"] > 1 for r in v2)
    assert doc["stand_ins"] and all(r["status"] == "pass" for r in doc["stand_ins"])
    assert all(r["max_u8_diff"] == 0 for r in doc["stand_ins"] if r["model"] == "identity")
    v2_stand_ins = [r for r in doc["stand_ins"] if r.get("sampling") == "multiscale"]
    assert {r["model"] for r in v2_stand_ins} == {"identity", "affine", "ramp", "identity+affine"}
    assert max(r["frames"] for r in v2_stand_ins) > 1 and all(r["same_cells"] for r in v2_stand_ins)
    onnx_row = next(r for r in doc["models"] if r["id"] == PATCH_MODEL)
    assert onnx_row["max_abs"] < 1e-4 and onnx_row["psnr_db"] > 100
    assert doc["ok"] is True
    assert (doc["arch"], doc["cpu_features"]) == (platform.machine(), cpu_description()["isa"])


def test_thresholds_are_enforced(bundle, tmp_path, capsys):
    code = runtime_main(["verify", str(bundle), "--threshold", "int8-full=200", "-o", str(tmp_path / "p.json"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL tflite/patch_model.flowers.int8-full: golden patches: PSNR" in out
    assert "< 200.0 dB" in out
    assert json.loads((tmp_path / "p.json").read_text())["ok"] is False


@pytest.mark.parametrize("breakage", [_perturb_weights, _swap_rgb, _mix_layout, _unit_range],
                         ids=["perturbed-weights", "rgb-bgr", "nchw-as-nhwc", "unit-range-input"])
def test_broken_artifact_is_caught_by_name_and_metric(bundle, tmp_path, capsys, breakage):
    copy = _copy(bundle, tmp_path)
    breakage(copy)
    code = runtime_main(["verify", str(copy), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    fails = [line for line in out.splitlines() if line.startswith("FAIL ")]
    assert fails and all(line.startswith(f"FAIL {PATCH_MODEL}:") for line in fails), out
    assert f"FAIL {PATCH_MODEL}: golden patches: PSNR" in out
    assert f"FAIL {PATCH_MODEL}: golden frame 0 through the pipeline: PSNR" in out
    doc = json.loads((copy / "parity.json").read_text())
    row = next(r for r in doc["models"] if r["id"] == PATCH_MODEL)
    assert row["status"] == "fail" and row["psnr_db"] < row["threshold_db"]


def test_a_stand_in_vector_this_runtime_does_not_reproduce_fails(bundle, tmp_path, capsys):
    copy = _copy(bundle, tmp_path)
    path = copy / "golden" / "pipeline.npz"
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["case.1.u8"] = arrays["case.1.u8"].copy()
    arrays["case.1.u8"][0, 0, 0] ^= 4
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    _rehash(copy, "golden/pipeline.npz")
    assert runtime_main(["verify", str(copy), "--quiet"]) == 1
    assert "FAIL stand-in" in capsys.readouterr().out


def _edit_multiscale(bundle: Path, edit) -> None:
    path = bundle / "golden" / "multiscale.npz"
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    edit(arrays)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    _rehash(bundle, "golden/multiscale.npz")


def test_spec_v2_goldens_record_their_settings_and_a_still_video_keeps_its_cells(bundle):
    entry = next(g for g in json.loads((bundle / "manifest.json").read_text())["golden"] if g["kind"] == "multiscale")
    patch = 16
    assert (entry["largest_cell"], entry["smallest_cell"]) == (4 * patch, patch // 2)
    assert (entry["threshold"], entry["hysteresis"], entry["budget"]) == (64, 16, 512)
    video = next(c for c in entry["stand_ins"] if len(c["frames"]) > 1)
    with np.load(bundle / "golden" / "multiscale.npz", allow_pickle=False) as npz:
        layouts = [npz[f"{video['key']}.layout.{f}"] for f in range(len(video["frames"]))]
        stills = [npz[key] for key in video["frames"]]
        torch_u8 = npz["torch_u8.flowers.0"]
        cells = npz["layout.0"]
    assert all(np.array_equal(layouts[0], later) for later in layouts[1:]) and len(layouts[0]) > 1
    assert not np.array_equal(stills[0], stills[1])  # the noise differs from frame to frame
    # … and without the margin the same video's layout changes: the golden pins the hysteresis
    bare = multiscale.Multiscale(threshold=entry["threshold"], hysteresis=0, budget=entry["budget"],
                                 largest=entry["largest_cell"], smallest=entry["smallest_cell"])
    workspace = pipeline.Workspace()
    boiling = [multiscale.render(s, [lambda x: x], patch=patch, settings=bare, batch=entry["batch"], workspace=workspace).layout.cells()
               for s in stills]
    assert any(not np.array_equal(a, b) for a, b in zip(boiling, boiling[1:]))
    assert len(set(cells[:, 2].tolist())) > 1 and torch_u8.shape == (160, 224, 3)


@pytest.mark.parametrize("edit,message", [
    (lambda a: a.update({"layout.0": a["layout.0"][::-1].copy()}), "the cells differ from the golden layout"),
    (lambda a: a.update({"torch_float.flowers.1": -a["torch_float.flowers.1"]}), "through spec v2: PSNR of the cells' floats"),
    (lambda a: a.update({"case.1.u8.0": a["case.1.u8.0"] ^ np.uint8(8)}), "FAIL stand-in affine multiscale.case.1 (spec v2"),
])
def test_spec_v2_goldens_this_runtime_does_not_reproduce_fail(bundle, tmp_path, capsys, edit, message):
    copy = _copy(bundle, tmp_path)
    _edit_multiscale(copy, edit)
    assert runtime_main(["verify", str(copy), "--quiet", "--skip-backend", "coreml"]) == 1
    assert message in capsys.readouterr().out


def test_a_changed_byte_refuses_the_bundle_naming_the_file(bundle, tmp_path, capsys):
    copy = _copy(bundle, tmp_path)
    target = copy / "tflite" / "patch_model.flowers.fp16.tflite"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 1
    target.write_bytes(bytes(data))
    assert runtime_main(["verify", str(copy)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "tflite/patch_model.flowers.fp16.tflite" in err
    assert not (copy / "parity.json").exists()


@pytest.mark.slow
def test_runtime_runs_without_torch_tensorflow_or_training_code(bundle, tmp_path):
    """In a fresh interpreter: verify the bundle, then list which heavy packages got imported."""
    code = (
        "import json, sys\n"
        "from reference_runtime.cli import main\n"
        f"status = main(['verify', {str(bundle)!r}, '-o', {str(tmp_path / 'p.json')!r}, '--quiet'])\n"
        f"print(json.dumps({{'status': status, 'loaded': [m for m in {TRAINING_PACKAGES!r} if m in sys.modules]}}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"status": 0, "loaded": []}, done.stderr[-2000:]
    doc = json.loads((tmp_path / "p.json").read_text())
    assert {r["backend"] for r in doc["models"]} == {"onnxruntime", "litert", "coreml-mil"}


@pytest.mark.slow
def test_module_entry_point_and_ygan_verify_agree(bundle, tmp_path):
    runs = {}
    for name, argv in (("module", [sys.executable, "-m", "reference_runtime", "verify"]),
                       ("ygan", [str(Path(sys.executable).parent / "ygan"), "verify"])):
        out = tmp_path / f"{name}.json"
        done = subprocess.run([*argv, str(bundle), "-o", str(out), "--quiet"], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        assert "0 fail" in done.stdout
        runs[name] = json.loads(out.read_text())
    assert [(r["id"], r["psnr_db"]) for r in runs["module"]["models"]] == \
        [(r["id"], r["psnr_db"]) for r in runs["ygan"]["models"]]
