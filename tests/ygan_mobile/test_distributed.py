"""Training under torchrun: 2 gloo processes on one machine against one process (docs/distributed.md).

The teacher has no normalisation layers, so sharding the global batch over ranks and averaging
gradients (DDP) is the same computation as one process on the whole batch, up to float rounding.
The student has BatchNorm, which on CPU normalises each rank's shard by itself (SyncBatchNorm needs
CUDA), so for distillation the test asks for identical ranks and a finished, resumable run.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import TINY_MODEL, toml_text
from ygan_mobile.checkpoint import load
from ygan_mobile.config import Config, apply_overrides, load_preset
from ygan_mobile.models import YGan
from ygan_mobile.train import train

HERE = Path(__file__).resolve().parent
TINY = [*TINY_MODEL, 'data.themes=["stars", "flowers"]', "data.theme_tiles=12",
        "train.warmup=4", "train.batch=8", "train.eval_patches=16", "train.log_every=2", "train.threads=1",
        "train.lr=1e-3"]


def torchrun(*args: str, n: int = 2) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}", *args]


def preset(tmp_path: Path, *extra: str) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(toml_text(apply_overrides(load_preset("quick"), TINY + list(extra))))
    return path


def weights(run: Path) -> dict[str, torch.Tensor]:
    return {k: v for k, v in load_file(str(run / "checkpoint.safetensors")).items() if k.startswith("model.")}


@pytest.mark.slow
def test_ranks_stay_identical_and_match_one_process(tmp_path):
    steps = 12  # past warmup: the critics' gradient penalty and the generators run under DDP too
    probe = tmp_path / "probe.json"
    done = subprocess.run(torchrun(str(HERE / "ddp_probe.py"), str(probe), str(steps), "train", *TINY), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(probe.read_text())
    assert result["ranks"] == 2 and result["spread"] == 0.0  # every rank holds the same weights

    cfg = preset(tmp_path, f"train.steps={steps}", f"train.checkpoint_every={steps}")
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    one = subprocess.run([sys.executable, "-m", "ygan", "train", "--preset", str(cfg), "--out", str(single), "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run(torchrun("-m", "ygan", "train", "--preset", str(cfg), "--out", str(ddp), "--quiet"),
                         capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = weights(single), weights(ddp)
    assert a.keys() == b.keys()
    diff = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert diff < 1e-4, f"2 ranks vs 1 process: max abs weight difference {diff:.3g}"
    start = initial_weights(f"train.steps={steps}")
    assert max(float((b[k] - start[k]).abs().max()) for k in b) > 1e-3  # and they did train


def initial_weights(*extra: str) -> dict[str, torch.Tensor]:
    cfg = Config.from_dict(apply_overrides(load_preset("quick"), TINY + list(extra)))
    torch.manual_seed(cfg.train.seed)
    model = YGan.create(cfg.model, list(cfg.data.themes))
    return {f"model.{name}.{k}": v for name, m in model.modules().items() for k, v in m.state_dict().items()}


@pytest.mark.slow
def test_two_ranks_stopped_midway_resume_as_one_process(tmp_path):
    cfg = preset(tmp_path, "train.steps=400", "train.checkpoint_every=5")
    out = tmp_path / "run"
    proc = subprocess.Popen(torchrun("-m", "ygan", "train", "--preset", str(cfg), "--out", str(out), "--quiet"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (out / "checkpoint.safetensors").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)  # torchrun passes it on to both ranks
    proc.communicate(timeout=120)
    stopped = load(out).step
    assert 0 < stopped < 400, "the stop must land mid-run"
    done = subprocess.run([sys.executable, "-m", "ygan", "train", "--preset", str(cfg), "--out", str(out),
                           "--resume", "--quiet"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((out / "metrics.json").read_text())["step"] == 400


STUDENT = ["student.width=4", "train.batch=8", "train.eval_patches=16", "train.threads=1", "eval.frame=32",
           "eval.timing_repeats=1", "eval.sample_patches=4"]


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    out = tmp_path_factory.mktemp("teacher")
    train(Config.from_dict(apply_overrides(load_preset("quick"), TINY + ["train.steps=8", "train.checkpoint_every=100"])),
          out, progress=False)
    return out


@pytest.mark.slow
def test_distillation_ranks_stay_identical(teacher, tmp_path):
    probe = tmp_path / "probe.json"
    done = subprocess.run(torchrun(str(HERE / "ddp_probe.py"), str(probe), "6", "distill", str(teacher), *STUDENT),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(probe.read_text())
    assert result["ranks"] == 2 and result["count"] > 1000 and result["spread"] == 0.0


@pytest.mark.slow
def test_distillation_on_two_ranks_resumes_on_one(teacher, tmp_path):
    out = tmp_path / "student"
    sets = [a for s in STUDENT for a in ("--set", s)]
    two = subprocess.run(torchrun("-m", "ygan", "distill", "--teacher", str(teacher), "--out", str(out), "--quiet",
                                  *sets, "--set", "train.steps=6", "--set", "train.checkpoint_every=3"),
                         capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stdout.count("distillation finished at step 6") == 1  # one summary, from rank 0
    assert [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()][-1] == 5
    one = subprocess.run([sys.executable, "-m", "ygan", "distill", "--teacher", str(teacher), "--out", str(out),
                          "--quiet", "--resume", *sets, "--set", "train.steps=10"], capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["step"] == 10 and set(metrics["patch_psnr"]) == {"stars", "flowers"}
