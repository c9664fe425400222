"""`ygan bench` on a tiny bundle: one row per backend present, sane times, ratios derived from rows."""

from __future__ import annotations

import itertools
import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from convert.bundle import convert
from convert.options import Options
from convert.source import load_networks
from distill.config import build as distill_config
from distill.train import distill
from ygan.bench import multiscale_settings
from ygan.bench_timing import CallTimer, Contender, measure
from ygan.cli import main
from ygan_mobile.config import Config, apply_overrides, load_preset
from ygan_mobile.errors import YganError
from ygan_mobile.train import train

TEACHER = ["model.patch=16", "model.latent=16", "model.width=8", 'data.themes=["stars"]', "data.theme_tiles=12",
           "train.steps=20", "train.warmup=10", "train.batch=8", "train.eval_patches=16", "train.checkpoint_every=100",
           "train.threads=1"]
STUDENT = ["student.width=4", "train.steps=10", "train.batch=8", "train.eval_patches=16", "train.threads=1",
           "eval.frame=48", "eval.timing_repeats=1", "eval.sample_patches=4"]
TFLITE = ["fp32", "fp16", "int8-dynamic", "int8-full"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """The layout `ygan build` makes, built stage by stage with tiny settings."""
    out = tmp_path_factory.mktemp("bench") / "bundle"
    train(Config.from_dict(apply_overrides(load_preset("quick"), TEACHER)), out / "checkpoints/teacher", progress=False)
    distill(out / "checkpoints/teacher", distill_config("quick", STUDENT), out / "checkpoints/student", progress=False)
    convert(load_networks(out / "checkpoints/student"), out,
            Options(targets=["onnx", "tflite"], precisions=TFLITE, batch=4, calibration=16, golden=4))
    return out


def bench(bundle: Path, *extra: str) -> int:
    return main(["bench", str(bundle), "--frames", "40x24", "--repeats", "1", "--warmup", "0", "--threads", "1",
                 "--quiet", *extra])


@pytest.mark.slow
def test_bench_times_every_backend_and_derives_ratios_from_rows(bundle, capsys):
    assert bench(bundle) == 0
    doc = json.loads((bundle / "bench.json").read_text())
    v2 = {(r["backend"], r["model"], r["precision"]): r for r in doc["rows"] if r["sampling"] == "multiscale"}
    assert set(v2) == {("litert", "student", "int8-full"), ("numpy", "identity", "-")}  # spec v2 at the default budget
    assert all(r["budget"] == 512 and 1 <= r["patches"] <= 512 and r["convert_ms"] > 0 for r in v2.values())
    rows = {(r["backend"], r["model"], r["precision"]): r for r in doc["rows"] if r["sampling"] == "grid"}
    expected = {("pytorch", "teacher", "fp32"), ("pytorch", "student", "fp32"), ("pytorch", "identity", "-"),
                ("onnxruntime", "student", "fp32"), ("numpy", "identity", "-")} | {("litert", "student", p) for p in TFLITE}
    assert set(rows) == expected and len(doc["rows"]) == len(expected) + len(v2)
    for r in rows.values():
        assert r["frame"] == "40x24" and r["threads"] == 1 and r["patches"] == 3 * 2  # 40: 0,16,24  24: 0,8
    for r in doc["rows"]:
        assert 0 < r["median_ms"] <= r["p90_ms"] < 60_000
        assert r["fps"] == pytest.approx(1e3 / r["median_ms"])
        assert 0 <= r["overhead_ms"] <= r["median_ms"] and 0 <= r["overhead_share"] <= 1
        assert len(r["times_ms"]) == 1
        if r["backend"] == "pytorch":  # the torch pipeline does not clock its conversion apart
            assert r["convert_ms"] is None and r["tiling_ms"] is None
        else:
            assert r["convert_ms"] > 0 and r["tiling_ms"] >= 0
            assert r["convert_ms"] + r["tiling_ms"] == pytest.approx(r["overhead_ms"], rel=0.05, abs=0.05)
    assert rows[("numpy", "identity", "-")]["overhead_share"] > 0.9  # all of an identity frame is pipeline
    manifest = json.loads((bundle / "manifest.json").read_text())
    int8 = next(a for a in manifest["artifacts"] if a["path"] == rows[("litert", "student", "int8-full")]["artifact"])
    assert rows[("litert", "student", "int8-full")]["size_bytes"] == int8["size"]
    assert rows[("pytorch", "student", "fp32")]["macs"] == int8["macs"]
    assert rows[("pytorch", "teacher", "fp32")]["macs"] > int8["macs"]

    by_key = {r["key"]: r for r in doc["rows"]}
    assert set(doc["ratios"]) == {"student_int8_litert_vs_teacher_pytorch_fps", "student_pytorch_vs_teacher_pytorch_fps",
                                  "int8_full_vs_fp32_litert_fps", "int8_dynamic_vs_fp32_litert_fps",
                                  "fp16_vs_fp32_litert_fps", "overhead_share_int8_litert",
                                  "tiling_blending_share_int8_litert", "convert_share_int8_litert",
                                  "overhead_share_int8_litert_multiscale", "multiscale_vs_grid_int8_litert_fps"}
    shares = {"overhead_share_int8_litert": "overhead_share", "tiling_blending_share_int8_litert": "tiling_share",
              "convert_share_int8_litert": "convert_share", "overhead_share_int8_litert_multiscale": "overhead_share"}
    for name, ratio in doc["ratios"].items():
        used = [by_key[k] for k in ratio["rows"]]
        want = used[0][shares[name]] if name in shares else used[0]["fps"] / used[1]["fps"]
        assert ratio["value"] == pytest.approx(want) and ratio["frame"] == "40x24" and ratio["threads"] == 1
    assert rows[("litert", "student", "int8-full")]["key"] in doc["ratios"]["student_int8_litert_vs_teacher_pytorch_fps"]["rows"]

    from reference_runtime.cpu import cpu_description

    here = cpu_description()
    assert doc["machine"]["cpu"] == here["model"] and doc["machine"]["isa"] == here["isa"]
    assert doc["machine"]["xnnpack_amx"] == ("available" if "amx_int8" in here["isa"] else "absent")
    assert doc["machine"]["packages"]["ai-edge-litert"] and "onnx2tf" in doc["machine"]["packages"]
    table = (bundle / "bench.md").read_text()
    assert f"{here['model']} (ISA: " in table and f"ai-edge-litert {doc['machine']['packages']['ai-edge-litert']}" in table
    assert sum(line.startswith("| 40x24 |") for line in table.splitlines()) == len(expected) + len(v2)
    assert "| int8-full, multiscale N=512 |" in table
    assert (bundle / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and doc["plot"] == "bench.png"
    assert "student_int8_litert_vs_teacher_pytorch_fps" in capsys.readouterr().out


@pytest.mark.slow
def test_bench_without_a_teacher_checkpoint_says_so(bundle, tmp_path, capsys):
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy, ignore=shutil.ignore_patterns("teacher", "bench.*"))
    assert bench(copy, "--stride", "8") == 0
    doc = json.loads((copy / "bench.json").read_text())
    assert not any(r["model"] == "teacher" for r in doc["rows"])
    assert "student_int8_litert_vs_teacher_pytorch_fps" not in doc["ratios"]
    assert any("no PyTorch teacher row" in n for n in doc["notes"])
    assert doc["stride"] == 8 and all(r["patches"] == 4 * 2 for r in doc["rows"] if r["sampling"] == "grid")  # 40: 0,8,16,24  24: 0,8


@pytest.mark.slow
def test_bench_no_torch_leaves_out_the_pytorch_models(bundle, tmp_path, capsys):
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy, ignore=shutil.ignore_patterns("bench.*"))
    assert bench(copy, "--no-torch", "--teacher", str(copy / "checkpoints" / "teacher")) == 2
    assert "--no-torch times no PyTorch model" in capsys.readouterr().err and not (copy / "bench.json").exists()
    assert bench(copy, "--no-torch") == 0
    doc = json.loads((copy / "bench.json").read_text())
    assert {r["model"] for r in doc["rows"] if r["backend"] == "pytorch"} == {"identity"}
    assert any(r["backend"] == "litert" and r["precision"] == "int8-full" for r in doc["rows"])
    assert "no PyTorch teacher or student row (--no-torch)" in doc["notes"]


@pytest.mark.slow
def test_a_budget_spec_v2_cannot_run_is_one_line_before_any_timing(bundle, tmp_path, capsys):
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy, ignore=shutil.ignore_patterns("bench.*"))
    assert bench(copy, "--budget", "0") == 2
    assert "--budget 0: budget 0 must be at least 1 cell per frame" in capsys.readouterr().err
    assert not (copy / "bench.json").exists()


def test_a_restoration_bundle_gets_no_spec_v2_rows_and_refuses_a_budget():
    notes: list[str] = []
    assert multiscale_settings(None, 8, "superres", notes) is None
    assert notes == ["no spec v2 rows: 'superres' is a restoration task, rendered on the grid"]
    with pytest.raises(YganError, match="restoration bundle \\('denoise'\\) does not use"):
        multiscale_settings(512, 16, "denoise", [])
    art: list[str] = []
    assert multiscale_settings(None, 32, "flowers", art).budget == 512 and art == []


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux" or platform.machine() != "x86_64", reason="AMX permission is Linux x86-64")
def test_bench_without_amx_records_it_in_the_machine_and_the_table(bundle, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy, ignore=shutil.ignore_patterns("bench.*"))
    args = ["bench", str(copy), "--frames", "40x24", "--repeats", "1", "--warmup", "0", "--threads", "1", "--quiet",
            "--without-amx"]
    # a child process: the seccomp filter that denies AMX lasts as long as the process
    subprocess.run([sys.executable, "-m", "ygan", *args], capture_output=True, text=True, check=True)
    doc = json.loads((copy / "bench.json").read_text())
    assert doc["machine"]["xnnpack_amx"] == "denied"
    assert any("--without-amx" in n for n in doc["notes"])
    assert "XNNPACK's AMX kernels denied (--without-amx)" in (copy / "bench.md").read_text()
    assert any(r["backend"] == "litert" and r["precision"] == "int8-full" for r in doc["rows"])


def test_bad_bench_input_is_one_clear_error(tmp_path, capsys):
    assert main(["bench", str(tmp_path / "missing")]) == 2
    assert "has no manifest.json" in capsys.readouterr().err
    for flags, message in [(["--frames", "big"], "not N or WxH"), (["--threads", "0"], "≥ 1"),
                           (["--frames", "0x5"], "between 1 and 8192")]:
        assert main(["bench", str(tmp_path), *flags]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "bench.json").exists()


def test_cpu_description_names_the_int8_isa_flags_of_x86_and_arm():
    from reference_runtime.cpu import cpu_description

    x86 = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8481C\nflags\t\t: fpu sse avx2 fma avx512f avx512_vnni amx_tile amx_int8 avx_vnni\n"
    assert cpu_description(x86) == {"model": "Intel(R) Xeon(R) Platinum 8481C",
                                    "isa": ["avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile", "amx_int8"]}
    arm = "processor\t: 0\nFeatures\t: fp asimd evtstrm asimddp i8mm\nHardware\t: Qualcomm Technologies, Inc SM8550\n"
    assert cpu_description(arm) == {"model": "Qualcomm Technologies, Inc SM8550", "isa": ["asimd", "asimddp", "i8mm"]}


def test_each_timed_frame_follows_at_least_the_settling_time_of_its_own_frames():
    """A fast row must not be timed right after another runtime's work (whose workers still spin):
    every visit renders untimed frames for `settle` seconds first, not one frame."""
    log: list[str] = []

    def contender(name: str) -> Contender:
        def render(frame, timer):
            log.append(name)
            time.sleep(0.005)
        return Contender(name, render, CallTimer(lambda x: x))

    samples = measure([contender("a"), contender("b")], np.zeros((4, 4, 3), np.uint8), warmup=0, repeats=3, settle=0.03)
    runs = [len(list(g)) for _, g in itertools.groupby(log)]
    assert len(runs) == 6 and min(runs) >= 3, runs  # ≥ 2 settling frames + the timed one per visit (30 ms of 5 ms frames)
    assert all(len(s.frame) == 3 and min(s.frame) >= 0.005 for s in samples.values())
