"""`ygan build` end to end on a tiny config: all stages, skip when nothing changed, rerun from the
stage an override affects, resume after Ctrl-C, and the Android copy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from test_train import model_tensors
from ygan_mobile.cli import main
from ygan_mobile.errors import YganError

TEACHER = ["model.patch=16", "model.latent=16", "model.width=8", 'data.themes=["stars"]', "data.theme_tiles=12",
           "train.steps=200", "train.warmup=20", "train.batch=8", "train.eval_patches=16", "train.checkpoint_every=10",
           "train.log_every=10", "train.threads=1"]
STUDENT = ["distill.student.width=4", "distill.train.steps=20", "distill.train.batch=8", "distill.train.eval_patches=16",
           "distill.train.threads=1", "distill.eval.frame=48", "distill.eval.timing_repeats=1", "distill.eval.sample_patches=4"]
CONVERT = ['convert.targets=["onnx","tflite"]', 'convert.precisions=["fp32","int8-full"]', "convert.batch=4",
           "convert.calibration=16", "convert.golden=4"]
STAGES = ["train", "distill", "convert", "verify", "report"]


def argv(out: Path, *extra: str) -> list[str]:
    sets = [a for s in TEACHER + STUDENT + CONVERT + list(extra) for a in ("--set", s)]
    return ["build", "-o", str(out), "--quiet", *sets]


def last_run(bundle: Path) -> dict[str, str]:
    return {k: v["status"] for k, v in json.loads((bundle / "build.json").read_text())["last_run"].items()}


def mtimes(bundle: Path) -> dict[str, int]:
    return {p.relative_to(bundle).as_posix(): p.stat().st_mtime_ns for p in bundle.rglob("*")
            if p.is_file() and p.name != "build.json"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "bundle"
    assert main(argv(out)) == 0
    return out


@pytest.mark.slow
def test_first_build_runs_every_stage_into_one_bundle(bundle, capsys):
    assert last_run(bundle) == dict.fromkeys(STAGES, "ran")
    for rel in ("checkpoints/teacher/checkpoint.safetensors", "checkpoints/student/student.safetensors",
                "manifest.json", "parity.json", "report/index.html"):
        assert (bundle / rel).stat().st_size > 0, rel
    state = json.loads((bundle / "build.json").read_text())
    manifest = json.loads((bundle / "manifest.json").read_text())
    record = manifest["build"]
    assert record["inputs_sha256"] == {s: state["stages"][s]["inputs_sha256"] for s in ("train", "distill", "convert")}
    assert record["teacher_sha256"] == state["stages"]["train"]["outputs"]["checkpoints/teacher/checkpoint.safetensors"]
    assert record["student_sha256"] == manifest["source"]["checkpoint_sha256"]
    assert {a["format"] for a in manifest["artifacts"]} == {"onnx", "tflite"}
    assert state["stages"]["train"]["numbers"]["step"] == 200
    assert state["stages"]["distill"]["numbers"]["mac_ratio"] > 1
    assert state["stages"]["convert"]["numbers"]["artifacts"] == len(manifest["artifacts"])
    assert state["stages"]["verify"]["numbers"]["ok"] is True


@pytest.mark.slow
def test_second_build_skips_every_stage_and_touches_nothing(bundle, capsys):
    before = mtimes(bundle)
    assert main(argv(bundle)) == 0
    assert last_run(bundle) == dict.fromkeys(STAGES, "skipped")
    assert mtimes(bundle) == before
    out = capsys.readouterr().out
    assert out.count("skipped") == 5 and f"report: {(bundle / 'report' / 'index.html').resolve()}" in out


@pytest.mark.slow
def test_changed_override_reruns_from_the_affected_stage(bundle):
    teacher = bundle / "checkpoints/teacher/checkpoint.safetensors"
    kept = teacher.stat().st_mtime_ns
    old = json.loads((bundle / "build.json").read_text())["stages"]
    assert main(argv(bundle, "distill.train.steps=10")) == 0
    assert last_run(bundle) == {"train": "skipped", "distill": "ran", "convert": "ran", "verify": "ran", "report": "ran"}
    assert teacher.stat().st_mtime_ns == kept
    new = json.loads((bundle / "build.json").read_text())["stages"]
    assert new["train"] == old["train"]
    assert new["distill"]["inputs_sha256"] != old["distill"]["inputs_sha256"]
    assert new["distill"]["numbers"]["step"] == 10
    # an edited output is not "unchanged": the stage that wrote it runs again, and only what reads it follows
    report_inputs = _inputs(bundle, "report")
    parity = bundle / "parity.json"
    parity.write_text(parity.read_text() + " ")
    assert main(argv(bundle, "distill.train.steps=10")) == 0
    runs = last_run(bundle)
    assert [runs[s] for s in ("train", "distill", "convert", "verify")] == ["skipped", "skipped", "skipped", "ran"]
    assert runs["report"] == ("skipped" if _inputs(bundle, "report") == report_inputs else "ran")


def _inputs(bundle: Path, stage: str) -> str:
    return json.loads((bundle / "build.json").read_text())["stages"][stage]["inputs_sha256"]


@pytest.mark.slow
def test_interrupted_build_resumes_the_unfinished_stage(bundle, tmp_path):
    out = tmp_path / "bundle"
    args = argv(out, 'convert.targets=["onnx"]')
    proc = subprocess.Popen([sys.executable, "-m", "ygan_mobile", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    ckpt = out / "checkpoints/teacher/checkpoint.safetensors"
    deadline = time.monotonic() + 180
    while not ckpt.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stdout
    state = json.loads((out / "build.json").read_text())
    assert state["stages"]["train"]["status"] == "interrupted"
    assert last_run(out) == {"train": "interrupted"}

    assert main(args) == 0
    assert last_run(out)["train"] == "resumed"
    # a resumed run ends with the weights of the uninterrupted build of the same teacher (the
    # checkpoint files differ in their run metadata, so the tensors are compared, not the bytes)
    resumed, straight = model_tensors(out / "checkpoints/teacher"), model_tensors(bundle / "checkpoints/teacher")
    assert resumed.keys() == straight.keys()
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)


@pytest.mark.slow
def test_android_dir_gets_manifest_tflite_and_golden(bundle, tmp_path):
    android = tmp_path / "android_demo"
    android.mkdir()
    assets = android / "app/src/main/assets/bundle"
    assets.mkdir(parents=True)
    (assets / "stale.txt").write_text("from an older bundle")
    assert main(argv(bundle) + ["--android-dir", str(android)]) == 0
    assert sorted(p.name for p in assets.iterdir()) == ["golden", "manifest.json", "tflite"]
    assert (assets / "manifest.json").read_bytes() == (bundle / "manifest.json").read_bytes()
    assert sorted(p.name for p in (assets / "tflite").iterdir()) == sorted(p.name for p in (bundle / "tflite").iterdir())
    assert [p.name for p in assets.parent.iterdir()] == ["bundle"]  # no staging left behind


def test_bad_overrides_are_one_clear_error(tmp_path, capsys):
    for bad, message in [("distill.student.widht=4", "no key 'widht'"), ("convert.batch=0", "convert.batch"),
                         ('convert.targets=["apk"]', "unknown target"), ("convert.nothing=1", "no key 'nothing'")]:
        assert main(["build", "-o", str(tmp_path / "b"), "--set", bad]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
    with pytest.raises(YganError, match="exactly one --theme"):
        from ygan_mobile.build_config import flag_overrides

        flag_overrides(["a", "b"], None, "folder", None)
