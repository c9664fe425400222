"""Patch batches for training: a pure function of (seed, step), so a resumed run sees exactly the
batches an uninterrupted one would, and a train / held-out split by source image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ygan_mobile.data.photos import NamedImage
from ygan_mobile.errors import YganError

_TRAIN, _HELDOUT, _FIXED, _SPLIT = 0, 1, 2, 3  # independent random streams under one seed


def _key(seed: int) -> int:
    return int(seed) % 2**64  # SeedSequence takes non-negative integers only


def to_tensor(patches: np.ndarray) -> torch.Tensor:
    """uint8 (N,P,P,3) → float32 (N,3,P,P) in [-1, 1] with x = u8 / 127.5 - 1 (DESIGN §3).

    Computed in numpy: torch's uint8→float32 conversion measured ~100× slower here (24 ms vs 0.1 ms
    for 64 patches of 32²) and the float32 results are identical.
    """
    x = np.ascontiguousarray(patches.transpose(0, 3, 1, 2)).astype(np.float32)
    x /= np.float32(127.5)
    x -= np.float32(1.0)
    return torch.from_numpy(x)


@dataclass(frozen=True)
class PatchSampler:
    """Random P×P crops (and, when `augment`, horizontal flips) from in-memory uint8 images.

    Images are drawn with probability proportional to their area, so one big photograph counts as
    much as the several small ones it would cut into. No state changes between calls.
    """

    images: tuple[NamedImage, ...]
    patch: int
    seed: int
    stream: int = _TRAIN
    augment: bool = True
    _weights: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.images:
            raise YganError("a patch sampler needs at least one image — pass a folder with images")
        for image in self.images:
            h, w = image.pixels.shape[:2]
            if h < self.patch or w < self.patch:
                raise YganError(f"{image.name}: {w}×{h} is smaller than the {self.patch}×{self.patch} patch — "
                                "use larger images or a smaller model.patch")
        area = np.array([i.pixels.shape[0] * i.pixels.shape[1] for i in self.images], dtype=np.float64)
        object.__setattr__(self, "_weights", area / area.sum())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.images)

    def batch(self, step: int, n: int) -> torch.Tensor:
        """Batch number `step`: (n,3,P,P) float32 in [-1,1], the same for the same (seed, step)."""
        rng = np.random.default_rng([_key(self.seed), self.stream, int(step)])
        return to_tensor(self._draw(rng, n, self.augment))

    def fixed(self, n: int) -> torch.Tensor:
        """A fixed evaluation set without flips; patch k depends only on (seed, k), so fixed(8)
        is the first 8 of fixed(256)."""
        crops = [self._draw(np.random.default_rng([_key(self.seed), _FIXED, self.stream, k]), 1, False)
                 for k in range(n)]
        return to_tensor(np.concatenate(crops) if crops else np.zeros((0, self.patch, self.patch, 3), np.uint8))

    def _draw(self, rng: np.random.Generator, n: int, augment: bool) -> np.ndarray:
        p = self.patch
        which = rng.choice(len(self.images), size=n, p=self._weights)
        corners = rng.random((n, 2))
        flips = rng.random(n) < 0.5
        out = np.empty((n, p, p, 3), dtype=np.uint8)
        for k, (index, (fy, fx)) in enumerate(zip(which, corners)):
            pixels = self.images[index].pixels
            y = int(fy * (pixels.shape[0] - p + 1))
            x = int(fx * (pixels.shape[1] - p + 1))
            crop = pixels[y:y + p, x:x + p]
            out[k] = crop[:, ::-1] if augment and flips[k] else crop
        return out


@dataclass(frozen=True)
class PatchSplit:
    train: PatchSampler
    heldout: PatchSampler


def split_by_source(images: list[NamedImage], holdout: float, seed: int) -> tuple[list[NamedImage], list[NamedImage]]:
    """Hold out round(holdout × scenes) whole scenes (at least 1, at most all but 1), chosen by seed,
    besides the scenes of images marked `held` (the embedded portrait), which are always held out.

    A scene is an image or a group of near-copies (NamedImage.group). One lone image is cut instead
    into two strips along its longer side, so evaluation still never sees a training pixel.
    """
    if not 0 < holdout < 1:
        raise YganError(f"data.holdout must be between 0 and 1 (exclusive), got {holdout} — e.g. 0.25")
    scenes = list(dict.fromkeys(i.scene for i in images))
    if len(scenes) == 1:
        return _split_strips(images, holdout)
    forced = list(dict.fromkeys(i.scene for i in images if i.held))
    free = [s for s in scenes if s not in forced]
    count = min(len(free) - 1, max(1, round(holdout * len(free))))
    order = np.random.default_rng([_key(seed), _SPLIT]).permutation(len(free))
    held = set(forced) | {free[i] for i in order[:count]}
    return [i for i in images if i.scene not in held], [i for i in images if i.scene in held]


def _split_strips(images: list[NamedImage], holdout: float) -> tuple[list[NamedImage], list[NamedImage]]:
    train, heldout = [], []
    for image in images:
        pixels = image.pixels
        axis = 0 if pixels.shape[0] >= pixels.shape[1] else 1
        cut = round(pixels.shape[axis] * (1 - holdout))
        first, second = np.split(pixels, [cut], axis=axis)
        train.append(NamedImage(image.name + "#train", first, image.scene))
        heldout.append(NamedImage(image.name + "#heldout", second, image.scene))
    return train, heldout


def make_split(images: list[NamedImage], patch: int, seed: int, holdout: float) -> PatchSplit:
    """Training batches come from the train images only; held-out patches only from the others."""
    return samplers(*split_by_source(images, holdout, seed), patch, seed)


def samplers(train: list[NamedImage], heldout: list[NamedImage], patch: int, seed: int) -> PatchSplit:
    """The samplers of a train / held-out split, each image checked to hold a patch."""
    for part in train + heldout:
        h, w = part.pixels.shape[:2]
        if h < patch or w < patch:
            raise YganError(f"{part.name}: after the train / held-out cut the image is {w}×{h}, smaller than the "
                            f"{patch}×{patch} patch — add a second image or use a larger one")
    return PatchSplit(PatchSampler(tuple(train), patch, seed, _TRAIN),
                      PatchSampler(tuple(heldout), patch, seed, _HELDOUT))
