"""Paired patches for a restoration task: the same crops from the clean and the degraded images.

Both splits are made from the same images in the same order with the same seed, so the train /
held-out cut is the same and `batch(step, n)` draws the same crops from both: patch k of the
degraded batch is the degraded version of patch k of the clean batch. That pairing is what lets
training add a pixel loss against ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ygan_mobile.data.degrade import Degradation, add_noise
from ygan_mobile.data.patches import PatchSampler, PatchSplit, make_split, to_tensor
from ygan_mobile.data.photos import NamedImage

_NOISE, _HELDOUT_NOISE, _FIXED_NOISE = 11, 12, 14  # random streams of their own, apart from the patch draws


@dataclass(frozen=True)
class NoisySampler:
    """A PatchSampler whose batches get fresh Gaussian noise per step, in uint8 levels."""

    base: PatchSampler
    sigma: float

    @property
    def images(self) -> tuple[NamedImage, ...]:
        return self.base.images

    @property
    def names(self) -> tuple[str, ...]:
        return self.base.names

    @property
    def patch(self) -> int:
        return self.base.patch

    def batch(self, step: int, n: int) -> torch.Tensor:
        return self._noisy(self.base.batch(step, n), np.random.default_rng([self.base.seed, _NOISE, int(step)]))

    def fixed(self, n: int) -> torch.Tensor:
        """Noise drawn in patch order, so fixed(8) is still the first 8 of fixed(256)."""
        return self._noisy(self.base.fixed(n), np.random.default_rng([self.base.seed, _FIXED_NOISE]))

    def _noisy(self, x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        u8 = np.rint((x.numpy().astype(np.float64) + 1.0) * 127.5).astype(np.uint8)  # exact: patches come from uint8
        return to_tensor(add_noise(u8, self.sigma, rng).transpose(0, 2, 3, 1))  # noise drawn in NCHW order


def has_colour(rgb: np.ndarray) -> bool:
    """False for greyscale photographs stored as RGB: nothing to learn or measure in colourisation."""
    x = rgb[::4, ::4].astype(np.int16)
    return float(np.abs(x[..., 0] - x[..., 1]).mean() + np.abs(x[..., 1] - x[..., 2]).mean()) >= 1.0


def clean_images(images: list[NamedImage], d: Degradation) -> list[NamedImage]:
    """The ground-truth images of a task (colourisation keeps only images that have colour)."""
    kept = [i for i in images if d.task != "colorize" or has_colour(i.pixels)]
    return [NamedImage(i.name, np.ascontiguousarray(d.crop(i.pixels)), i.group) for i in kept]


def degraded_images(images: list[NamedImage], d: Degradation) -> list[NamedImage]:
    return [NamedImage(i.name, d.fixed_part(i.pixels), i.group) for i in clean_images(images, d)]


def clean_split(images: list[NamedImage], patch: int, seed: int, holdout: float, d: Degradation) -> PatchSplit:
    return make_split(clean_images(images, d), patch, seed, holdout)


def degraded_split(images: list[NamedImage], patch: int, seed: int, holdout: float, d: Degradation) -> PatchSplit:
    """Domain A. With noise: training batches get fresh noise every step; the held-out images get
    one fixed noise draw each (evaluation must see the same input every time)."""
    split = make_split(degraded_images(images, d), patch, seed, holdout)
    if not d.noisy:
        return split
    rng = np.random.default_rng([seed, _HELDOUT_NOISE])
    held = [NamedImage(i.name, d.apply(i.pixels, rng), i.group) for i in split.heldout.images]
    return PatchSplit(NoisySampler(split.train, d.noise_sigma),
                      PatchSampler(tuple(held), patch, seed, split.heldout.stream))
