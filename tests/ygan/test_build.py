"""`ygan build` end to end on a tiny config: all stages, skip when nothing changed, rerun from the
stage an override affects, resume after Ctrl-C, the Android copy, and the mosaic quality the build
writes to quality.json, the manifest and the report's first section."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import face_clip, model_tensors
from ygan.cli import main
from ygan_mobile.errors import YganError
from ygan_mobile.ingest import write_video

TEACHER = ["model.patch=16", "model.latent=16", "model.width=8", 'data.themes=["stars"]', "data.theme_tiles=40",
           "train.steps=200", "train.warmup=200", "train.batch=8", "train.eval_patches=16", "train.checkpoint_every=10",
           "train.log_every=10", "train.threads=1"]
STUDENT = ["distill.student.width=4", "distill.train.steps=20", "distill.train.batch=8", "distill.train.eval_patches=16",
           "distill.train.threads=1", "distill.eval.frame=48", "distill.eval.timing_repeats=1", "distill.eval.sample_patches=4"]
CONVERT = ['convert.targets=["onnx","tflite"]', 'convert.precisions=["fp32","int8-full"]', "convert.batch=4",
           "convert.calibration=16", "convert.golden=4"]
# two tiny judges on 64-px photographs, never refitted: seconds
QUALITY = ["quality.steps=40", "quality.side=64", "quality.judges=2", "quality.retry_steps=0"]
STAGES = ["train", "distill", "convert", "verify", "quality", "report"]


def argv(out: Path, *extra: str) -> list[str]:
    sets = [a for s in TEACHER + STUDENT + CONVERT + QUALITY + list(extra) for a in ("--set", s)]
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
    # the quality stage added its summary to the manifest after verify and re-pinned parity.json to it
    parity = json.loads((bundle / "parity.json").read_text())
    assert "quality" in manifest and parity["manifest_quality_added"] is True
    assert parity["verified_manifest_sha256"] != parity["bundle_manifest_sha256"] == state["stages"]["convert"]["outputs"]["manifest.json"]


@pytest.mark.slow
def test_second_build_skips_every_stage_and_touches_nothing(bundle, capsys):
    before = mtimes(bundle)
    assert main(argv(bundle)) == 0
    assert last_run(bundle) == dict.fromkeys(STAGES, "skipped")
    assert mtimes(bundle) == before
    out = capsys.readouterr().out
    assert out.count("skipped") == 6 and f"report: {(bundle / 'report' / 'index.html').resolve()}" in out


@pytest.mark.slow
def test_changed_override_reruns_from_the_affected_stage(bundle):
    teacher = bundle / "checkpoints/teacher/checkpoint.safetensors"
    kept = teacher.stat().st_mtime_ns
    old = json.loads((bundle / "build.json").read_text())["stages"]
    assert main(argv(bundle, "distill.train.steps=10")) == 0
    assert last_run(bundle) == {"train": "skipped", "distill": "ran", "convert": "ran", "verify": "ran", "quality": "ran",
                                "report": "ran"}
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
    assert [runs[s] for s in ("train", "distill", "convert", "verify", "quality")] == ["skipped"] * 3 + ["ran", "skipped"]
    assert runs["report"] == ("skipped" if _inputs(bundle, "report") == report_inputs else "ran")


@pytest.mark.slow
def test_quality_stage_scores_teacher_student_and_int8_full(bundle):
    from conftest import Page
    from reference_runtime.manifest import file_sha256, read_manifest

    doc = json.loads((bundle / "quality.json").read_text())
    assert set(doc["models"]) == {"teacher", "student", "int8-full"}
    for model, themes in doc["models"].items():
        s = themes["stars"]
        for key in ("recognisability", "baseline_input", "baseline_colour"):
            assert 0.0 <= s[key] <= 1.0, (model, key, s)
        assert -1.0 <= s["structure_r"] <= 1.0 and 0.0 <= s["variety"] < 10 and s["patches"] > 0, (model, s)
        assert s["recognisability_min"] <= s["recognisability"] <= s["recognisability_max"], (model, s)
        assert all(-1.0 <= s[k] <= 1.0 for k in ("picture_r", "detail_r")), (model, s)
        assert s["colour_r"] is None or -1.0 <= s["colour_r"] <= 1.0, (model, s)
    assert doc["settings"]["judges"] == 2
    # the mosaics without a network, scored alike: a stamp keeps nothing inside a cell, the photomosaic its layout
    base = doc["baselines"]
    assert set(base) == {"one stamp per cell", "classical photomosaic"}
    assert abs(base["one stamp per cell"]["stars"]["detail_r"]) < 0.3
    assert base["classical photomosaic"]["stars"]["detail_r"] > base["one stamp per cell"]["stars"]["detail_r"] + 0.05
    assert doc["targets"]["min_picture_r"] == 0.8 and any("below target" in w for w in doc["warnings"])
    # the held-out portrait is shown first in every theme's picture
    assert doc["picture_frame"].startswith("grace_hopper")
    # the teacher (200 theme-match steps, as the quick preset trains) follows its input's light and dark; the
    # 20-step width-4 student and its int8 artifact are too untrained for any bound but the range above
    assert doc["models"]["teacher"]["stars"]["structure_r"] > 0.3
    assert 0.0 <= doc["judge"]["accuracy"]["mean"] <= 1.0 and isinstance(doc["judge"]["counts"], bool)
    assert all(f["width"] <= 64 and f["height"] <= 64 and f["width"] % 16 == 0 for f in doc["frames"])
    int8 = [a for a in read_manifest(bundle).artifacts if a["precision"] == "int8-full" and a["role"] == "patch_model"]
    assert doc["sources"]["int8-full"]["stars"]["sha256"] == int8[0]["sha256"]
    picture = bundle / doc["pictures"]["stars"]
    assert picture.is_file() and Image.open(picture).width >= 3 * 384
    # the manifest carries the summary and still validates; parity.json is pinned to those bytes
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["quality"]["models"]["int8-full"]["stars"]["structure_r"] == s["structure_r"]
    assert manifest["quality"]["judge_accuracy"] == doc["judge"]["accuracy"]
    parity = json.loads((bundle / "parity.json").read_text())
    assert parity["bundle_manifest_sha256"] == file_sha256(bundle / "manifest.json")  # verify ran on it, or was re-pinned
    # the report opens with it, and did not verify again
    page = (bundle / "report" / "index.html").read_text()
    assert page.index("<section id=") == page.index('<section id="quality"') < page.index('<section id="artifacts"')
    parsed = Page(page)
    assert len(parsed.tables["quality"]["rows"]) == 5 and "mosaic/mosaic_stars.png" in parsed.images  # 3 models, 2 baselines
    assert (bundle / "report" / "mosaic" / "mosaic_stars.png").read_bytes() == picture.read_bytes()
    state = json.loads((bundle / "build.json").read_text())
    numbers = state["stages"]["quality"]["numbers"]
    assert numbers["models"]["teacher"]["stars"]["variety"] == doc["models"]["teacher"]["stars"]["variety"]
    assert numbers["models"]["teacher"]["stars"]["recognisability_max"] == doc["models"]["teacher"]["stars"]["recognisability_max"]
    assert numbers["judges"] == 2


@pytest.mark.slow
def test_eval_of_an_art_bundle_repeats_the_build_measurement_elsewhere(bundle, tmp_path, capsys):
    before = mtimes(bundle)
    assert main(["eval", str(bundle), "--threads", "1", "--out", str(tmp_path / "eval")]) == 0
    out = capsys.readouterr().out
    assert "judge accuracy on real held-out patches" in out and "stars     int8-full" in out
    assert "stars     baseline: photomosaic" in out
    again = json.loads((tmp_path / "eval" / "quality.json").read_text())
    built = json.loads((bundle / "quality.json").read_text())
    assert again["models"] == built["models"] and again["judge"] == built["judge"]  # seeded: the same numbers
    assert again["baselines"] == built["baselines"] and again["targets"] == built["targets"]
    assert (tmp_path / "eval" / "quality" / "mosaic_stars.png").is_file()
    assert mtimes(bundle) == before  # the bundle's own quality.json and manifest stay as built
    assert main(["eval", "denoise", str(bundle)]) == 2
    assert f"'ygan eval {bundle}'" in capsys.readouterr().err


@pytest.mark.slow
def test_eval_of_a_clip_measures_each_models_flicker_on_every_frame(bundle, tmp_path, capsys):
    from ygan.build_quality import artifact_renderer, int8_full_artifacts
    from ygan.eval_clip import clip_frames
    from ygan_mobile.mosaic.metrics import flicker
    from reference_runtime.manifest import read_manifest

    out = tmp_path / "eval"
    before = mtimes(bundle)
    assert main(["eval", str(bundle), "--clip", str(face_clip()), "--frames", "6", "--side", "64", "--threads", "1",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "flicker on carphone_pristine.mp4 (6 frames, 64×48 px, 29.97 fps; target ≤ 1.5)" in printed
    doc = json.loads((out / "flicker.json").read_text())
    assert set(doc["flicker"]) == {"teacher", "student", "int8-full"} and doc["frames"] == 6 and doc["size"] == [64, 48]
    frames = list(clip_frames(face_clip(), side=64, patch=16, limit=6))
    opened = read_manifest(bundle)
    render = artifact_renderer(opened, int8_full_artifacts(opened.data), threads=1)
    assert doc["flicker"]["int8-full"]["stars"] == pytest.approx(flicker(frames, [render(f, "stars") for f in frames]), abs=1e-4)
    assert all(0 < v < 50 for per in doc["flicker"].values() for v in per.values())
    assert doc["above_target"] == [f"{m} stars" for m, per in doc["flicker"].items() if per["stars"] > 1.5]
    picture = np.asarray(Image.open(out / "flicker_stars.png"))
    assert picture.shape == (4 * 48 + 3 * 4, 3 * 64 + 2 * 4, 3)  # input + three models, first / middle / last frame
    assert np.array_equal(picture[:48, :64], frames[0])
    assert mtimes(bundle) == before
    for bad, message in ((["--frames", "1"], "--frames 0 (all) or at least 2"), (["--steps", "5"], "--clip fits none"),
                         (["--clip", str(tmp_path / "none.mp4")], "none.mp4")):
        args = ["eval", str(bundle), "--out", str(tmp_path / "bad"), *(["--clip", str(face_clip())] if "--clip" not in bad else []), *bad]
        assert main(args) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "bad").exists()
    assert main(["eval", "denoise", str(bundle), "--clip", str(face_clip())]) == 2
    still = np.full((48, 64, 3), 90, np.uint8)
    write_video(tmp_path / "still.mp4", [still] * 4, fps=10)
    write_video(tmp_path / "one.mp4", [still], fps=10)
    for clip, message in (("still.mp4", "every frame is the same"), ("one.mp4", "1 frame(s): flicker needs")):
        assert main(["eval", str(bundle), "--clip", str(tmp_path / clip), "--out", str(tmp_path / "bad")]) == 2
        assert message in capsys.readouterr().err and not (tmp_path / "bad").exists()
    assert main(["eval", str(bundle), "--frames", "5"]) == 2


@pytest.mark.slow
def test_judges_fitted_by_two_children_are_those_fitted_here_on_one_thread(bundle):
    from ygan.build_judges import JudgeJob, JudgeSettings
    from ygan.build_quality import heldout_of, teacher_config
    from ygan_mobile.mosaic.score import fit_judges

    job = JudgeJob(bundle, JudgeSettings(steps=20, retry_steps=0, count=3, side=64))
    job.add_worker()
    assert len(job.processes) == 2
    fitted = job.result()
    assert not job.folder.exists()  # its files are gone once loaded
    cfg = teacher_config(bundle)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        here, accuracy = fit_judges(heldout_of(cfg, 64), seed=cfg.train.seed, steps=20, count=3)
    finally:
        torch.set_num_threads(previous)
    assert fitted.accuracy == pytest.approx(accuracy, abs=1e-12) and (fitted.steps, fitted.note) == (20, "")
    for a, b in zip(fitted.judges, here, strict=True):
        assert a.classes == b.classes
        for (name, x), y in zip(a.net.state_dict().items(), b.net.state_dict().values(), strict=True):
            assert torch.equal(x, y), name


@pytest.mark.slow
def test_judges_below_the_floor_are_refitted_by_the_job_at_the_retry_steps(bundle):
    from ygan.build_judges import JudgeJob, JudgeSettings

    fitted = JudgeJob(bundle, JudgeSettings(steps=1, retry_steps=30, count=2, side=64)).result()
    assert fitted.steps == 30 and fitted.note.startswith("judges refitted at 30 steps: at 1 they were below 90% (")
    assert len(fitted.judges) == 2


def tiny_heldout():
    from ygan_mobile.data import NamedImage
    from ygan_mobile.mosaic.heldout import HeldOut

    rng = np.random.default_rng(0)

    def patches(n: int) -> np.ndarray:
        return rng.integers(0, 256, (n, 16, 16, 3), dtype=np.uint8)

    frame = NamedImage("portrait", rng.integers(0, 256, (32, 48, 3), dtype=np.uint8), "faces", True)
    return HeldOut([frame], patches(6), {"stars": patches(5)}, {"stars": patches(4)}, {"stars": patches(3)})


def test_held_out_data_is_written_and_read_back_as_it_was(tmp_path):
    from ygan_mobile.mosaic import heldout

    held = tiny_heldout()
    heldout.save(held, tmp_path / "held.safetensors")
    back = heldout.load(tmp_path / "held.safetensors")
    assert [(f.name, f.group, f.held) for f in back.frames] == [("portrait", "faces", True)]
    np.testing.assert_array_equal(back.frames[0].pixels, held.frames[0].pixels)
    np.testing.assert_array_equal(back.judge_photo, held.judge_photo)
    for kind in heldout.KINDS:
        assert getattr(back, kind).keys() == {"stars"}
        np.testing.assert_array_equal(getattr(back, kind)["stars"], getattr(held, kind)["stars"])


def test_a_judge_child_that_fails_is_one_clear_error_and_one_that_is_cancelled_stops(tmp_path):
    from ygan.build_judges import JudgeJob, JudgeSettings

    settings = JudgeSettings(steps=20, retry_steps=0, count=2, side=64)
    with pytest.raises(YganError, match=r"^'.*' has no checkpoints/teacher"):
        JudgeJob(tmp_path, settings)  # no teacher to draw the held-out data of
    job = JudgeJob(tmp_path, settings, held=tiny_heldout())  # its children find no teacher's seed
    job.add_worker()
    with pytest.raises(YganError, match=r"^fitting the quality judges failed: '.*' has no checkpoints/teacher"):
        job.result()
    assert not job.folder.exists()
    running = JudgeJob(tmp_path, settings, held=tiny_heldout())
    running.cancel()
    assert all(p.poll() is not None for p in running.processes) and not running.folder.exists()


@pytest.mark.slow
def test_too_little_held_out_data_is_recorded_not_fatal(bundle, tmp_path, monkeypatch):
    from reference_runtime.report_quality import load_quality
    from ygan import build_quality
    from ygan.build_judges import JudgeJob, JudgeSettings
    from ygan.build_stages import quality_numbers
    from ygan_mobile.mosaic import heldout

    def too_few(*args, **kwargs):
        raise YganError("theme stars: too few held-out tiles to teach and test the judge — raise data.theme_tiles")

    monkeypatch.setattr(heldout, "heldout", too_few)
    with pytest.raises(build_quality.NotMeasurable, match="too few held-out tiles"):
        build_quality.measure(bundle, JudgeJob(bundle, JudgeSettings(steps=1, retry_steps=0, count=1, side=64)), threads=1)
    build_quality.write_unavailable(tmp_path, "too few held-out tiles")
    assert quality_numbers(tmp_path) == {"skipped": "not measured: too few held-out tiles"}
    assert load_quality(tmp_path) is None  # the report leaves the section out


def _inputs(bundle: Path, stage: str) -> str:
    return json.loads((bundle / "build.json").read_text())["stages"][stage]["inputs_sha256"]


@pytest.mark.slow
def test_interrupted_build_resumes_the_unfinished_stage(bundle, tmp_path):
    out = tmp_path / "bundle"
    args = argv(out, 'convert.targets=["onnx"]')
    proc = subprocess.Popen([sys.executable, "-m", "ygan", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
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
        from ygan.build_config import flag_overrides

        flag_overrides(["a", "b"], None, "folder", None)


def test_a_bad_theme_folder_is_refused_before_anything_is_written(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "scan.png").write_bytes(b"not a png")
    for folder, message in [(tmp_path / "missing", "no such file or folder"), (empty, "the folder is empty"),
                            (broken, "scan.png")]:
        out = tmp_path / "bundle"
        assert main(["build", "-o", str(out), "--quiet", "--theme", "mine", "--data-b", str(folder)]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
        assert not out.exists()  # no build.json, no empty checkpoints/
