"""Each loss against its formula on tiny hand-computed tensors, and one step lowers each loss."""

import math

import pytest
import torch
from torch import nn

from ygan_mobile import losses
from ygan_mobile.models import Critic, Encoder, Generator, ModelConfig


def test_autoencoder_loss_is_mean_squared_error():
    x = torch.tensor([[1.0, -1.0], [0.5, 0.0]])
    r = torch.tensor([[0.0, -1.0], [0.5, 1.0]])
    assert losses.autoencoder_loss(x, r).item() == pytest.approx((1 + 0 + 0 + 1) / 4)


def test_generator_loss_formula():
    d_fake = torch.tensor([2.0, 4.0])
    z = torch.tensor([[1.0, 2.0]])
    zc = torch.tensor([[0.0, 0.0]])
    # −mean(D(G(z))) + λ·mean((z − E(G(z)))²) / mean(z²) = −3 + 0.5·2.5/2.5
    assert losses.generator_loss(d_fake, z, zc, 0.5).item() == pytest.approx(-3 + 0.5)
    assert losses.cycle_loss(z, torch.tensor([[1.0, 1.0]])).item() == pytest.approx(0.5 / 2.5)


def test_critic_loss_formula():
    d_fake, d_real = torch.tensor([1.0, 3.0]), torch.tensor([5.0, 7.0])
    assert losses.critic_loss(d_fake, d_real, torch.tensor(0.25), 10.0).item() == pytest.approx(2 - 6 + 2.5)


class Linear1(nn.Module):
    """D(x) = w·x summed: its input gradient is w everywhere, so the penalty is (‖w‖·√(n/len) − 1)²."""

    def __init__(self, w: float):
        super().__init__()
        self.w = w

    def forward(self, x):
        return (self.w * x).flatten(1).sum(1)


def test_gradient_penalty_formula():
    real, fake = torch.ones(2, 1, 2, 2), torch.zeros(2, 1, 2, 2)
    alpha = torch.tensor([0.3, 0.9])
    # ∇ of w·Σx is w at every of the 4 pixels: norm 2|w|
    assert losses.gradient_penalty(Linear1(0.5), real, fake, alpha).item() == pytest.approx((2 * 0.5 - 1) ** 2)
    assert losses.gradient_penalty(Linear1(2.0), real, fake, alpha).item() == pytest.approx((4 - 1) ** 2)


CFG = ModelConfig(patch=8, latent=16, width=8)


def _step(params, loss_fn):
    opt = torch.optim.Adam(params, lr=1e-3)
    before = loss_fn()
    opt.zero_grad()
    before.backward()
    opt.step()
    return before.item(), loss_fn().item()


def test_one_step_lowers_each_loss():
    torch.manual_seed(0)
    enc, dec, gen, critic = Encoder(CFG), Generator(CFG), Generator(CFG), Critic(CFG)
    for m in (dec, gen):
        m.eval()  # fixed batch-norm statistics so the loss is a function of the weights only
    x = torch.rand(16, 3, 8, 8) * 2 - 1
    y = torch.rand(16, 3, 8, 8) * 2 - 1
    alpha = torch.rand(16)

    before, after = _step([*enc.parameters(), *dec.parameters()], lambda: losses.autoencoder_loss(x, dec(enc(x))))
    assert after < before

    z = enc(x).detach()
    fake = gen(z).detach()
    before, after = _step(list(critic.parameters()), lambda: losses.critic_loss(
        critic(fake), critic(y), losses.gradient_penalty(critic, y, fake, alpha), 10.0))
    assert after < before

    before, after = _step(list(gen.parameters()), lambda: losses.generator_loss(critic(gen(z)), z, enc(gen(z)), 1.0))
    assert after < before
    assert math.isfinite(after)


def test_theme_match_finds_the_tile_lit_like_the_patch():
    """y*(x) is the training tile whose coarse light is nearest x's (data.matching)."""
    import numpy as np

    from ygan_mobile.data.matching import ThemePool, coarse_light
    from ygan_mobile.data.patches import PatchSampler, PatchSplit
    from ygan_mobile.data.photos import NamedImage

    def tile(name, value, half):  # dark tile with a bright left or top half
        px = np.full((8, 8, 3), value, np.uint8)
        if half == "left":
            px[:, :4] = 250
        else:
            px[:4] = 250
        return NamedImage(name, px)

    images = (tile("a", 10, "left"), tile("b", 10, "top"))
    pool = ThemePool.of(PatchSplit(PatchSampler(images, 8, 0), PatchSampler(images, 8, 0)), cells=2)
    assert pool.tiles.shape == (4, 3, 8, 8)  # both tiles and their mirror images
    x = torch.full((2, 3, 8, 8), -0.9)
    x[0, :, :4, :] = 0.9  # bright top → tile b
    x[1, :, :, 4:] = 0.9  # bright right → the mirror image of tile a
    matched = pool.match(x)
    assert torch.equal(coarse_light(matched[0:1], 2), coarse_light(pool.tiles[1:2], 2))
    assert matched[1, 0, 0, 7] > 0.9 and matched[1, 0, 0, 0] < -0.8
    assert losses.theme_match_loss(matched, matched) == 0

    relit = ThemePool(pool.tiles, pool.keys, pool.cells, relight=True).match(x)
    assert torch.allclose(coarse_light(relit, 1), coarse_light(x, 1), atol=1e-6)  # the patch's mean light
    shape = relit - coarse_light(relit, 1).view(-1, 1, 1, 1)
    assert torch.allclose(shape, matched - coarse_light(matched, 1).view(-1, 1, 1, 1), atol=1e-6)  # the tile's shape


def test_theme_match_pool_of_drawn_tiles_is_the_first_tiles_and_their_mirrors():
    from ygan_mobile.data import domain_b
    from ygan_mobile.data.matching import ThemePool

    split = domain_b("stars", 16, seed=1, holdout=0.25, count=12)
    pool = ThemePool.of(split, cells=4, size=5)
    first = torch.stack([torch.from_numpy(i.pixels.astype("float32") / 127.5 - 1).permute(2, 0, 1)
                         for i in split.train.images[:5]])
    assert pool.tiles.shape == (10, 3, 16, 16)
    assert torch.allclose(pool.tiles[:5], first) and torch.allclose(pool.tiles[5:], first.flip(-1))


def test_theme_match_with_a_one_cell_key_never_picks_a_mirror_image():
    """A tile and its mirror have the same mean light, so the original must win every tie; with
    recomputed keys the last bit decided, and the target flipped to the mirror inside the tile's own
    brightness interval (the generator then drew both overlaid)."""
    from ygan_mobile.data import domain_b
    from ygan_mobile.data.matching import ThemePool

    split = domain_b("eyes", 32, seed=1, holdout=0.25, count=200)
    pool = ThemePool.of(split, cells=1, size=32)
    n = len(pool.tiles) // 2
    assert torch.equal(pool.keys[:n], pool.keys[n:])
    x = torch.linspace(-1, 1, 401).view(-1, 1, 1, 1).expand(-1, 3, 32, 32)
    matched = pool.match(x)
    picked = [int(torch.nonzero((pool.tiles == m).flatten(1).all(1))[0]) for m in matched]
    assert max(picked) < n and len(set(picked)) > 8


def test_theme_match_fit_scales_a_lifted_tile_instead_of_clipping_it():
    """A bright element on a dark ground lifted to a light patch: the shift clips the element's arms
    into its core, `fit` keeps them apart (the patch's mean light, the tile's shape, nothing clipped)."""
    from ygan_mobile.data.matching import ThemePool, coarse_light

    tile = torch.full((1, 3, 8, 8), -0.8)  # a night sky
    tile[:, :, 2:6, 2:6] = 0.2  # the galaxy's arms
    tile[:, :, 3:5, 3:5] = 0.9  # its core
    x = torch.full((1, 3, 8, 8), 0.7)
    clipped = ThemePool(tile, coarse_light(tile, 1), 1, relight=True).match(x)
    fitted = ThemePool(tile, coarse_light(tile, 1), 1, relight=True, fit=True).match(x)
    assert clipped[0, 0, 3, 3] == clipped[0, 0, 2, 2] == 1.0  # arms and core: one white blot
    assert torch.allclose(coarse_light(fitted, 1), coarse_light(x, 1), atol=1e-6)  # the patch's light
    assert fitted[0, 0, 3, 3] == 1.0 and fitted[0, 0, 0, 0] < fitted[0, 0, 2, 2] < fitted[0, 0, 3, 3]
    gain = (fitted - fitted.mean()) / (tile - tile.mean())
    assert torch.allclose(gain, gain.flatten()[0].expand_as(gain), atol=1e-5)  # an affine copy of the tile
    dark = torch.full((1, 3, 8, 8), -0.5)  # a patch the tile's shift fits: both re-lights agree
    assert torch.allclose(ThemePool(tile, coarse_light(tile, 1), 1, True, True).match(dark),
                          ThemePool(tile, coarse_light(tile, 1), 1, True).match(dark), atol=1e-6)
