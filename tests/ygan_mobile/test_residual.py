"""The restoration model's skip (ModelConfig.residual): the patch model starts as the identity and
learns a correction; an art model has no skip and is the plain G(E(x))."""

from __future__ import annotations

import pytest
import torch

from ygan_mobile.config import RESTORE_PRESETS, Config, load_preset, teacher_tables
from ygan_mobile.losses import paired_loss
from ygan_mobile.models import ModelConfig, YGan, patch_output
from ygan_mobile.train import start_generators_from_decoder


def _model(residual: bool) -> YGan:
    torch.manual_seed(0)
    return YGan.create(ModelConfig(8, 16, 8, residual=residual), ["superres"])


def test_a_residual_patch_model_is_the_identity_at_init_and_after_the_decoder_copy():
    model = _model(True)
    x = torch.rand(5, 3, 8, 8) * 2 - 1
    with torch.no_grad():
        assert torch.equal(model.patch_model("superres")(x), x)
        start_generators_from_decoder(model)  # the warm-up's hand-over: the decoder's features, a zero correction
        assert torch.equal(model.generators["superres"].net[0].weight, model.decoder.net[0].weight)
        assert torch.equal(model.patch_model("superres")(x), x)
        assert model.decoder(model.encoder(x)).abs().max() > 0.01  # the decoder itself was not zeroed


def test_the_skip_clamps_the_sum_instead_of_squashing_it():
    x = torch.tensor([0.8, -0.2, -0.9, 0.3])
    g = torch.tensor([0.5, 0.5, -0.4, 0.0])
    assert torch.equal(patch_output(x, g, True), torch.tensor([1.0, 0.3, -1.0, 0.3]))
    assert torch.equal(patch_output(x, g, False), g)


def test_the_paired_loss_reaches_the_zeroed_layer_and_moves_the_output_off_the_identity():
    model = _model(True)
    gen = model.generators["superres"]
    x = torch.rand(4, 3, 8, 8) * 1.6 - 0.8
    y = x + 0.1
    loss = paired_loss(model.restored(x, gen(model.encoder(x))), y, x, "mse", 3e-5)
    loss.backward()
    assert gen.net[-2].bias.grad.abs().min() > 0.01  # d/db of the mean error: −2·0.1 per channel
    torch.optim.SGD(gen.parameters(), lr=0.5).step()
    with torch.no_grad():
        after = paired_loss(model.patch_model("superres")(x), y, x, "mse", 3e-5)
    assert after < loss.item() * 0.9


def test_an_art_model_has_no_skip():
    model = _model(False)
    x = torch.rand(3, 3, 8, 8) * 2 - 1
    gen = model.generators["superres"]
    assert gen.net[-2].weight.abs().max() > 0  # no zeroing without the skip
    with torch.no_grad():
        assert torch.equal(model.patch_model("superres")(x), gen(model.encoder(x)))


@pytest.mark.parametrize("name", ["quick", "full"] + [p + v for p in RESTORE_PRESETS for v in ("", "-full")])
def test_the_skip_is_on_in_the_restoration_presets_smoothed_for_denoising_and_off_in_the_art_ones(name):
    cfg = Config.from_dict(teacher_tables(load_preset(name)))
    assert cfg.model.residual == (cfg.data.task in ("superres", "deblur", "colorize", "denoise"))
    assert (cfg.model.skip_sigma > 0) == (cfg.data.task == "denoise")


def test_the_smoothing_is_a_gaussian_inside_the_patch_and_keeps_a_constant_patch():
    from scipy.ndimage import gaussian_filter

    from ygan_mobile.models import Smoothing

    smooth = Smoothing(16, 1.5)
    flat = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(smooth(flat), flat, atol=1e-6)  # the border divides by the weight the patch has
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    want = gaussian_filter(x.double().numpy(), (0, 0, 1.5, 1.5), truncate=3.0, mode="constant")
    inner = (slice(None), slice(None), slice(5, 11), slice(5, 11))  # ⌈3σ⌉ = 5 px from every side
    assert abs(smooth(x).double()[inner].numpy() - want[inner]).max() < 1e-6
    assert smooth(x)[:, :, 0].std() < x[:, :, 0].std() / 2  # the border row is smoothed too, not copied
    assert not any(p.requires_grad for p in smooth.parameters())


def test_a_smoothed_skip_starts_as_the_smoothed_input():
    from ygan_mobile.models import Smoothing

    torch.manual_seed(0)
    model = YGan.create(ModelConfig(16, 16, 8, residual=True, skip_sigma=1.5), ["denoise"])
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        want = Smoothing(16, 1.5)(x).clamp(-1, 1)
        assert torch.equal(model.patch_model("denoise")(x), want)
        start_generators_from_decoder(model)
        assert torch.equal(model.patch_model("denoise")(x), want)
        g = torch.full_like(x, 0.1)
        assert torch.allclose(model.restored(x, g), (want + 0.1).clamp(-1, 1))


def test_skip_sigma_needs_the_skip_and_the_student_inherits_it(tmp_path):
    from convert.source import load_networks
    from distill.config import DistillConfig
    from distill.train import student_config
    from ygan_mobile import checkpoint
    from ygan_mobile.config import apply_overrides
    from ygan_mobile.errors import YganError
    from ygan_mobile.models import Smoothing

    denoise = teacher_tables(load_preset("denoise"))
    with pytest.raises(YganError, match=r"skip_sigma = 1.5 smooths the skip .* set residual = true"):
        Config.from_dict(apply_overrides(denoise, ["model.residual=false", "model.skip_sigma=1.5"]))
    with pytest.raises(YganError, match=r"skip_sigma = -1.0 is out of range"):
        Config.from_dict(apply_overrides(denoise, ["model.residual=true", "model.skip_sigma=-1"]))
    cfg = Config.from_dict(apply_overrides(denoise, ["model.residual=true", "model.skip_sigma=2", "model.latent=16",
                                                     "model.width=8"]))
    student = student_config(cfg, DistillConfig.from_dict({}))
    assert (student.residual, student.skip_sigma) == (True, 2.0)
    path = checkpoint.save(tmp_path / "teacher" / "checkpoint.safetensors", YGan.create(cfg.model, ["denoise"]), {}, 0, cfg, {})
    net = load_networks(path)
    assert net.residual and isinstance(net.colour, Smoothing)
    assert net.colour.cols.kernel_size == (13, 1)  # 2·⌈3σ⌉ + 1 taps at σ = 2