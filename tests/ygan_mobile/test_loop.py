"""The shared step/log/checkpoint loop: when it logs, saves, stops and what a resume forgets."""

import json
import os
import signal

from ygan_mobile.distributed import World
from ygan_mobile.loop import Schedule, cosine_decay, run_steps


def _run(tmp_path, start=0, steps=10, stop_at=None):
    saved, ran = [], []

    def step_fn(step):
        ran.append(step)
        if step == stop_at:
            os.kill(os.getpid(), signal.SIGINT)
        return {"loss": float(step)}

    end = run_steps(step_fn, saved.append, start=start, schedule=Schedule(steps, log_every=3, checkpoint_every=4),
                    log_path=tmp_path / "log.jsonl", world=World(), desc="t", headline="loss", progress=False)
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    return end, saved, ran, lines


def test_logs_every_n_and_the_last_step_and_saves_only_intermediate_checkpoints(tmp_path):
    end, saved, ran, lines = _run(tmp_path)
    assert end.step == 10 and ran == list(range(10))
    assert [r["step"] for r in lines] == [2, 5, 8, 9]
    assert [r["loss"] for r in lines] == [2.0, 5.0, 8.0, 9.0]
    assert saved == [4, 8]  # step 10 is the caller's final checkpoint


def test_ctrl_c_stops_after_a_whole_step(tmp_path):
    # a known handler first: a job started in the background (nohup, &) inherits SIGINT ignored
    found = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        end, saved, ran, _ = _run(tmp_path, stop_at=5)
        assert end.step == 6 and ran == list(range(6)) and saved == [4]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the loop put back what it found
    finally:
        signal.signal(signal.SIGINT, found)


def test_a_resume_forgets_log_lines_the_checkpoint_does_not_hold(tmp_path):
    _run(tmp_path)
    end, saved, ran, lines = _run(tmp_path, start=4, steps=12)
    assert ran == list(range(4, 12)) and saved == [8]
    assert [r["step"] for r in lines] == [2, 5, 8, 11]


def test_cosine_decay_runs_from_one_to_final():
    assert cosine_decay(0, 100, 0.1) == 1.0
    assert abs(cosine_decay(50, 100, 0.1) - 0.55) < 1e-12
    assert abs(cosine_decay(100, 100, 0.1) - 0.1) < 1e-12
    assert cosine_decay(150, 100, 0.1) == cosine_decay(100, 100, 0.1)
