"""Theme domains B, drawn offline and deterministically: tile i of a theme is a pure function of
(theme, seed, i), so asking for more tiles only appends.

A tile is drawn at the scale of one patch and holds one whole element (a flower, a skull, a bright
star, a galaxy, a digit), because a patch is what the generator paints: trained on fragments of
larger tiles, generators painted fragments — soft blobs of the theme's colour that no one could
name (docs/lab/2026-12-04-stamp-recipe.md). Backgrounds span dark to bright so every input brightness has themed
patches to match. flowers, eyes and skulls composite Noto Color Emoji glyphs (OFL) with random
scale, rotation and colour jitter; stars and galaxies are painted with numpy; numbers draws
sklearn's 8×8 handwritten digits. docs/data.md shows what each looks like.
"""

from __future__ import annotations

import functools
import glob
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ygan_mobile.data.photos import NamedImage
from ygan_mobile.errors import YganError
from ygan_mobile.luma import BT601

THEMES = ("flowers", "eyes", "skulls", "stars", "galaxies", "numbers")
EMOJI_FONT_SIZE = 109  # Noto Color Emoji is a bitmap font: FreeType loads it at this size only
EMOJI_FONT_GLOBS = ("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf", "/usr/share/fonts/**/NotoColorEmoji.ttf")


@dataclass(frozen=True)
class EmojiStyle:
    glyphs: str
    background_hues: tuple[float, float]  # degrees; the background gradient's hues are drawn from here
    background_value: tuple[float, float]
    rotation: float  # ± degrees
    scale: tuple[float, float]  # the element's longer side as a fraction of the tile
    hue_jitter: float  # ± degrees
    brightness: tuple[float, float]  # the glyph's colours are scaled by a factor from here (on a dark ground)


EMOJI_STYLES = {
    "flowers": EmojiStyle("🌸🌻🌹🌷🌼🌺🏵", (70, 150), (0.08, 0.95), 180, (0.7, 1.0), 25, (0.55, 1.15)),
    "eyes": EmojiStyle("👁👀🧿", (0, 40), (0.1, 0.95), 30, (0.7, 1.0), 10, (0.55, 1.15)),
    "skulls": EmojiStyle("💀☠", (240, 320), (0.04, 0.9), 20, (0.7, 1.0), 15, (0.45, 1.1)),
}
NEIGHBOUR_CHANCE = 0.35  # a tile may also show part of a smaller element at its edge, as in a mosaic


@functools.lru_cache(maxsize=1)
def _font() -> ImageFont.FreeTypeFont:
    for pattern in EMOJI_FONT_GLOBS:
        for path in sorted(glob.glob(pattern, recursive=True)):
            return ImageFont.truetype(path, EMOJI_FONT_SIZE)
    raise YganError("the Noto Color Emoji font is missing — install the Debian package fonts-noto-color-emoji "
                    "(`make install` does)")


@functools.lru_cache(maxsize=64)
def _glyph(char: str) -> Image.Image:
    """The glyph's colour bitmap, premultiplied (RGBa) so rotation and resizing leave no dark fringe."""
    font = _font()
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), char, font=font, embedded_color=True)
    canvas = Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((-left, -top), char, font=font, embedded_color=True)
    return canvas.crop(canvas.getbbox()).convert("RGBa")


def _hue_rotate(rgb: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate hue about the grey axis (a rotation in YIQ's chroma plane), keeping luma."""
    to_yiq = np.array([BT601, [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    turn = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    return rgb @ (np.linalg.inv(to_yiq) @ turn @ to_yiq).T


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    k = (np.array([5.0, 3.0, 1.0]) + h / 60.0) % 6
    return v - v * s * np.clip(np.minimum(k, 4 - k), 0, 1)


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1]: a coarse random grid upsampled bicubically."""
    coarse = Image.fromarray(rng.random((cells, cells)).astype(np.float32), "F")
    return np.clip(np.asarray(coarse.resize((size, size), Image.Resampling.BICUBIC)), 0, 1)


def _background(rng: np.random.Generator, size: int, style: EmojiStyle) -> tuple[np.ndarray, float]:
    """A soft two-colour gradient and its brightness (HSV value)."""
    value = rng.uniform(*style.background_value)  # one brightness per tile, so the tile's mean is chosen
    ends = [_hsv_to_rgb(rng.uniform(*style.background_hues) % 360, rng.uniform(0.3, 0.8), min(1.0, value * rng.uniform(0.85, 1.15)))
            for _ in range(2)]
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    t = np.clip(0.5 + (xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle), 0, 1)[..., None]
    sky = ends[0] * (1 - t) + ends[1] * t
    return np.clip(sky * (0.8 + 0.4 * _smooth_noise(rng, size, 5)[..., None]), 0, 1), value


def _paste_glyph(tile: Image.Image, rng: np.random.Generator, style: EmojiStyle, side: int,
                 centre: tuple[float, float], light: bool) -> None:
    """On a light background the glyph is darkened, so every element stands out from its ground."""
    glyph = _glyph(style.glyphs[int(rng.integers(len(style.glyphs)))])
    factor = side / max(glyph.size)
    glyph = glyph.resize((max(1, round(glyph.width * factor)), max(1, round(glyph.height * factor))),
                         Image.Resampling.LANCZOS)
    glyph = glyph.rotate(rng.uniform(-style.rotation, style.rotation), Image.Resampling.BICUBIC, expand=True)
    if rng.random() < 0.5:
        glyph = glyph.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    rgba = np.asarray(glyph.convert("RGBA"), dtype=np.float64) / 255
    rgb = _hue_rotate(rgba[..., :3], rng.uniform(-style.hue_jitter, style.hue_jitter))
    rgb = rgb * (rng.uniform(0.3, 0.6) if light else rng.uniform(*style.brightness)) * rng.uniform(0.92, 1.08, size=3)
    paint = Image.fromarray((np.dstack([np.clip(rgb, 0, 1), rgba[..., 3]]) * 255 + 0.5).astype(np.uint8), "RGBA")
    tile.paste(paint, (round(centre[1] - glyph.width / 2), round(centre[0] - glyph.height / 2)), paint)


def _emoji_tile(rng: np.random.Generator, size: int, style: EmojiStyle) -> np.ndarray:
    """One whole glyph near the centre; sometimes part of a smaller one cut by the edge first."""
    ground, value = _background(rng, size, style)
    tile = Image.fromarray((ground * 255 + 0.5).astype(np.uint8), "RGB")
    light = value > 0.55
    if rng.random() < NEIGHBOUR_CHANCE:
        corner = rng.choice([-0.05, 1.05], size=2) * size
        _paste_glyph(tile, rng, style, max(4, int(rng.uniform(0.35, 0.6) * size)), tuple(corner), light)
    side = max(4, int(rng.uniform(*style.scale) * size))
    slack = max(0.0, (size - side) / 2)
    centre = size / 2 + rng.uniform(-slack, slack, size=2)
    _paste_glyph(tile, rng, style, side, tuple(centre), light)
    return np.asarray(tile, dtype=np.uint8)


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable gaussian blur as a sum of shifted copies (the kernel is a few taps wide)."""
    radius = max(1, int(3 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    size = img.shape[0]
    for axis in (0, 1):
        padded = np.pad(img, [(radius, radius) if a == axis else (0, 0) for a in range(img.ndim)])
        img = sum(w * np.take(padded, np.arange(k, k + size), axis=axis) for k, w in enumerate(kernel))
    return img


def _star_colour(rng: np.random.Generator) -> np.ndarray:
    """From blue-white through white to orange, roughly along the black-body line."""
    palette = np.array([[0.65, 0.78, 1.0], [0.85, 0.9, 1.0], [1.0, 1.0, 1.0], [1.0, 0.9, 0.7], [1.0, 0.7, 0.45]])
    return palette[int(rng.integers(len(palette)))]


def _sky(rng: np.random.Generator, size: int, faint: int, nebula: float, light: float = 0.0) -> np.ndarray:
    """A blue sky, a faint coloured nebula, and `faint` point stars splatted then blurred. With `light`
    0 the sky runs from black to dusk, mostly dark (the squared draw leaves some light enough for
    bright inputs); with `light` > 0 its brightness is drawn evenly up to `light`, paler as it brightens,
    so that light inputs have tiles of their own light rather than a dark tile lifted to it."""
    hue, saturation, draw = rng.uniform(210, 260), rng.uniform(0.4, 0.9), rng.random()
    if light:
        base = _hsv_to_rgb(hue, saturation * (1 - 0.5 * draw), 0.02 + light * draw)
    else:
        base = _hsv_to_rgb(hue, saturation, 0.02 + 0.4 * draw**2)
    glow = _hsv_to_rgb(rng.uniform(0, 360), rng.uniform(0.4, 0.8), 1.0)
    img = base + nebula * rng.uniform(0.3, 1) * _smooth_noise(rng, size, 4)[..., None] ** 2 * glow
    points = np.zeros((size, size, 3))
    ys, xs = rng.integers(0, size, faint), rng.integers(0, size, faint)
    brightness = rng.pareto(1.5, faint)[:, None] * 0.6 + 0.3
    colours = np.array([_star_colour(rng) for _ in range(faint)]).reshape(faint, 3)
    np.add.at(points, (ys, xs), brightness * colours)
    return img + 2.5 * _blur(points, 0.6)


def _bright_star(img: np.ndarray, rng: np.random.Generator, main: bool = False) -> None:
    """A gaussian glow with four diffraction spikes, added in place. The main star of a tile sits
    near its centre with spikes across most of it; the others land anywhere, smaller."""
    size = img.shape[0]
    cy, cx = size / 2 + rng.uniform(-0.15, 0.15, 2) * size if main else rng.uniform(0, size, 2)
    colour = _star_colour(rng)
    sigma = rng.uniform(0.04, 0.08) * size if main else rng.uniform(0.02, 0.04) * size
    spike = rng.uniform(0.35, 0.55) * size if main else rng.uniform(0.1, 0.25) * size
    yy, xx = np.mgrid[0:size, 0:size]
    dy, dx = yy - cy, xx - cx
    turn = rng.uniform(0, np.pi / 2) if rng.random() < 0.3 else 0.0
    u, v = dx * np.cos(turn) + dy * np.sin(turn), -dx * np.sin(turn) + dy * np.cos(turn)
    core = np.exp(-(dx**2 + dy**2) / (2 * sigma**2)) + 0.25 * np.exp(-(dx**2 + dy**2) / (2 * (3 * sigma) ** 2))
    spikes = np.exp(-np.abs(u) / (0.3 * spike)) * np.exp(-(v**2) / 0.8) + np.exp(-np.abs(v) / (0.3 * spike)) * np.exp(-(u**2) / 0.8)
    img += rng.uniform(1.5, 3.0) * (core + 0.6 * spikes)[..., None] * colour


def _tone(img: np.ndarray) -> np.ndarray:
    """Soft highlight roll-off instead of hard clipping, like an exposed photograph."""
    return (255 * (1 - np.exp(-1.6 * np.clip(img, 0, None))) / (1 - np.exp(-1.6)) + 0.5).clip(0, 255).astype(np.uint8)


def _stars_tile(rng: np.random.Generator, size: int) -> np.ndarray:
    img = _sky(rng, size, int(rng.integers(size // 8, size // 3 + 1)), nebula=0.25)
    for _ in range(int(rng.integers(0, 3))):
        _bright_star(img, rng)
    _bright_star(img, rng, main=True)
    return _tone(img)


def _galaxy(img: np.ndarray, rng: np.random.Generator) -> None:
    """A logarithmic-spiral disk galaxy: bulge, arms, clumps and dust, seen at a random inclination."""
    size = img.shape[0]
    cy, cx = rng.uniform(0.35, 0.65, 2) * size
    radius, tilt, angle = rng.uniform(0.3, 0.6) * size, rng.uniform(0.35, 1.0), rng.uniform(0, np.pi)
    arms, wind, sharp = int(rng.integers(2, 4)), rng.choice([-1, 1]) * rng.uniform(2.5, 5.0), rng.uniform(2, 5)
    yy, xx = np.mgrid[0:size, 0:size]
    dx, dy = xx - cx, yy - cy
    u = (dx * np.cos(angle) + dy * np.sin(angle)) / radius
    v = (-dx * np.sin(angle) + dy * np.cos(angle)) / (radius * tilt)
    r, theta = np.hypot(u, v) + 1e-6, np.arctan2(v, u)
    phase = arms * theta - wind * np.log(r)
    arm = (0.5 + 0.5 * np.cos(phase)) ** sharp
    dust = 1 - 0.5 * (0.5 + 0.5 * np.cos(phase - 0.6)) ** (2 * sharp) * (r > 0.12)
    clumps = 0.6 + 0.8 * _smooth_noise(rng, size, 12)
    disk = np.exp(-r / 0.28)
    bulge = np.exp(-((r / 0.09) ** 2))
    cool, warm = np.array([0.55, 0.7, 1.0]), np.array([1.0, 0.85, 0.6])
    light = (disk * (1.6 * arm * clumps * dust))[..., None] * cool + (0.5 * disk * dust + 2.5 * bulge)[..., None] * warm
    img += rng.uniform(0.8, 1.4) * light


def _galaxies_tile(rng: np.random.Generator, size: int) -> np.ndarray:
    """A galaxy under a sky of any light, dark to pale (docs/lab/2026-12-04-stamp-recipe.md, tenth round): with dark skies
    alone one tile served every patch lighter than ~115 of 255 and the generator stamped it there."""
    img = _sky(rng, size, int(rng.integers(size // 10, size // 4 + 1)), nebula=0.08, light=0.8)
    _galaxy(img, rng)
    if rng.random() < 0.5:
        _bright_star(img, rng)
    return _tone(img)


@functools.lru_cache(maxsize=1)
def _digits() -> np.ndarray:
    from sklearn.datasets import load_digits

    return load_digits().images / 16.0


def _numbers_tile(rng: np.random.Generator, size: int) -> np.ndarray:
    """One handwritten digit (sometimes a 2×2 grid), ink and paper colours drawn per tile."""
    digits, grid = _digits(), 1 if rng.random() < 0.7 else 2
    paper = _hsv_to_rgb(rng.uniform(0, 360), rng.uniform(0, 0.3), rng.uniform(0.75, 1.0))
    ink = _hsv_to_rgb(rng.uniform(0, 360), rng.uniform(0.3, 1.0), rng.uniform(0.0, 0.5))
    if rng.random() < 0.3:
        paper, ink = ink, paper
    cell = -(-size // grid)
    coverage = np.zeros((cell * grid, cell * grid))
    for row in range(grid):
        for col in range(grid):
            digit = Image.fromarray(digits[int(rng.integers(len(digits)))].astype(np.float32), "F")
            inner = max(2, int(cell * rng.uniform(0.6, 0.85)))  # a margin keeps neighbours apart
            y, x = row * cell + int(rng.integers(0, cell - inner + 1)), col * cell + int(rng.integers(0, cell - inner + 1))
            coverage[y:y + inner, x:x + inner] = digit.resize((inner, inner), Image.Resampling.BICUBIC)
    mix = np.clip((coverage[:size, :size] - 0.3) * 2.5, 0, 1)[..., None]  # crisper strokes than the 8×8 blur
    return (255 * (paper * (1 - mix) + ink * mix) + 0.5).clip(0, 255).astype(np.uint8)


def _tile(name: str, rng: np.random.Generator, size: int) -> np.ndarray:
    if name in EMOJI_STYLES:
        return _emoji_tile(rng, size, EMOJI_STYLES[name])
    return {"stars": _stars_tile, "galaxies": _galaxies_tile, "numbers": _numbers_tile}[name](rng, size)


def render_theme(name: str, count: int, size: int = 128, seed: int = 0) -> list[NamedImage]:
    """`count` square RGB tiles of side `size` (the patch size in training), named `<theme>_<index>`."""
    return list(_rendered(name, count, size, seed))


@functools.lru_cache(maxsize=8)
def _rendered(name: str, count: int, size: int, seed: int) -> tuple[NamedImage, ...]:
    """The tiles of one call, kept: a build needs them for training and again for the quality stage's
    held-out tiles, and drawing the quick preset's 3 × 2,000 takes seconds. Read-only, so sharing is safe."""
    if name not in THEMES:
        raise YganError(f"unknown theme {name!r} — choose one of {', '.join(THEMES)}, or pass --data-b with your own images")
    if count < 1 or size < 8:
        raise YganError(f"theme {name}: need count ≥ 1 and size ≥ 8, got count={count}, size={size}")
    salt = THEMES.index(name)
    tiles = []
    for i in range(count):
        pixels = _tile(name, np.random.default_rng([seed % 2**64, salt, i]), size)
        pixels.setflags(write=False)
        tiles.append(NamedImage(f"{name}_{i:04d}", pixels))
    return tuple(tiles)
