"""Every artifact describes itself (convert/model_card.py): the same card in Core ML, ONNX and TFLite.

Read back with each format's own reader (coremltools' spec, onnx's ModelProto, a flatbuffer reader of
the TFLITE_METADATA block); stamping must not change what a model computes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from convert import model_card
from convert.bundle import Options, convert
from conftest import tiny_student

LICENSE = "CC-BY-4.0 (test)"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("card") / "bundle"
    convert(tiny_student(), out, Options(targets=["onnx", "tflite", "coreml"], precisions=["fp32", "int8-full"],
                                         batch=2, calibration=16, golden=4, author="Test Author", license=LICENSE))
    return out


def _manifest(bundle: Path) -> dict:
    return json.loads((bundle / "manifest.json").read_text())


def _expected_user_fields(manifest: dict, artifact: dict) -> dict[str, str]:
    return {"ygan.role": artifact["role"], "ygan.theme": artifact["theme"] or "", "ygan.precision": artifact["precision"],
            "ygan.layout": artifact["layout"], "ygan.batch": str(artifact["batch"]),
            "ygan.source.checkpoint_sha256": manifest["source"]["checkpoint_sha256"],
            **{f"ygan.pipeline.{k}": str(v) for k, v in manifest["pipeline"].items()}}


def test_onnx_carries_producer_and_metadata_props(bundle):
    manifest = _manifest(bundle)
    for artifact in (a for a in manifest["artifacts"] if a["format"] == "onnx"):
        model = onnx.load(str(bundle / artifact["path"]))
        props = {p.key: p.value for p in model.metadata_props}
        assert (model.producer_name, model.producer_version) == ("ygan-mobile", manifest["tool_version"])
        assert props["author"] == "Test Author" and props["license"] == LICENSE
        assert props["version"].startswith(manifest["tool_version"] + "+")
        assert _expected_user_fields(manifest, artifact).items() <= props.items()
        assert model.graph.input[0].doc_string and model.graph.output[0].doc_string
        assert model.doc_string == props["description"]


def test_coreml_carries_xcode_fields(bundle):
    import coremltools as ct

    manifest = _manifest(bundle)
    artifact = next(a for a in manifest["artifacts"] if a["id"] == "coreml/patch_model.flowers.fp32")
    spec = ct.utils.load_spec(str(bundle / artifact["path"]))
    meta = spec.description.metadata
    assert (meta.author, meta.license) == ("Test Author", LICENSE)
    assert "theme 'flowers'" in meta.shortDescription and meta.versionString.startswith(manifest["tool_version"])
    assert _expected_user_fields(manifest, artifact).items() <= dict(meta.userDefined).items()
    described = {f.name: f.shortDescription for f in [*spec.description.input, *spec.description.output]}
    assert "[-1, 1]" in described["x"] and "floor(clip" in described["y"]


def test_tflite_carries_a_metadata_block(bundle):
    manifest = _manifest(bundle)
    for artifact in (a for a in manifest["artifacts"] if a["format"] == "tflite"):
        got = model_card.read_tflite_card(bundle / artifact["path"])
        standard, ours = got[model_card.TFLITE_METADATA], got[model_card.YGAN_METADATA]
        assert (standard["author"], standard["license"]) == ("Test Author", LICENSE)
        assert standard["name"] == f"ygan-mobile {artifact['golden_key']} (tflite {artifact['precision']})"
        assert standard["min_parser_version"] == model_card.METADATA_PARSER_VERSION
        assert list(standard["inputs"]) == [artifact["inputs"][0]["name"]]
        assert list(standard["outputs"]) == [artifact["outputs"][0]["name"]]
        assert ("int8" in standard["inputs"][artifact["inputs"][0]["name"]]) == (artifact["precision"] == "int8-full")
        assert _expected_user_fields(manifest, artifact).items() <= ours.items()
        assert ours["description"] == standard["description"]


def test_stamping_a_tflite_model_keeps_its_outputs(bundle, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    artifact = next(a for a in _manifest(bundle)["artifacts"] if a["id"] == "tflite/patch_model.flowers.int8-full")
    copy = tmp_path / "m.tflite"
    shutil.copy(bundle / artifact["path"], copy)
    info = model_card.card(role="patch_model", theme="flowers", key="k", fmt="tflite", precision="int8-full",
                           layout="NHWC", batch=2, latent=8, input_name="x", output_name="y", integer_io=True,
                           pipeline=model_card.pipeline_params(16, 8, "feather", 2),
                           source={"kind": "student", "checkpoint_sha256": "0" * 64}, license="second")
    model_card.stamp_tflite(copy, info)  # replaces the blocks, never adds a second pair
    assert model_card.read_tflite_card(copy)[model_card.TFLITE_METADATA]["license"] == "second"
    outputs = []
    for path in (bundle / artifact["path"], copy):
        interp = Interpreter(model_path=str(path))
        interp.allocate_tensors()
        i, o = interp.get_input_details()[0], interp.get_output_details()[0]
        x = np.random.default_rng(0).integers(-128, 128, i["shape"], dtype=np.int8)
        interp.set_tensor(i["index"], x)
        interp.invoke()
        outputs.append(interp.get_tensor(o["index"]).copy())
    np.testing.assert_array_equal(outputs[0], outputs[1])
