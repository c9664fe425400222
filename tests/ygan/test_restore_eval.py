"""`ygan build --preset denoise` then `ygan eval` on a tiny config: the restoration path end to end,
with the table's numbers checked against what they must be."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from ygan.cli import main

TINY = ["model.patch=8", "model.latent=64", "model.width=16", "train.steps=300", "train.warmup=50", "train.batch=16",
        "train.eval_patches=64", "train.checkpoint_every=100", "train.threads=1",
        "distill.student.width=8", "distill.train.steps=100", "distill.train.batch=16", "distill.train.eval_patches=32",
        "distill.train.threads=1", "distill.eval.frame=32", "distill.eval.timing_repeats=1", "distill.eval.sample_patches=4",
        'convert.targets=["onnx","tflite"]', 'convert.precisions=["fp32","int8-full"]', "convert.batch=8",
        "convert.calibration=32", "convert.golden=4"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("restore") / "bundle"
    assert main(["build", "--preset", "denoise", "-o", str(out), "--quiet", *(a for s in TINY for a in ("--set", s))]) == 0
    return out


@pytest.mark.slow
def test_paired_training_restores_better_than_the_noisy_input(bundle):
    final = json.loads((bundle / "checkpoints" / "teacher" / "metrics.json").read_text())["final"]["themes"]["denoise"]
    assert final["psnr_restored"] > final["psnr_input"] + 1.0, final


@pytest.mark.slow
def test_the_distillation_measures_each_models_gain_over_the_input_and_the_build_records_it(bundle):
    gains = json.loads((bundle / "checkpoints" / "student" / "metrics.json").read_text())["restoration"]
    teacher = json.loads((bundle / "checkpoints" / "teacher" / "metrics.json").read_text())["final"]["themes"]["denoise"]
    assert 18 < gains["input_psnr"] < 26  # σ = 25 levels: about 20 dB
    assert gains["teacher_gain"]["denoise"] > 1.0, teacher  # the teacher restores, as its own metrics say
    numbers = json.loads((bundle / "build.json").read_text())["stages"]["distill"]["numbers"]
    assert numbers["student_gain_min"] == gains["student_gain"]["denoise"]
    assert numbers["teacher_gain_min"] == gains["teacher_gain"]["denoise"]


@pytest.mark.slow
def test_eval_table_has_every_method_with_sane_numbers(bundle, capsys):
    assert main(["eval", "denoise", str(bundle), "--side", "64"]) == 0
    doc = json.loads((bundle / "eval" / "eval.json").read_text())
    rows = {r["method"]: r for r in doc["rows"]}
    kinds = [r["kind"] for r in doc["rows"]]
    assert kinds.count("input") == 1 and kinds.count("baseline") == 3 and "teacher" in kinds and "student" in kinds
    artifacts = [r for r in doc["rows"] if r["kind"] == "artifact"]
    assert {(r["format"], r["precision"]) for r in artifacts} == {("onnx", "fp32"), ("tflite", "fp32"), ("tflite", "int8-full")}
    assert 19.0 < rows["noisy input"]["psnr"] < 23.0  # σ = 25 levels: 20.2 dB before clipping
    assert rows["non-local means (σ=25)"]["psnr"] > rows["noisy input"]["psnr"] + 4.0
    assert rows["teacher (PyTorch)"]["psnr"] > rows["noisy input"]["psnr"] + 2.0
    for r in artifacts:
        assert abs(r["psnr_vs_student"]) < (0.05 if r["precision"] == "fp32" else 1.5), r
        assert set(r["per_image"]) == set(doc["images"])
    assert "| non-local means (σ=25) | baseline |" in (bundle / "eval" / "eval.md").read_text()
    picture = Image.open(bundle / "eval" / "denoise_0.png")
    assert picture.width > 5 * 64 and "evaluated 9 methods" in capsys.readouterr().out


@pytest.mark.slow
def test_eval_refuses_a_preset_the_bundle_was_not_built_with(bundle, capsys):
    assert main(["eval", "superres2", str(bundle)]) == 2
    assert "pass the preset the bundle was built with" in capsys.readouterr().err
    assert main(["eval", "quick", str(bundle)]) == 2
    assert "not a restoration preset" in capsys.readouterr().err
