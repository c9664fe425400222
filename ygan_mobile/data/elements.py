"""A user's theme images (--data-b) cut into tiles that each hold one whole element, at the scale where
the element fills the cell — what the drawn themes' tiles are (data.themes).

Random P-px crops of a sheet of elements are mostly background or a fragment of one element, so the
theme-match pool and the judge learned fragments (docs/lab/2026-12-06-user-theme.md). Here the elements
are found in each image instead, whatever their size: the background is the colour of the image's
outer frame; a pixel is foreground where its colour lies farther from it than the frame's own grain
does (after a light blur, so paper grain is not an element), however faint the element is, so a white
skull on cream paper is the skull and not its dark eyes; the elements are the connected foreground
regions (the blur keeps a glyph's strokes together), each boxed by its pixels
that are unlike the background before the blur. Each element is cropped square around its bounding
box, so its longer side fills FILL of the tile, and resampled to P × P.

An image is a sheet of elements only when the frame is mostly background and the background most of
the image; a folder is cut into elements when at least half of its images are, else (photographs,
textures) its images are used whole, as random crops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from ygan_mobile.data.photos import NamedImage

FILL = (0.7, 1.0)  # the element's longer side as a fraction of the tile, drawn per tile (the drawn themes' range)
FRAME = 0.03  # the outer frame whose colour is the background: this fraction of the shorter side, at least 2 px
BLUR = 1.0  # σ in px of the blur before thresholding, so grain and noise are not elements
NOISE = 6.0  # foreground: farther from the background than its grain's median + this many robust standard deviations
MIN_THRESHOLD = 12.0  # and than this (RGB distance, of 441), so a flat synthetic ground keeps its antialiasing
MIN_BACKGROUND = 0.5  # an image is a sheet when at least this share of it is background
FRAME_BACKGROUND = 0.75  # and this share of its outer frame
SPECK = 0.2  # elements smaller than this share of the image's median element side are specks, dropped
MIN_SIDE = 3  # and elements of fewer pixels than this on their longer side
MIN_TILES = 64  # fewer elements than this in a part of the split: each is cropped again at other scales until there are


@dataclass(frozen=True)
class Element:
    """An element's bounding box in its image, rows [top, bottom) and columns [left, right)."""
    top: int
    left: int
    bottom: int
    right: int

    @property
    def side(self) -> int:
        return max(self.bottom - self.top, self.right - self.left)


def background(pixels: np.ndarray) -> np.ndarray:
    """The median colour of the image's outer frame, float (3,)."""
    return np.median(_frame(pixels).astype(np.float64), axis=0)


def foreground(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The masks of pixels unlike the background: blurred (whole regions, grain ignored) and sharp
    (the blurred mask's pixels that are unlike the background's grain themselves, so a box does not
    take the blur's halo); None when the image is not a sheet of elements."""
    distance = np.sqrt(((pixels.astype(np.float64) - background(pixels)) ** 2).sum(-1))
    blurred = ndimage.gaussian_filter(distance, BLUR)
    mask = blurred > _above_grain(blurred)
    if not mask.any() or 1 - mask.mean() < MIN_BACKGROUND or 1 - _frame(mask).mean() < FRAME_BACKGROUND:
        return None
    return mask, mask & (distance > _above_grain(distance))


def _above_grain(distance: np.ndarray) -> float:
    """The threshold above the frame's grain: its median + NOISE robust standard deviations, at least MIN_THRESHOLD."""
    in_frame = _frame(distance)
    median = np.median(in_frame)
    return max(MIN_THRESHOLD, median + NOISE * 1.4826 * np.median(np.abs(in_frame - median)))


def _frame(values: np.ndarray) -> np.ndarray:
    """The values of an H×W(×C) array's outer frame, flattened to (n, C) or (n,)."""
    h, w = values.shape[:2]
    f = max(2, round(FRAME * min(h, w)))
    parts = [values[:f], values[-f:], values[f:-f, :f], values[f:-f, -f:]]
    return np.concatenate([p.reshape(-1, *values.shape[2:]) for p in parts])


def find_elements(pixels: np.ndarray) -> list[Element] | None:
    """The elements of an image (uint8 H×W×3), in reading order; None when it is not a sheet of elements."""
    masks = foreground(pixels)
    if masks is None:
        return None
    mask, sharp = masks
    labels, _ = ndimage.label(mask)
    boxes = [Element(s[0].start, s[1].start, s[0].stop, s[1].stop)
             for s in ndimage.find_objects(labels * sharp) if s is not None]
    if not boxes:
        return []
    floor = max(MIN_SIDE, SPECK * float(np.median([b.side for b in boxes])))
    return [b for b in boxes if b.side >= floor]


def crop(pixels: np.ndarray, element: Element, fill: float, patch: int, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The square around `element` in which its longer side fills `fill`, moved by `shift` (fractions of
    the free margin) and then into the image where it fits, padded with the background's colour only
    where the image is smaller than the square, and resampled to patch × patch."""
    side = max(1, round(element.side / fill))
    cy, cx = (element.top + element.bottom) / 2, (element.left + element.right) / 2
    margin = (side - element.side) / 2
    h, w = pixels.shape[:2]
    top, left = round(cy - side / 2 + shift[0] * margin), round(cx - side / 2 + shift[1] * margin)
    top, left = (min(max(top, 0), h - side) if side <= h else top), (min(max(left, 0), w - side) if side <= w else left)
    out = np.empty((side, side, 3), np.uint8)
    y0, x0, y1, x1 = max(top, 0), max(left, 0), min(top + side, h), min(left + side, w)
    if (y0, x0, y1, x1) != (top, left, top + side, left + side):  # the square overhangs the image: pad
        out[:] = np.round(background(pixels)).astype(np.uint8)
    if y1 > y0 and x1 > x0:
        out[y0 - top:y1 - top, x0 - left:x1 - left] = pixels[y0:y1, x0:x1]
    if side == patch:
        return out
    return np.asarray(Image.fromarray(out).resize((patch, patch), Image.Resampling.LANCZOS))


def element_tiles(images: list[NamedImage], found: list[list[Element]], patch: int, seed: int) -> list[NamedImage]:
    """One tile per element, at a random fill and offset, in a random order (the pool takes the first
    tiles, so they come from many images); each is cropped again at other draws until there are
    MIN_TILES. A tile's scene is its image's, so the split's held-out images stay held out."""
    rng = np.random.default_rng([seed, 21])
    pairs = [(image, e) for image, elements in zip(images, found) for e in elements]
    if not pairs:
        return []
    tiles = []
    for k in range(max(len(pairs), MIN_TILES)):
        image, e = pairs[k % len(pairs)]
        fill = rng.uniform(*FILL)
        shift = tuple(rng.uniform(-1, 1, 2))
        tile = crop(image.pixels, e, fill, patch, shift)
        tile.setflags(write=False)
        tiles.append(NamedImage(f"{image.name}#{e.top},{e.left}#{k // len(pairs)}", tile, image.scene))
    order = rng.permutation(len(tiles))
    return [tiles[i] for i in order]


def cut_into_elements(train: list[NamedImage], held: list[NamedImage], patch: int,
                      seed: int) -> tuple[list[NamedImage], list[NamedImage]]:
    """Both parts of a user theme's split as element tiles when at least half of its images are sheets
    of elements (each part must then yield some), else both unchanged."""
    found = [[find_elements(i.pixels) for i in part] for part in (train, held)]
    flat = [f for part in found for f in part]
    sheets = [f for f in flat if f is not None]
    if 2 * len(sheets) < len(flat):
        return train, held
    parts = []
    for part, elements in zip((train, held), found):
        tiles = element_tiles([i for i, f in zip(part, elements) if f], [f for f in elements if f], patch, seed)
        if not tiles:
            return train, held
        parts.append(tiles)
    return parts[0], parts[1]
