"""`ygan distill` end to end on a tiny teacher: outputs, the student API, resume, bad input."""

import argparse
import json

import pytest
import torch
from safetensors.torch import load_file

from distill.checkpoint import load_student
from distill.command import add_distill_arguments, run_distill
from ygan_mobile.config import Config, apply_overrides, load_preset
from ygan_mobile.errors import YganError
from ygan_mobile.train import train

TEACHER = ["model.patch=16", "model.latent=16", "model.width=8", 'data.themes=["stars", "flowers"]',
           "data.theme_tiles=12", "train.steps=30", "train.warmup=10", "train.batch=8", "train.eval_patches=16",
           "train.checkpoint_every=100", "train.threads=1"]
STUDENT = ["student.width=4", "train.steps=40", "train.batch=8", "train.eval_patches=32", "train.checkpoint_every=20",
           "train.threads=1", "eval.frame=48", "eval.timing_repeats=1", "eval.sample_patches=4"]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_distill_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    out = tmp_path_factory.mktemp("teacher")
    train(Config.from_dict(apply_overrides(load_preset("quick"), TEACHER)), out, progress=False)
    return out


@pytest.mark.slow
def test_distill_writes_a_loadable_student_and_resumes(teacher, tmp_path, capsys):
    out = tmp_path / "student"
    sets = [a for s in STUDENT for a in ("--set", s)]
    assert run_distill(parse("--teacher", str(teacher), "--out", str(out), "--quiet", *sets, "--set", "train.steps=20")) == 0
    assert run_distill(parse("--teacher", str(teacher), "--out", str(out), "--quiet", "--resume", *sets)) == 0
    assert "distillation finished at step 40" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["step"] == 40
    assert metrics["cost"]["teacher"]["macs"] > metrics["cost"]["student"]["macs"]
    assert set(metrics["patch_psnr"]) == set(metrics["frame_psnr"]) == {"stars", "flowers"}
    assert metrics["timing"]["speedup"] > 0
    log = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert log == sorted(set(log)) and log[-1] == 39
    for theme in ("stars", "flowers"):
        assert (out / f"side_by_side_{theme}.png").stat().st_size > 0
        assert (out / f"patches_{theme}.png").stat().st_size > 0
    student, ckpt = load_student(out)
    assert ckpt.step == 40 and ckpt.cost == metrics["cost"] and ckpt.student.patch == 16
    with torch.no_grad():
        y = student.patch_model("stars")(torch.zeros(2, 3, 16, 16))
    assert y.shape == (2, 3, 16, 16) and y.abs().max() <= 1


@pytest.mark.slow
def test_resume_with_other_math_and_bad_teacher_are_refused(teacher, tmp_path):
    out = tmp_path / "student"
    sets = [a for s in STUDENT for a in ("--set", s)]
    run_distill(parse("--teacher", str(teacher), "--out", str(out), "--quiet", *sets, "--set", "train.steps=2"))
    with pytest.raises(YganError, match="cannot resume"):
        run_distill(parse("--teacher", str(teacher), "--out", str(out), "--quiet", "--resume", *sets, "--set", "train.lr=0.5"))
    with pytest.raises(YganError, match="not found"):
        run_distill(parse("--teacher", str(tmp_path / "nothing"), "--out", str(out)))
    with pytest.raises(YganError, match="not a ygan-mobile checkpoint|not a readable"):
        (tmp_path / "fake.safetensors").write_bytes(b"garbage")
        run_distill(parse("--teacher", str(tmp_path / "fake.safetensors"), "--out", str(out)))
    with pytest.raises(YganError, match="paired needs a restoration teacher"):
        run_distill(parse("--teacher", str(teacher), "--out", str(tmp_path / "paired"), *sets, "--set", "train.paired=1"))
    assert not (tmp_path / "paired").exists()


@pytest.mark.slow
def test_the_teacher_one_step_ahead_computes_what_one_thread_does(teacher, tmp_path):
    """Two threads split the cores (the teacher's forward one step ahead, distill.ahead): stopped at step
    20 and resumed, the student is bit for bit the one a single thread trains without running ahead."""
    sets = [a for s in STUDENT for a in ("--set", s)]
    for out, threads in ((tmp_path / "one", "1"), (tmp_path / "split", "2")):
        run_distill(parse("--teacher", str(teacher), "--out", str(out), "--quiet", *sets, "--set", f"train.threads={threads}",
                          "--set", "train.steps=20"))
        run_distill(parse("--teacher", str(teacher), "--out", str(out), "--quiet", "--resume", *sets, "--set", f"train.threads={threads}"))
    a, b = load_file(tmp_path / "one" / "student.safetensors"), load_file(tmp_path / "split" / "student.safetensors")
    assert a.keys() == b.keys() and len(a) > 10
    assert all(torch.equal(a[k], b[k]) for k in a)
