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
    assert pool.tiles.shape == (3, 3, 8, 8)  # both tiles and a's mirror image (b's is b: it could never be nearer)
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
    """A tile and its mirror have the same mean light, so a mirror could only ever be chosen by the
    last bit of a recomputed key — inside the tile's own brightness interval, where the generator then
    drew both overlaid. Such mirrors are not kept; with a 4×4 key a symmetric tile's mirror is not either."""
    from ygan_mobile.data import domain_b
    from ygan_mobile.data.matching import ThemePool

    split = domain_b("eyes", 32, seed=1, holdout=0.25, count=200)
    pool = ThemePool.of(split, cells=1, size=32)
    first = torch.stack([torch.from_numpy(i.pixels.astype("float32") / 127.5 - 1).permute(2, 0, 1)
                         for i in split.train.images[:32]])
    assert torch.equal(pool.tiles, first)
    x = torch.linspace(-1, 1, 401).view(-1, 1, 1, 1).expand(-1, 3, 32, 32)
    picked = {int(torch.nonzero((pool.tiles == m).flatten(1).all(1))[0]) for m in pool.match(x)}
    assert len(picked) > 8

    symmetric = torch.zeros(1, 3, 32, 32)
    symmetric[:, :, 8:24, 8:24] = 0.5
    tiles = torch.cat([first[:3], symmetric])
    from ygan_mobile.data.patches import PatchSampler, PatchSplit
    from ygan_mobile.data.photos import NamedImage
    images = [NamedImage(str(i), ((t.permute(1, 2, 0).numpy() + 1) * 127.5).round().astype("uint8")) for i, t in enumerate(tiles)]
    four = ThemePool.of(PatchSplit(PatchSampler(images, 32, 0), PatchSampler(images, 32, 0)), cells=4)
    assert len(four.tiles) == 7  # four tiles and the mirrors of the three asymmetric ones


def test_theme_match_with_choices_offers_the_nearest_lights_each_re_lit():
    from ygan_mobile.data import domain_b
    from ygan_mobile.data.matching import ThemePool, coarse_light

    pool = ThemePool.of(domain_b("skulls", 32, seed=1, holdout=0.25, count=200), cells=1, size=32, relight=True)
    x = torch.rand(16, 3, 32, 32) * 2 - 1
    three = pool.match(x, choices=3)
    assert three.shape == (16, 3, 3, 32, 32)
    assert torch.equal(three[:, 0], pool.match(x))  # the first choice is the single match
    gap = (coarse_light(x, 1) - pool.keys.view(1, -1)).abs()  # (16, tiles)
    want = gap.topk(3, largest=False).indices
    for n in range(16):
        for c in range(3):
            shape = three[n, c] - coarse_light(three[n, c:c + 1], 1).view(1, 1, 1)
            tile = pool.tiles[want[n, c]]
            unclipped = (three[n, c].abs() < 1).all()
            if unclipped:
                assert torch.allclose(shape, tile - coarse_light(tile[None], 1).view(1, 1, 1), atol=1e-5)
    assert torch.allclose(coarse_light(three.flatten(0, 1), 1).view(16, 3)[:, 0], coarse_light(x, 1)[:, 0], atol=0.05)


def test_theme_match_spaced_pool_keeps_tiles_whose_keys_lie_apart_in_pool_order():
    """Each kept key is at least the gap from every other kept key; a dropped tile lies within the gap
    of a tile kept before it; the first tile is always kept and the tiles stay their own keys'."""
    from ygan_mobile.data import domain_b
    from ygan_mobile.data.matching import ThemePool

    pool = ThemePool.of(domain_b("skulls", 32, seed=1, holdout=0.25, count=200), cells=1, size=32, relight=True)
    spaced = pool.spaced(0.03)
    assert 1 < len(spaced.tiles) < len(pool.tiles) and spaced.relight
    kept = [next(i for i in range(len(pool.tiles)) if torch.equal(pool.tiles[i], t)) for t in spaced.tiles]
    assert kept[0] == 0 and kept == sorted(kept)
    assert torch.equal(spaced.keys, pool.keys[kept])
    gaps = torch.cdist(spaced.keys, spaced.keys) + torch.eye(len(kept)) * 9
    assert gaps.min() >= 0.03
    for i in set(range(len(pool.tiles))) - set(kept):
        before = [k for k in kept if k < i]
        assert torch.cdist(pool.keys[i:i + 1], pool.keys[before]).min() < 0.03
    assert len(pool.spaced(1e-9).tiles) == len(pool.tiles)  # distinct keys: nothing dropped


def test_theme_match_spread_pool_gives_each_tile_an_equal_share_of_the_photographs_light():
    """Four paper-bright tiles (keys 0.1–0.4) over photographs lit evenly from −1 to 1: by their own
    keys they cover 15% of the patches and the darkest tile takes every patch below 0.15 (57.5%);
    spread, the tiles keep their order by light and take the 12.5 / 37.5 / 62.5 / 87.5% quantiles as
    keys, so each serves a quarter of the patches, and each is still re-lit to its patch's mean light."""
    from ygan_mobile.data.matching import ThemePool, coarse_light

    tiles = torch.tensor([0.5, 0.2, 0.4, 0.3]).view(-1, 1, 1, 1).repeat(1, 3, 8, 8)
    tiles[:, :, 2:6, 2:6] -= 0.4  # a dark stroke on each paper: mean light 0.1 below the paper
    pool = ThemePool(tiles, coarse_light(tiles, 1), 1, relight=True)
    light = (torch.arange(400) + 0.5) / 200 - 1  # the photographs' patches, evenly from dark to bright
    x = (light + 0.001).view(-1, 1, 1, 1).repeat(1, 3, 8, 8)  # patches off the midpoints between keys
    assert pool.coverage(light) == pytest.approx(60 / 400)
    assert torch.bincount(torch.cdist(coarse_light(x, 1), pool.keys).argmin(1), minlength=4).tolist() == [130, 230, 20, 20]

    spread = pool.spread(light)
    assert torch.equal(spread.tiles, pool.tiles) and spread.relight
    assert torch.equal(spread.keys.flatten(), light[[350, 50, 250, 150]])  # the brightest tile (0.4) takes the 87.5% quantile
    assert torch.bincount(torch.cdist(coarse_light(x, 1), spread.keys).argmin(1), minlength=4).tolist() == [100] * 4
    middle = x[100:300:20]  # re-lit without clipping
    assert torch.allclose(coarse_light(spread.match(middle), 1), coarse_light(middle, 1), atol=1e-5)
    with pytest.raises(ValueError, match="match_cells = 1"):
        ThemePool(tiles, coarse_light(tiles, 2), 2).spread(light)


def test_theme_match_loss_with_choices_takes_the_candidate_nearest_for_its_contrast():
    """A blurred output is nearer in absolute terms to a flat ground than to an element; the choice is
    made relative to each candidate's contrast, so the element is the target."""
    element = torch.full((1, 3, 8, 8), -0.6)
    element[:, :, 2:6, 2:6] = 0.6
    ground = torch.full((1, 3, 8, 8), -0.3)  # the element's mean light, flat
    blurred = -0.3 + 0.4 * (element + 0.3)  # the element at 40% of its contrast
    candidates = torch.stack([ground, element], 1)  # (1, 2, 3, 8, 8)
    assert (blurred - ground).pow(2).mean() < (blurred - element).pow(2).mean()
    assert torch.isclose(losses.theme_match_loss(blurred, candidates), (blurred - element).pow(2).mean())
    assert torch.isclose(losses.theme_match_loss(ground, candidates), torch.tensor(0.0))  # a perfect ground stays one
    assert torch.equal(losses.theme_match_loss(blurred, element[:, None]), losses.theme_match_loss(blurred, element))
    fake = blurred.clone().requires_grad_(True)
    losses.theme_match_loss(fake, candidates).backward()
    assert torch.allclose(fake.grad, 2 * (blurred - element) / blurred.numel())  # only the chosen one pulls


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


def test_lighting_adds_the_patch_layout_keeps_the_element_and_carries_its_colour():
    """data.matching.Lighting: the patch's low-passed light layout is added to the tile, the tile's own
    layout is taken away by `flatten`, and `chroma` moves the colour to the patch's."""
    from ygan_mobile.data.matching import Lighting, gaussian_blur, luma

    tile = torch.full((1, 3, 16, 16), -0.2)
    tile[:, :, 6:10, 6:10] = 0.6  # a small bright element in the middle
    x = torch.zeros((1, 3, 16, 16))
    x[:, 0, :, :8] = 0.3  # a reddish left half, a plain right half
    x[:, :, :, 8:] -= 0.3
    assert torch.equal(Lighting().apply(tile, Lighting().patch_terms(x)), tile)
    lit = Lighting(light=1.0, light_sigma=2.0).apply(tile, Lighting(light=1.0, light_sigma=2.0).patch_terms(x))
    layout_x = gaussian_blur(luma(x), 2.0) - luma(x).mean()
    assert torch.allclose(luma(lit) - luma(tile), layout_x, atol=1e-5)  # the patch's layout, added
    assert luma(lit)[0, 0, 8, 8] - luma(lit)[0, 0, 8, 3] > 0.5  # the element still stands out of its ground
    flat = Lighting(flatten=1.0, light_sigma=2.0).apply(tile, Lighting(flatten=1.0, light_sigma=2.0).patch_terms(x))
    assert luma(flat).std() < luma(tile).std()  # its own low-passed light taken away
    coloured = Lighting(chroma=1.0, chroma_sigma=1.0).apply(tile, Lighting(chroma=1.0, chroma_sigma=1.0).patch_terms(x))
    assert torch.allclose(luma(coloured), luma(tile), atol=1e-5)  # the light stays the tile's
    chroma_x = gaussian_blur(x - luma(x), 1.0)
    assert torch.allclose(coloured - luma(coloured), chroma_x, atol=1e-5)  # the colour is the patch's
    half = Lighting(chroma=0.5, chroma_sigma=1.0).apply(tile, Lighting(chroma=0.5, chroma_sigma=1.0).patch_terms(x))
    assert torch.allclose(half - luma(half), 0.5 * chroma_x + 0.5 * (tile - luma(tile)), atol=1e-5)


def test_a_dark_tile_keeps_its_layout_in_proportion_to_its_light():
    """Lighting.flatten_dark: below that mean light the share taken away falls linearly to none at black;
    at or above it the tile is flattened as without it."""
    from ygan_mobile.data.matching import Lighting, gaussian_blur, luma

    def tile(level: float) -> torch.Tensor:
        t = torch.full((1, 3, 16, 16), level)
        t[:, :, 6:10, 6:10] += 0.4  # a small element brighter than its ground
        return t

    x = torch.zeros((1, 3, 16, 16))
    plain, faded = Lighting(flatten=0.7, light_sigma=2.0), Lighting(flatten=0.7, flatten_dark=0.4, light_sigma=2.0)
    bright = tile(-0.1)  # mean light (0-1) about 0.47, above 0.4
    assert torch.equal(faded.apply(bright, faded.patch_terms(x)), plain.apply(bright, plain.patch_terms(x)))
    dark = tile(-0.9)  # mean light 0.07
    mean = luma(dark).mean()
    share = float((mean + 1) / 2 / 0.4)
    layout = gaussian_blur(luma(dark), 2.0) - mean
    assert torch.allclose(faded.apply(dark, faded.patch_terms(x)), (dark - 0.7 * share * layout).clamp(-1, 1), atol=1e-6)
    assert luma(faded.apply(dark, faded.patch_terms(x))).std() > luma(plain.apply(dark, plain.patch_terms(x))).std()


def test_an_element_is_drawn_as_faint_as_a_flat_patch_asks_and_no_fainter_than_the_floor():
    """Lighting.contrast: the element's luminance about its mean is scaled to at most `contrast` times
    the RMS of the patch's light layout, never below `contrast_floor` of its own; its mean light and
    its colour stay, and a patch with detail enough leaves the element as it was."""
    from ygan_mobile.data.matching import Lighting, luma

    tile = torch.full((1, 3, 16, 16), -0.2)
    tile[:, :, 6:10, 6:10] = 0.6
    tile[:, 0] += 0.1  # a reddish tile: the scaling must not touch its colour
    about = luma(tile) - luma(tile).mean()
    flat = torch.full((1, 3, 16, 16), -0.2)  # no light layout at all: the floor
    edge = torch.full((1, 3, 16, 16), -0.2)
    edge[:, :, :, 8:] = 0.02  # a soft edge: RMS of its σ = 2 layout well under the element's
    strong = torch.full((1, 3, 16, 16), -1.0)
    strong[:, :, :, 8:] = 1.0  # a hard black-to-white edge: more than enough contrast
    faint = Lighting(light_sigma=2.0, contrast=2.0, contrast_floor=0.3)
    floor = faint.apply(tile, faint.patch_terms(flat))
    assert torch.allclose(luma(floor) - luma(floor).mean(), 0.3 * about, atol=1e-5)
    assert torch.allclose(floor - luma(floor), tile - luma(tile), atol=1e-5)  # the colour is the tile's
    assert torch.allclose(luma(floor).mean(), luma(tile).mean(), atol=1e-5)
    layout = faint.patch_terms(edge)[0]
    wanted = 2.0 * layout.pow(2).mean().sqrt() / about.pow(2).mean().sqrt()
    assert 0.3 < wanted < 1
    scaled = faint.apply(tile, faint.patch_terms(edge))
    assert torch.allclose(luma(scaled) - luma(scaled).mean(), wanted * about, atol=1e-5)
    assert torch.allclose(faint.apply(tile, faint.patch_terms(strong)), tile, atol=1e-6)
    assert torch.equal(Lighting(light_sigma=2.0).apply(tile, Lighting(light_sigma=2.0).patch_terms(flat)), tile)


def test_a_layout_key_ignores_the_level_of_the_light():
    from ygan_mobile.data.matching import coarse_light

    x = torch.rand(4, 3, 8, 8) * 0.5
    assert torch.allclose(coarse_light(x + 0.3, 2, centred=True), coarse_light(x, 2, centred=True), atol=1e-6)
    assert torch.allclose(coarse_light(x, 2, centred=True).sum(1), torch.zeros(4), atol=1e-6)


def test_diff_augment_shifts_and_cuts_out_reproducibly_and_passes_gradients():
    from ygan_mobile.augment import apply, cutout, draw, translate

    x = torch.rand(6, 3, 16, 16, requires_grad=True)
    params = draw(torch.Generator().manual_seed(3), 6, 16)
    assert torch.equal(params, draw(torch.Generator().manual_seed(3), 6, 16))
    a = apply(x, params)
    assert a.shape == x.shape and torch.equal(a[2:4], apply(x[2:4], params[2:4]))  # a slice of the batch, the same
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    ramp = torch.arange(16.0).view(1, 1, 1, 16).expand(6, 3, 16, 16)
    moved = translate(ramp, params[:, 0], params[:, 1])
    for m, dx in zip(moved, params[:, 1]):  # a whole-pixel shift of the ramp, zeros where nothing came in
        row = m[0, 8]
        inside = row[row > 0]
        assert torch.all(inside[1:] - inside[:-1] == 1)
        assert abs(int(dx)) <= 2
    cut = cutout(torch.ones(6, 3, 16, 16), params[:, 2], params[:, 3])
    zeros = (cut == 0).flatten(1).sum(1) / 3
    assert torch.all(zeros > 0) and torch.all(zeros <= 16)  # a 4×4 square at most, cut by the edge at times
