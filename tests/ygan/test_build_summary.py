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
