"""The build's one-screen summary says what a user must know about each stage's result."""

from __future__ import annotations

from ygan.build_summary import _result


def test_train_line_names_a_theme_whose_keys_were_spread():
    """A user's theme whose tiles' light was too narrow gets spread keys (docs/training.md "Narrow pools"):
    the summary says so, with how much of the photographs' light its own keys covered; a drawn theme's does not."""
    plain = _result("train", {"step": 200, "psnr_auto": 31.234}, None)
    assert plain == "teacher autoencoder PSNR 31.23 dB (step 200)"
    spread = _result("train", {"step": 200, "psnr_auto": 31.234, "spread_keys": {"numbers": 0.052}}, None)
    assert spread == plain + "; numbers: keys spread (its tiles' light covered 5% of the photographs')"


def test_distill_line_gives_a_restoration_students_gain_and_calls_out_one_that_gives_back_its_input():
    art = {"step": 20, "mac_ratio": 4.15, "param_ratio": 3.99}
    assert _result("distill", art, None) == "student 4.2× fewer MACs, 4.0× fewer params (step 20)"
    alive = _result("distill", {**art, "student_gain_min": 0.4976, "teacher_gain_min": 0.7343}, None)
    assert alive.endswith("; held-out patches +0.50 dB over the input (teacher +0.73)")
    dead = _result("distill", {**art, "student_gain_min": 1.3e-05, "teacher_gain_min": 0.7343}, None)
    assert dead.endswith("+0.00 dB over the input (teacher +0.73) — the student gives back its input")
