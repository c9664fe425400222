"""Restoration tasks: the degradations, the degraded/clean pairing, the baselines, the quality
metrics and the config rules, each checked on values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from reference_runtime import metrics
from ygan_mobile.config import RESTORE_PRESETS, Config, apply_overrides, load_preset, teacher_tables
from ygan_mobile.data import NamedImage, domain_a, load_photos, restoration_target
from ygan_mobile.data.degrade import Degradation, blur, greyscale
from ygan_mobile.data.restoration import has_colour
from ygan_mobile.errors import YganError
from ygan_mobile.losses import chroma_loss, paired_loss
from ygan_mobile.restore import baselines
from ygan_mobile.restore.colourfulness import colourfulness


def photo(name: str = "astronaut") -> np.ndarray:
    return next(i.pixels for i in load_photos() if i.name == name)


def test_greyscale_is_pillows_bt601_luma():
    rgb = photo()[:64, :64]
    grey = greyscale(rgb)
    expected = np.asarray(Image.fromarray(rgb).convert("L")).astype(int)
    assert np.abs(grey[..., 0].astype(int) - expected).max() <= 1
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()


def test_blur_keeps_flat_images_and_matches_its_psf():
    assert (blur(np.full((20, 20, 3), 77, np.uint8), 2.0) == 77).all()
    psf = baselines.gaussian_psf(2.0)
    assert psf.shape == (17, 17) and math.isclose(psf.sum(), 1.0, rel_tol=1e-9)
    impulse = np.zeros((41, 41, 3), np.uint8)
    impulse[20, 20] = 255
    assert np.abs(blur(impulse, 2.0)[12:29, 12:29, 0] - 255 * psf).max() <= 0.5 + 1e-9


def test_superres_input_is_bicubic_down_and_up():
    d = Degradation("superres", scale=4)
    clean = d.crop(photo()[:67, :70])
    assert clean.shape[:2] == (64, 68)
    low = np.asarray(Image.fromarray(clean).resize((17, 16), Image.Resampling.BICUBIC))
    up = np.asarray(Image.fromarray(low).resize((68, 64), Image.Resampling.BICUBIC))
    assert np.array_equal(d.fixed_part(clean), up)


def test_noise_has_the_documented_sigma():
    d = Degradation("denoise", noise_sigma=25.0)
    grey = np.full((200, 200, 3), 128, np.uint8)
    noisy = d.apply(grey, np.random.default_rng(0)).astype(float) - 128
    assert abs(noisy.std() - 25.0) < 0.5 and abs(noisy.mean()) < 0.5


@pytest.mark.parametrize("kw, message", [(dict(task="sharpen"), "unknown restoration task"),
                                         (dict(task="denoise", noise_sigma=0), "must be > 0"),
                                         (dict(task="superres", scale=1), "≥ 2")])
def test_bad_degradation_is_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        Degradation(**kw)


@pytest.mark.parametrize("task", ["colorize", "deblur", "superres"])
def test_degraded_and_clean_batches_are_the_same_crops(task):
    """Patch k of the degraded batch is the degraded patch k of the clean batch: for colourisation
    exactly its luma, for blur and super-resolution close to it (they mix in pixels beyond the crop)."""
    d = Degradation(task)
    a, b = domain_a(16, 3, 0.25, degradation=d), restoration_target(16, 3, 0.25, d)
    assert a.train.names == b.train.names and a.heldout.names == b.heldout.names
    x, y = a.train.batch(5, 32), b.train.batch(5, 32)
    if task == "colorize":
        luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        expected = ((y + 1) * 127.5 * luma).sum(1, keepdim=True)
        assert ((x[:, :1] + 1) * 127.5 - expected).abs().max() <= 0.51
    else:
        other = b.train.batch(6, 32)
        assert (x - y).pow(2).mean() < 0.25 * (x - other).pow(2).mean()


def test_denoise_pairs_differ_by_fresh_noise_and_heldout_noise_is_fixed():
    d = Degradation("denoise")
    a, b = domain_a(16, 3, 0.25, degradation=d), restoration_target(16, 3, 0.25, d)
    residual = (a.train.batch(2, 64) - b.train.batch(2, 64)) * 127.5
    assert 22 < residual.std().item() < 26
    assert not torch.equal(a.train.batch(2, 64) - b.train.batch(2, 64), a.train.batch(3, 64) - b.train.batch(3, 64))
    assert torch.equal(a.heldout.fixed(8), a.heldout.fixed(8))
    assert torch.equal(a.train.fixed(32)[:8], a.train.fixed(8))


def test_colourisation_drops_greyscale_photos():
    grey = NamedImage("grey", greyscale(photo()))
    assert has_colour(photo()) and not has_colour(grey.pixels)


def test_paired_loss_is_the_mean_squared_error():
    x, y = torch.zeros(2, 3, 4, 4), torch.full((2, 3, 4, 4), 0.5)
    assert paired_loss(x, y, x, "mse", 3e-5).item() == pytest.approx(0.25)


def _two_patches(harm: float, help_: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Patch 0's input is exact and the output adds `harm` to it; patch 1's input is 0.1 off and the
    output removes `help_` of that error: (restored, clean, degraded)."""
    clean = torch.zeros(2, 3, 4, 4)
    degraded = torch.stack([torch.zeros(3, 4, 4), torch.full((3, 4, 4), 0.1)])
    restored = torch.stack([torch.full((3, 4, 4), harm), torch.full((3, 4, 4), 0.1 - help_)])
    return restored, clean, degraded


def test_the_relative_paired_loss_divides_each_patch_by_its_input_error():
    restored, clean, degraded = _two_patches(0.01, 0.05)
    value = paired_loss(restored, clean, degraded, "relative", 1e-4)
    assert value.item() == pytest.approx((0.01**2 / 1e-4 + 0.05**2 / (0.1**2 + 1e-4)) / 2, rel=1e-5)
    assert paired_loss(degraded, clean, degraded, "relative", 1e-4).item() == pytest.approx(0.1**2 / (0.1**2 + 1e-4) / 2, rel=1e-5)


def test_the_log_paired_loss_is_the_mean_log_patch_error():
    restored, clean, degraded = _two_patches(0.01, 0.05)
    value = paired_loss(restored, clean, degraded, "log", 1e-4)
    assert value.item() == pytest.approx((math.log(0.01**2 + 1e-4) + math.log(0.05**2 + 1e-4)) / 2, rel=1e-5)


def test_harming_an_exact_patch_costs_the_weighted_forms_what_the_mean_error_overlooks():
    """One level of harm on the exact patch, against helping the bad one a little less: the plain mean
    prefers the harmful output, the per-patch forms the harmless one."""
    level = 2 / 255
    harmful = _two_patches(level, 0.06)
    harmless = _two_patches(0.0, 0.05)
    assert paired_loss(*harmful, "mse", 3e-5) < paired_loss(*harmless, "mse", 3e-5)
    for form in ("relative", "log"):
        assert paired_loss(*harmful, form, 3e-5) > paired_loss(*harmless, form, 3e-5)


def test_an_unknown_paired_form_is_refused():
    with pytest.raises(ValueError, match="'huber' is not one of mse, relative, log"):
        paired_loss(*_two_patches(0.0, 0.0), "huber", 3e-5)


def _flat(r: float, g: float, b: float) -> torch.Tensor:
    return torch.tensor([r, g, b]).view(1, 3, 1, 1).expand(1, 3, 2, 2)


def test_the_chroma_loss_compares_each_patches_rms_opponent_chroma():
    """rg = R − G, yb = (R + G)/2 − B: a red patch (0.5, 0, 0) has rg 0.5, yb 0.25, RMS √0.3125;
    a grey one 0. The loss is the squared difference of the two RMS values, averaged over patches."""
    red, grey = _flat(0.5, 0.0, 0.0), _flat(0.2, 0.2, 0.2)
    assert chroma_loss(grey, red, eps=0.0).item() == pytest.approx(0.3125, rel=1e-6)
    # Another hue at the same saturation costs nothing: the term prices saturation, not hue.
    assert chroma_loss(_flat(0.0, 0.5, 0.0), red, eps=0.0).item() == pytest.approx(0.0, abs=1e-12)
    # Half the saturation costs a quarter: (√0.3125 − √0.3125/2)².
    two = torch.cat([_flat(0.25, 0.0, 0.0), grey])
    assert chroma_loss(two, torch.cat([red, grey]), eps=0.0).item() == pytest.approx(0.3125 / 4 / 2, rel=1e-6)


def test_the_chroma_loss_pushes_a_faint_tint_toward_the_clean_saturation():
    faint = (_flat(0.05, 0.0, 0.0) + 0).requires_grad_(True)
    chroma_loss(faint, _flat(0.5, 0.0, 0.0)).backward()
    assert faint.grad[0, 0].mean() < 0 < faint.grad[0, 1].mean()  # more red, less green: more saturated
    grey = _flat(0.2, 0.2, 0.2).clone().requires_grad_(True)
    loss = chroma_loss(grey, _flat(0.5, 0.0, 0.0))
    loss.backward()
    assert torch.isfinite(grey.grad).all()  # differentiable at grey, where the skip starts


def psnr_u8(out: np.ndarray, truth: np.ndarray) -> float:
    return metrics.psnr(out, truth, data_range=255.0)


def test_colourfulness_values():
    assert colourfulness(greyscale(photo())) == 0.0
    assert colourfulness(photo()) > 20


@pytest.mark.parametrize("task, gain", [("denoise", 4.0), ("deblur", 0.5)])
def test_every_baseline_improves_on_its_degraded_input(task, gain):
    """Degraded whole, cropped, scored away from the crop's edge (Wiener deconvolution treats the
    crop as periodic)."""
    d = Degradation(task)
    inner = (slice(16, -16), slice(16, -16))
    clean = photo()[100:228, 100:228]
    degraded = d.apply(photo(), np.random.default_rng(1))[100:228, 100:228]
    before = psnr_u8(degraded[inner], clean[inner])
    for name, run in baselines.baselines(d).items():
        after = psnr_u8(run(degraded)[inner], clean[inner])
        assert after > before + (1.0 if "median" in name else gain), (name, before, after)


@pytest.mark.parametrize("name", RESTORE_PRESETS + tuple(f"{n}-full" for n in RESTORE_PRESETS))
def test_restoration_presets_load_with_a_bundle_config(name):
    from ygan.build_config import resolve

    raw = load_preset(name)
    cfg = Config.from_dict(teacher_tables(raw))
    assert cfg.data.themes == [cfg.data.task] and cfg.train.paired > 0
    assert set(raw["distill"]) == {"student", "train", "eval"} and "convert" in raw
    assert resolve(name, []).teacher == cfg


@pytest.mark.parametrize("sets, message", [(['data.themes=["flowers"]'], "named after its task"),
                                           (['data.data_b="x"'], "not data.data_b"),
                                           (['data.task="sharpen"'], "unknown restoration task")])
def test_restoration_config_errors(sets, message):
    with pytest.raises(YganError, match=message):
        Config.from_dict(apply_overrides(teacher_tables(load_preset("denoise")), sets))


def test_distill_reads_a_restoration_presets_distill_tables():
    from distill.config import build

    assert build("denoise", ["train.steps=7"]).train.steps == 7
    assert build("superres2-full", []).student.width == load_preset("superres2-full")["distill"]["student"]["width"]
