"""Embedded photos and themes, the split by source, pure (seed, step) batches, user folders and videos."""

import numpy as np
import pytest
import torch
from PIL import Image

from ygan_mobile.data import (PHOTO_NAMES, THEMES, NamedImage, PatchSampler, domain_a, domain_b, load_photos,
                              load_source, make_split, render_theme, split_by_source)
from ygan_mobile.errors import YganError
from ygan_mobile.ingest import write_video


def flat(value: int, h: int = 40, w: int = 40, name: str = "") -> NamedImage:
    return NamedImage(name or f"img{value}", np.full((h, w, 3), value, np.uint8))


def test_embedded_photos_load_offline_in_a_fixed_order():
    photos = load_photos()
    assert tuple(p.name for p in photos) == PHOTO_NAMES and len(photos) == 20
    for p in photos:
        assert p.pixels.dtype == np.uint8 and p.pixels.ndim == 3 and p.pixels.shape[2] == 3
        assert min(p.pixels.shape[:2]) >= 256 and not p.pixels.flags.writeable
    grey = photos[PHOTO_NAMES.index("camera")].pixels
    assert np.array_equal(grey[..., 0], grey[..., 2])


def test_split_is_by_source_deterministic_and_keeps_stereo_views_together():
    a = domain_a(32, seed=3, holdout=0.25)
    train, held = set(a.train.names), set(a.heldout.names)
    assert not train & held and train | held == set(PHOTO_NAMES)
    assert len(held) == 5  # the portrait, and round(0.25 × 18 other scenes) = 4
    assert "grace_hopper" in held
    stereo = {"stereo_motorcycle_left", "stereo_motorcycle_right"}
    assert stereo <= train or stereo <= held
    assert set(domain_a(32, seed=3, holdout=0.25).heldout.names) == held
    others = {frozenset(split_by_source(list(load_photos()), 0.25, s)[1][i].name for i in range(2)) for s in range(6)}
    assert len(others) > 1  # the seed picks which images are held out


def test_the_embedded_portrait_is_held_out_for_every_seed():
    """A face shows at once whether a mosaic keeps the photograph, so every build scores one it never trained on."""
    for seed in range(8):
        train, held = split_by_source(list(load_photos()), 0.25, seed)
        assert "grace_hopper" in {i.name for i in held} and "grace_hopper" not in {i.name for i in train}
        assert len({i.scene for i in held}) == 5  # scenes: a stereo pair is one


@pytest.mark.parametrize("n, holdout, held", [(2, 0.1, 1), (2, 0.9, 1), (10, 0.25, 2), (10, 0.5, 5)])
def test_split_ratio_has_at_least_one_on_each_side(n, holdout, held):
    train, out = split_by_source([flat(i) for i in range(n)], holdout, seed=0)
    assert len(out) == held and len(train) == n - held


def test_held_out_images_never_give_training_patches():
    images = [flat(10 * i) for i in range(8)]
    split = make_split(images, patch=8, seed=1, holdout=0.25)
    held_values = {int(i.pixels[0, 0, 0]) for i in split.heldout.images}
    seen = set()
    for step in range(50):
        u8 = np.round((split.train.batch(step, 16).numpy() + 1) * 127.5).astype(int)
        seen |= set(np.unique(u8).tolist())
    assert seen and not seen & held_values
    assert set(np.round((split.heldout.fixed(64).numpy() + 1) * 127.5).astype(int).ravel()) <= held_values


def test_one_image_is_cut_into_train_and_held_out_strips():
    ramp = np.repeat(np.arange(100, dtype=np.uint8)[:, None, None], 3, axis=2).repeat(20, axis=1)  # 100 high
    split = make_split([NamedImage("solo", ramp)], patch=8, seed=0, holdout=0.25)
    assert split.train.images[0].pixels.shape[0] == 75 and split.heldout.images[0].pixels.shape[0] == 25
    assert split.heldout.images[0].pixels.min() == 75


def test_bad_holdout_or_tiny_remainder_is_refused():
    with pytest.raises(YganError, match="holdout"):
        split_by_source([flat(1), flat(2)], 0.0, 0)
    with pytest.raises(YganError, match="smaller than the 32×32 patch"):
        make_split([flat(1, 40, 40)], patch=32, seed=0, holdout=0.25)


def test_batches_are_a_pure_function_of_seed_and_step():
    images = [NamedImage(f"n{i}", np.random.default_rng(i).integers(0, 256, (50, 70, 3), dtype=np.uint8)) for i in range(3)]
    first, second = PatchSampler(tuple(images), 16, seed=7), PatchSampler(tuple(images), 16, seed=7)
    later = first.batch(5, 8)
    first.batch(0, 8), first.fixed(4)  # other calls change nothing
    assert torch.equal(later, second.batch(5, 8)) and torch.equal(first.batch(5, 8), later)
    assert not torch.equal(first.batch(6, 8), later)
    assert not torch.equal(PatchSampler(tuple(images), 16, seed=8).batch(5, 8), later)
    assert later.shape == (8, 3, 16, 16) and later.dtype == torch.float32
    assert torch.equal(first.fixed(32)[:5], second.fixed(5))


def test_patches_are_normalised_crops_with_flips():
    ramp = np.repeat(np.linspace(0, 255, 64).round().astype(np.uint8)[None, :, None], 64, axis=0).repeat(3, axis=2)
    sampler = PatchSampler((NamedImage("ramp", ramp),), 16, seed=0)
    x = sampler.batch(0, 256)
    assert x.min() >= -1 and x.max() <= 1
    assert x.min() == -1 and x.max() == 1  # both ends of the ramp are reachable (u8 0 → -1, 255 → +1)
    direction = torch.sign(x[:, 0, 0, -1] - x[:, 0, 0, 0])
    assert (direction > 0).sum() > 80 and (direction < 0).sum() > 80
    assert (torch.sign(sampler.fixed(64)[:, 0, 0, -1] - sampler.fixed(64)[:, 0, 0, 0]) > 0).all()  # no flips
    crop = sampler.fixed(1)[0]  # an exact crop of the ramp, normalised as u8 / 127.5 - 1
    start = int(np.argmin(np.abs(np.round((crop[0, 0, 0].item() + 1) * 127.5) - ramp[0, :, 0])))
    expected = torch.from_numpy(ramp[:16, start:start + 16].astype(np.float32) / np.float32(127.5) - 1).permute(2, 0, 1)
    assert torch.equal(crop, expected)


def test_big_images_are_sampled_by_area():
    sampler = PatchSampler((flat(0, 20, 20), flat(200, 40, 40)), 8, seed=0)
    big = (sampler.batch(0, 4000)[:, 0, 0, 0] > 0).float().mean().item()
    assert abs(big - 0.8) < 0.03


def test_themes_are_deterministic_and_prefix_stable():
    for name in THEMES:
        a, b = render_theme(name, 3, 64, seed=1), render_theme(name, 5, 64, seed=1)
        assert [t.name for t in a] == [f"{name}_0000", f"{name}_0001", f"{name}_0002"]
        assert all(np.array_equal(x.pixels, y.pixels) for x, y in zip(a, b))
        assert a[0].pixels.shape == (64, 64, 3) and a[0].pixels.dtype == np.uint8
        assert not np.array_equal(a[0].pixels, render_theme(name, 1, 64, seed=2)[0].pixels)
        assert not np.array_equal(a[0].pixels, a[1].pixels)


def test_themes_look_different():
    mean = {name: np.mean([t.pixels.reshape(-1, 3).mean(0) for t in render_theme(name, 40, 32, seed=0)], axis=0)
            for name in THEMES}
    assert mean["stars"][2] > mean["stars"][0] and mean["galaxies"][2] > mean["galaxies"][0]  # bluish skies
    assert mean["flowers"][1] > mean["flowers"][2] + 30  # green leaves > blue
    assert mean["skulls"][2] > mean["skulls"][1]  # pale skulls on violet


def test_theme_tiles_span_dark_to_bright():
    """Every input brightness has themed patches to match (what keeps a mosaic's structure)."""
    for name in ("flowers", "eyes", "skulls", "stars", "galaxies"):
        luma = [t.pixels.astype(np.float64) @ [0.299, 0.587, 0.114] for t in render_theme(name, 60, 32, seed=0)]
        means = np.array([m.mean() for m in luma])
        assert means.min() < 70 and means.max() > 130, (name, means.min(), means.max())


def test_galaxy_skies_are_drawn_evenly_from_dark_to_pale():
    """With dark skies alone, one tile served every patch lighter than ~115 of 255 (docs/training.md,
    tenth round): a quarter of the galaxies now lie above 160 and a quarter below 90."""
    luma = np.array([(t.pixels.astype(np.float64) @ [0.299, 0.587, 0.114]).mean()
                     for t in render_theme("galaxies", 200, 32, seed=0)])
    assert np.quantile(luma, 0.25) < 90 and np.quantile(luma, 0.75) > 160, np.quantile(luma, [0.25, 0.75])


def test_one_element_per_tile_near_the_centre():
    """A tile is one patch holding one whole element: its centre differs from its border."""
    for name in ("flowers", "skulls", "stars"):
        for tile in render_theme(name, 20, 32, seed=3):
            luma = tile.pixels.astype(np.float64) @ [0.299, 0.587, 0.114]
            border = np.concatenate([luma[:3].ravel(), luma[-3:].ravel(), luma[:, :3].ravel(), luma[:, -3:].ravel()])
            assert abs(luma[10:22, 10:22].mean() - border.mean()) > 4 or luma[10:22, 10:22].std() > 12, name


def test_unknown_theme_lists_the_known_ones():
    with pytest.raises(YganError, match="unknown theme 'clouds'.*flowers, eyes, skulls, stars, galaxies, numbers"):
        render_theme("clouds", 2)


def test_domain_b_draws_tiles_or_reads_a_folder(tmp_path):
    split = domain_b("stars", 32, seed=1, holdout=0.25, count=8)
    assert len(split.train.images) == 6 and len(split.heldout.images) == 2
    assert split.train.images[0].pixels.shape == (32, 32, 3)  # a tile is one patch
    for i in range(3):
        Image.new("RGB", (40, 48), (i * 50, 0, 0)).save(tmp_path / f"{i}.png")
    mine = domain_b("my-art", 32, seed=1, holdout=0.34, path=tmp_path)
    assert len(mine.train.images) == 2 and len(mine.heldout.images) == 1


def test_folder_is_read_recursively_in_sorted_order(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("z.png", "a.jpg", "b/m.png"):
        Image.new("RGB", (20, 20), (9, 9, 9)).save(tmp_path / name)
    (tmp_path / "README.txt").write_text("ignored: not an image extension")
    assert [i.name for i in load_source(tmp_path, 8)] == ["a.jpg", "b/m.png", "z.png"]
    split = domain_a(8, 0, 0.3, path=tmp_path)
    assert len(split.train.images) + len(split.heldout.images) == 3


def test_big_user_images_are_downscaled_but_never_below_the_patch(tmp_path):
    Image.new("RGB", (3000, 1500), (1, 2, 3)).save(tmp_path / "big.png")
    Image.new("RGB", (4000, 40), (1, 2, 3)).save(tmp_path / "strip.png")
    sizes = {i.name: i.pixels.shape[:2] for i in load_source(tmp_path, 32)}
    assert sizes == {"big.png": (512, 1024), "strip.png": (32, 3200)}


def test_source_errors_name_the_problem(tmp_path):
    with pytest.raises(YganError, match="no such file or folder"):
        load_source(tmp_path / "missing", 8)
    (tmp_path / "empty").mkdir()
    with pytest.raises(YganError, match="folder is empty"):
        load_source(tmp_path / "empty", 8)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x")
    with pytest.raises(YganError, match="no image files"):
        load_source(tmp_path / "docs", 8)
    (tmp_path / "mixed").mkdir()
    Image.new("RGB", (20, 20)).save(tmp_path / "mixed" / "good.png")
    (tmp_path / "mixed" / "notes.jpg").write_text("not an image")
    with pytest.raises(YganError, match="notes.jpg: not an image"):
        load_source(tmp_path / "mixed", 8)
    (tmp_path / "small").mkdir()
    Image.new("RGB", (5, 40)).save(tmp_path / "small" / "thin.png")
    with pytest.raises(YganError, match=r"thin.png: 5×40 is smaller than the 8×8 patch"):
        load_source(tmp_path / "small", 8)
    (tmp_path / "data.csv").write_text("1,2")
    with pytest.raises(YganError, match="neither an image"):
        load_source(tmp_path / "data.csv", 8)


def test_video_source_takes_frames_spread_over_the_clip(tmp_path):
    frames = [np.full((24, 32, 3), 10 + 20 * i, np.uint8) for i in range(10)]
    write_video(tmp_path / "clip.mp4", frames, 10)
    images = load_source(tmp_path / "clip.mp4", 16, video_frames=4)
    assert [i.name for i in images] == ["clip.mp4#000000", "clip.mp4#000003", "clip.mp4#000006", "clip.mp4#000009"]
    assert [round((i.pixels.mean() - 10) / 20) for i in images] == [0, 3, 6, 9]


def test_theme_match_pool_of_a_users_images_is_crops_of_them(tmp_path):
    """--data-b images are not one patch each: the theme-match pool takes fixed crops of them."""
    from PIL import Image

    from ygan_mobile.data.matching import ThemePool

    for i in range(4):
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (60, 50, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    split = domain_b("art", 16, seed=1, holdout=0.25, path=tmp_path)
    pool = ThemePool.of(split, cells=4, size=20)
    again = ThemePool.of(split, cells=4, size=20)
    assert pool.tiles.shape == (20, 3, 16, 16) and pool.keys.shape == (20, 16)
    assert torch.equal(pool.tiles, again.tiles)  # a pure function of the seed
