"""A user's theme images cut into tiles of one whole element each (ygan_mobile/data/elements.py)."""

import numpy as np
from PIL import Image

from ygan_mobile.data import NamedImage, domain_b, theme_split
from ygan_mobile.data.elements import (FILL, MIN_TILES, Element, crop, cut_into_elements, element_tiles,
                                       find_elements)
from ygan_mobile.data.matching import ThemePool
from ygan_mobile.mosaic.heldout import theme_tiles

SQUARES = [(20, 30, 16), (20, 100, 24), (90, 40, 30), (100, 120, 12)]  # (top, left, side) of dark squares


def sheet(seed: int = 0, ink=(30, 40, 110), paper: int = 236, squares=SQUARES, size=(160, 180)) -> np.ndarray:
    """Noisy paper with dark squares on it, like a scanned sheet of elements."""
    rng = np.random.default_rng(seed)
    pixels = np.clip(rng.normal(paper, 6, (*size, 3)), 0, 255)
    for top, left, side in squares:
        pixels[top:top + side, left:left + side] = ink
    return pixels.astype(np.uint8)


def test_elements_of_a_sheet_are_its_shapes_at_their_own_size():
    found = find_elements(sheet())
    assert found is not None
    boxes = sorted((e.top, e.left, e.bottom - e.top, e.right - e.left) for e in found)
    expected = sorted((t, l, s, s) for t, l, s in SQUARES)
    assert np.abs(np.array(boxes) - np.array(expected)).max() <= 1  # the blur may take a pixel more


def test_bright_elements_on_a_dark_sky_are_found_too():
    sky = np.zeros((128, 128, 3), np.uint8)
    yy, xx = np.mgrid[:128, :128]
    for cy, cx, r in [(30, 30, 4), (40, 90, 6), (100, 60, 5)]:
        sky[..., :] = np.maximum(sky, (255 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r ** 2)))[..., None].astype(np.uint8))
    found = find_elements(sky)
    assert found is not None and len(found) == 3
    centres = sorted(((e.top + e.bottom) / 2, (e.left + e.right) / 2) for e in found)
    assert np.allclose(centres, [(30.5, 30.5), (40.5, 90.5), (100.5, 60.5)], atol=1)


def test_a_faint_element_with_dark_details_is_one_element_not_its_details():
    """A white skull with dark eyes on cream paper: the skull is the element, not its eyes."""
    pixels = sheet(paper=225, squares=[], size=(120, 120))
    yy, xx = np.mgrid[:120, :120]
    pixels[(yy - 60) ** 2 + (xx - 60) ** 2 < 30 ** 2] = 250
    for cx in (48, 72):
        pixels[(yy - 55) ** 2 + (xx - cx) ** 2 < 6 ** 2] = 20
    found = find_elements(pixels)
    assert len(found) == 1 and abs(found[0].side - 59) <= 2


def test_specks_are_not_elements():
    pixels = sheet()
    pixels[5:7, 150:152] = 0  # a 2-px speck of dust
    assert len(find_elements(pixels)) == len(SQUARES)


def test_photographs_and_flat_images_are_not_sheets():
    rng = np.random.default_rng(0)
    assert find_elements(np.full((64, 64, 3), 128, np.uint8)) is None  # nothing on it
    ramp = np.repeat(np.linspace(0, 255, 96)[None, :, None], 3, 2).repeat(64, 0).astype(np.uint8)
    assert find_elements(ramp) is None  # light everywhere, no background
    assert find_elements(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)) is None  # a texture


def test_a_crop_fills_the_tile_with_the_element_at_the_asked_share():
    pixels = sheet(squares=[(60, 60, 20)])
    tile = crop(pixels, Element(60, 60, 80, 80), fill=0.5, patch=40)
    dark = tile.mean(-1) < 128
    rows, cols = np.flatnonzero(dark.any(1)), np.flatnonzero(dark.any(0))
    assert (rows[0], rows[-1], cols[0], cols[-1]) == (10, 29, 10, 29)  # 20 px of 40, centred
    small = crop(pixels, Element(60, 60, 80, 80), fill=1.0, patch=10)  # resampled to the patch
    assert small.shape == (10, 10, 3) and small.mean() < 80


def test_a_crop_stays_inside_the_image_and_pads_with_the_background_only_beyond_it():
    pixels = sheet(squares=[(0, 0, 10)], size=(40, 40))
    inside = crop(pixels, Element(0, 0, 10, 10), fill=0.5, patch=20)
    assert np.array_equal(inside, pixels[:20, :20])  # moved into the image, not padded
    huge = crop(pixels, Element(0, 0, 40, 40), fill=0.8, patch=50)  # the crop is larger than the image
    assert np.all(np.abs(huge[0, 0].astype(int) - 236) <= 3)  # the frame's colour


def test_tiles_hold_one_element_each_at_a_fill_of_the_drawn_range():
    images = [NamedImage(f"s{k}.png", sheet(k)) for k in range(20)]
    found = [find_elements(i.pixels) for i in images]
    tiles = element_tiles(images, found, 32, seed=0)
    assert len(tiles) == 4 * 20 and all(t.pixels.shape == (32, 32, 3) for t in tiles)
    for t in tiles:
        dark = t.pixels.mean(-1) < 128
        side = max(np.ptp(np.flatnonzero(dark.any(1))), np.ptp(np.flatnonzero(dark.any(0)))) + 1
        assert 32 * FILL[0] - 1 <= side <= 32  # the element's longer side fills 0.7-1.0 of the tile
    assert len({t.scene for t in tiles[:8]}) > 4  # shuffled: the pool's first tiles come from many sheets
    assert {t.scene for t in tiles} == {i.name for i in images}
    again = element_tiles(images, found, 32, seed=0)
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(tiles, again))


def test_few_elements_are_cropped_again_until_there_are_enough():
    image = NamedImage("one.png", sheet(squares=[(60, 60, 30)]))
    tiles = element_tiles([image], [find_elements(image.pixels)], 32, seed=3)
    assert len(tiles) == MIN_TILES
    assert len({t.pixels.tobytes() for t in tiles}) > MIN_TILES * 3 // 4  # other fills and offsets (a fill near 1 leaves one)


def test_a_folder_of_photographs_is_left_whole():
    rng = np.random.default_rng(1)
    photos = [NamedImage(f"p{k}", rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)) for k in range(4)]
    train, held = cut_into_elements(photos[:3], photos[3:], 32, seed=0)
    assert train == photos[:3] and held == photos[3:]


def test_a_users_sheets_become_element_tiles_split_by_sheet(tmp_path):
    for k in range(8):
        Image.fromarray(sheet(k, ink=(25, 25, 30) if k % 2 else (30, 40, 110))).save(tmp_path / f"sheet{k}.png")
    split = domain_b("mine", 32, seed=1, holdout=0.25, path=tmp_path)
    train, held = split.train.images, split.heldout.images
    assert len(train) == MIN_TILES and len(held) == MIN_TILES  # 6 and 2 sheets of 4 elements, topped up
    assert all(i.pixels.shape == (32, 32, 3) for i in train + held)
    assert {i.scene for i in train}.isdisjoint({i.scene for i in held}) and len({i.scene for i in held}) == 2
    pool = ThemePool.of(split, cells=1, size=8)  # whole tiles, as for a drawn theme
    assert pool.tiles.shape[1:] == (3, 32, 32) and 8 <= len(pool.tiles) <= 16
    trained, held_tiles = theme_tiles("mine", 32, 1, 0.25, 160, str(tmp_path))  # what the judge sees: the same tiles
    assert all(np.array_equal(a, b.pixels) for a, b in zip(trained, train)) and len(held_tiles) == len(held)


def test_drawn_themes_are_split_as_before():
    from ygan_mobile.data import render_theme, split_by_source

    drawn = split_by_source(render_theme("stars", 12, 32, 5), 0.25, 5)
    train, held = theme_split("stars", 32, 5, 0.25, None, 12)
    assert [i.name for i in train] == [i.name for i in drawn[0]] and [i.name for i in held] == [i.name for i in drawn[1]]
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(train, drawn[0]))
