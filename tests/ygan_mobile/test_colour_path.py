"""The art models' fixed colour path (ColourPath): it carries the input's low-passed colour and no light,
and a teacher with it trains G on its patch model's output."""

from __future__ import annotations

import pytest
import torch

from ygan_mobile.config import Config, apply_overrides, load_preset, teacher_tables
from ygan_mobile.data.matching import luma
from ygan_mobile.errors import YganError
from ygan_mobile.models import ColourPath, ModelConfig, YGan


def test_the_path_carries_each_blocks_mean_colour_and_no_light():
    torch.manual_seed(0)
    path = ColourPath(16, 4)
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    x[0] = torch.tensor([0.6, -0.1, 0.2]).view(3, 1, 1)  # one flat colour
    got = path(x)
    assert got.shape == x.shape and got.abs().max() > 0.1
    assert luma(got).abs().max() < 1e-6  # chroma only: the light stays the generator's
    assert torch.allclose(got[0], x[0] - luma(x[0:1])[0], atol=1e-6)
    chroma = x - luma(x)
    block = chroma[:, :, 4:8, 8:12].mean((2, 3))  # the block at rows 4–7, columns 8–11
    assert torch.allclose(got[:, :, 5, 10], block, atol=1e-6) and torch.allclose(got[:, :, 7, 8], block, atol=1e-6)
    assert not torch.allclose(got[:, :, 3, 8], block, atol=1e-3)
    assert not any(p.requires_grad for p in path.parameters())
    with pytest.raises(ValueError, match="must divide the patch"):
        ColourPath(16, 3)


def test_a_teacher_with_the_path_emits_g_plus_the_colour_clamped():
    torch.manual_seed(0)
    model = YGan.create(ModelConfig(16, 16, 8, colour_block=2), ["a"])
    assert model.colour is not None and "colour" not in model.modules()  # nothing to learn or to save
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        generated = model.generators["a"](model.encoder(x))
        want = (generated + model.colour(x)).clamp(-1, 1)
        assert torch.equal(model.patch_model("a")(x), want)
        assert torch.equal(model.restored(x, generated), want)
    assert YGan.create(ModelConfig(16, 16, 8), ["a"]).colour is None


def test_the_warm_up_matches_the_patch_models_output_not_gs():
    """With the path, G's warm-up target is the theme-match target minus the input's colour: the loss
    the step records is the MSE of G + the path against the target, which a run without the path differs from."""
    from ygan_mobile.distributed import World
    from ygan_mobile.train import Nets, load_data, make_optimizers, train_step

    def first_step(*extra):
        cfg = Config.from_dict(apply_overrides(load_preset("quick"), [
            "model.patch=16", "model.latent=16", "model.width=8", 'data.themes=["flowers"]', "data.theme_tiles=12",
            "train.batch=8", "train.threads=1", *extra]))
        torch.manual_seed(0)
        model = YGan.create(cfg.model, list(cfg.data.themes))
        return train_step(model, Nets.of(model, World()), make_optimizers(model, cfg), load_data(cfg), 0, cfg), model

    plain, _ = first_step("model.colour_block=0")
    coloured, model = first_step("model.colour_block=2")
    assert coloured["theme_match.flowers"] != plain["theme_match.flowers"]
    assert coloured["loss_auto"] == plain["loss_auto"]  # the autoencoder never sees the path


def test_colour_block_is_checked():
    with pytest.raises(YganError, match=r"colour_block = -1 is out of range"):
        Config.from_dict(apply_overrides(load_preset("quick"), ["model.colour_block=-1"]))
    with pytest.raises(YganError, match=r"colour_block = 3 must divide the patch \(32\)"):
        Config.from_dict(apply_overrides(load_preset("quick"), ["model.colour_block=3"]))
    with pytest.raises(YganError, match="colour_block is for the art themes"):
        Config.from_dict(apply_overrides(teacher_tables(load_preset("superres2")), ["model.colour_block=2"]))
