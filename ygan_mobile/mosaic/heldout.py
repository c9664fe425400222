"""What the mosaic numbers are computed on, none of it ever trained on by the teacher or the judge.

Scored: every photograph the teacher held out (its split by scene), resized to `side` pixels on the
longer side (≥ 512, what a user sees) and cropped to a multiple of P so the stride-P grid covers it
exactly. Each theme's held-out tiles are shared out in turn: even ones teach the judge, odd ones
measure its accuracy and are the variety yardstick. The judge learns what a photograph patch looks
like from the teacher's *training* photographs — decision: the embedded set holds out only five
scenes, and halving them would score two; a generator never imitates photographs, so the judge
seeing them gives it nothing to exploit, while the scored photographs stay unseen by both networks.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ygan_mobile.atomic import atomic_path
from ygan_mobile.data import NamedImage, photographs, split_by_source, theme_split
from ygan_mobile.errors import YganError

JUDGE_PHOTO_PATCHES = 4000
THEME_PATCHES = 600  # per theme and half: tiles are cropped to patches this many times
PHOTOMOSAIC_CROPS = 2000  # a user's theme images cut into this many patches for the classical photomosaic


@dataclass
class HeldOut:
    frames: list[NamedImage]  # scored photographs, uint8, sides multiples of P
    judge_photo: np.ndarray  # uint8 (N,P,P,3) photograph patches the judge learns from
    judge_themes: dict[str, np.ndarray]  # per theme, patches the judge learns from
    test_themes: dict[str, np.ndarray]  # per theme, patches for its accuracy and the variety yardstick
    train_themes: dict[str, np.ndarray]  # per theme, its training tiles: what the classical photomosaic is made of


def fit(pixels: np.ndarray, side: int, patch: int) -> np.ndarray:
    """Resize so the longer side is `side` (LANCZOS), then crop centred to multiples of P."""
    h, w = pixels.shape[:2]
    scale = side / max(h, w)
    size = (max(patch, round(w * scale)), max(patch, round(h * scale)))
    img = np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS))
    h, w = img.shape[0] // patch * patch, img.shape[1] // patch * patch
    top, left = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return np.ascontiguousarray(img[top:top + h, left:left + w])


def crops(images: list[np.ndarray], patch: int, n: int, seed: int) -> np.ndarray:
    """n random P×P crops, images drawn in proportion to their area."""
    rng = np.random.default_rng([seed, 11])
    area = np.array([i.shape[0] * i.shape[1] for i in images], dtype=np.float64)
    which = rng.choice(len(images), size=n, p=area / area.sum())
    out = np.empty((n, patch, patch, 3), np.uint8)
    for k, i in enumerate(which):
        img = images[i]
        y, x = rng.integers(0, img.shape[0] - patch + 1), rng.integers(0, img.shape[1] - patch + 1)
        out[k] = img[y:y + patch, x:x + patch]
    return out


def _halves(items: list) -> tuple[list, list]:
    return items[0::2], items[1::2]


def theme_tiles(theme: str, patch: int, seed: int, holdout: float, count: int, data_b: str = "") -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The theme's training tiles and its held-out tiles, exactly as training split them (train.load_data's seeds)."""
    train, held = theme_split(theme, patch, seed, holdout, data_b or None, count)
    return [i.pixels for i in train], [i.pixels for i in held]


def patches_of(images: list[np.ndarray], patch: int, n: int, seed: int) -> np.ndarray:
    """Tiles that are one patch each as they are; larger images (a user's --data-b) as n random crops."""
    if all(i.shape[:2] == (patch, patch) for i in images):
        return np.stack(images)
    return crops(images, patch, n, seed)


def heldout(patch: int, seed: int, holdout: float, themes: list[str], tiles: int, side: int = 512,
            data_a: str = "", data_b: str = "") -> HeldOut:
    """`seed` is the teacher's train.seed; theme i's tiles were drawn with seed + 1 + i."""
    train, held = split_by_source(photographs(patch, data_a or None), holdout, seed)
    frames = [NamedImage(i.name, fit(i.pixels, side, patch), held=i.held) for i in held]
    judge_photo = crops([fit(i.pixels, side, patch) for i in train], patch, JUDGE_PHOTO_PATCHES, seed)
    judge_t, test_t, train_t = {}, {}, {}
    for k, theme in enumerate(themes):
        trained, held_tiles = theme_tiles(theme, patch, seed + 1 + k, holdout, tiles, data_b)
        a, b = _halves(held_tiles)
        if not a or not b:
            raise YganError(f"theme {theme}: too few held-out tiles to teach and test the judge — raise data.theme_tiles")
        judge_t[theme] = crops(a, patch, THEME_PATCHES, seed + k)
        test_t[theme] = crops(b, patch, THEME_PATCHES, seed + 100 + k)
        train_t[theme] = patches_of(trained, patch, PHOTOMOSAIC_CROPS, seed + 200 + k)
    return HeldOut(frames, judge_photo, judge_t, test_t, train_t)


KINDS = ("judge_themes", "test_themes", "train_themes")


def save(held: HeldOut, path: str | os.PathLike) -> None:
    """`held` as one safetensors file: uint8 arrays, the frames' names and the themes in its header. Why:
    the quality stage's judge children read it in a tenth of a second where drawing it again took each
    about 11 s (quick preset, AMD EPYC); no pickle."""
    from safetensors.numpy import save_file

    arrays = {"judge_photo": held.judge_photo}
    arrays.update({f"{kind}.{theme}": a for kind in KINDS for theme, a in getattr(held, kind).items()})
    arrays.update({f"frame.{k}": f.pixels for k, f in enumerate(held.frames)})
    header = {"frames": [[f.name, f.group, f.held] for f in held.frames], "themes": list(held.judge_themes)}
    with atomic_path(path) as tmp:
        save_file({k: np.ascontiguousarray(a) for k, a in arrays.items()}, str(tmp), metadata={"heldout": json.dumps(header)})


def load(path: str | os.PathLike) -> HeldOut:
    """What save wrote."""
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        header = json.loads(f.metadata()["heldout"])
        frames = [NamedImage(name, f.get_tensor(f"frame.{k}"), group, held) for k, (name, group, held) in enumerate(header["frames"])]
        kinds = {kind: {t: f.get_tensor(f"{kind}.{t}") for t in header["themes"]} for kind in KINDS}
        return HeldOut(frames, f.get_tensor("judge_photo"), **kinds)
