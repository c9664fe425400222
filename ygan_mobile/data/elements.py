"""A user's theme images (--data-b) cut into tiles that each hold one whole element, at the scale where
the element fills the cell — what the drawn themes' tiles are (data.themes).

Random P-px crops of a sheet of elements are mostly background or a fragment of one element, so the
theme-match pool and the judge learned fragments (docs/lab/2026-12-06-user-theme.md). Here the elements
are found in each image instead, whatever their size: the background is the colour of the image's
outer frame; a pixel is foreground where its colour lies farther from it than Otsu's threshold of the
distance (computed after a light blur, so paper grain is not an element); the elements are the
connected foreground regions, each grown by a few pixels first so the strokes of one glyph stay
together. Each element is cropped square around its bounding box, so its longer side fills FILL of
the tile, padded with the frame's colour where the crop leaves the image, and resampled to P × P.

An image is a sheet of elements only when the frame is mostly background and the background most of
the image; a folder is cut into elements when at least half of its images are, else (photographs,
textures) its images are used whole, as random crops, as before.
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
MIN_CONTRAST = 24.0  # an image whose Otsu threshold is below this (RGB distance, 0..441) has no elements on it
MIN_BACKGROUND = 0.5  # an image is a sheet when at least this share of it is background
FRAME_BACKGROUND = 0.75  # and this share of its outer frame
SPECK = 0.2  # elements smaller than this share of the image's median element side are specks, dropped
GROW = 1  # px each foreground region grows before labelling, so a glyph's strokes broken by the threshold stay one element
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
    h, w = pixels.shape[:2]
    f = max(2, round(FRAME * min(h, w)))
    frame = np.concatenate([pixels[:f].reshape(-1, 3), pixels[-f:].reshape(-1, 3),
                            pixels[:, :f].reshape(-1, 3), pixels[:, -f:].reshape(-1, 3)])
    return np.median(frame.astype(np.float64), axis=0)


def otsu(values: np.ndarray, bins: int = 256) -> float:
    """The threshold that maximises the between-class variance of `values` (Otsu 1979)."""
    counts, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(counts)
    w1 = w0[-1] - w0
    m0 = np.cumsum(counts * centres)
    mean0 = m0 / np.maximum(w0, 1)
    mean1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mean0 - mean1) ** 2
    return float(centres[int(np.argmax(between[:-1]))])


def foreground(pixels: np.ndarray) -> np.ndarray | None:
    """The mask of pixels unlike the background, or None when the image is not a sheet of elements."""
    distance = np.sqrt(((pixels.astype(np.float64) - background(pixels)) ** 2).sum(-1))
    distance = ndimage.gaussian_filter(distance, BLUR)
    threshold = otsu(distance)
    if threshold < MIN_CONTRAST:
        return None
    mask = distance > threshold
    h, w = mask.shape
    f = max(2, round(FRAME * min(h, w)))
    frame = np.concatenate([mask[:f].ravel(), mask[-f:].ravel(), mask[:, :f].ravel(), mask[:, -f:].ravel()])
    if 1 - mask.mean() < MIN_BACKGROUND or 1 - frame.mean() < FRAME_BACKGROUND:
        return None
    return mask


def find_elements(pixels: np.ndarray) -> list[Element] | None:
    """The elements of an image (uint8 H×W×3), in reading order; None when it is not a sheet of elements."""
    mask = foreground(pixels)
    if mask is None:
        return None
    grow = GROW  # joins the strokes of one glyph, not its neighbours
    labels, count = ndimage.label(ndimage.binary_dilation(mask, iterations=grow))
    boxes = [Element(s[0].start, s[1].start, s[0].stop, s[1].stop) for s in ndimage.find_objects(labels)]
    if not boxes:
        return []
    floor = max(MIN_SIDE + 2 * grow, SPECK * float(np.median([b.side for b in boxes])))
    return [b for b in boxes if b.side >= floor]


def crop(pixels: np.ndarray, element: Element, fill: float, patch: int, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The square around `element` in which its longer side fills `fill`, moved by `shift` (fractions of
    the free margin), padded with the background's colour and resampled to patch × patch."""
    side = max(1, round(element.side / fill))
    cy, cx = (element.top + element.bottom) / 2, (element.left + element.right) / 2
    margin = (side - element.side) / 2
    h, w = pixels.shape[:2]
    top, left = round(cy - side / 2 + shift[0] * margin), round(cx - side / 2 + shift[1] * margin)
    top, left = (min(max(top, 0), h - side) if side <= h else top), (min(max(left, 0), w - side) if side <= w else left)
    out = np.empty((side, side, 3), np.uint8)
    out[:] = np.round(background(pixels)).astype(np.uint8)
    y0, x0, y1, x1 = max(top, 0), max(left, 0), min(top + side, h), min(left + side, w)
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
