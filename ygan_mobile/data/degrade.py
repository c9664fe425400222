"""The degradations that turn a clean photograph into domain A of a restoration task.

Why whole images and uint8: the phone receives a degraded uint8 frame, so training inputs are made
the same way — the deterministic part (greyscale, blur, down-and-up sampling) applied once to each
whole image, so borders and resampling match what a real degraded frame has, and Gaussian noise
drawn afresh per batch (`add_noise`) so the model never learns one noise pattern by heart. Every
result is rounded and clipped to uint8.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from ygan_mobile.luma import BT601

TASKS = ("colorize", "denoise", "superres", "deblur")
LUMA = np.array(BT601)


@dataclass(frozen=True)
class Degradation:
    task: str
    noise_sigma: float = 25.0  # denoise: standard deviation in uint8 levels (25 = 25/255)
    blur_sigma: float = 2.0  # deblur: Gaussian blur standard deviation in pixels
    scale: int = 2  # superres: down- and up-sampling factor

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"unknown restoration task '{self.task}': use one of {', '.join(TASKS)}")
        if self.noise_sigma <= 0 or self.blur_sigma <= 0 or self.scale < 2:
            raise ValueError(f"noise_sigma ({self.noise_sigma}) and blur_sigma ({self.blur_sigma}) must be > 0 "
                             f"and scale ({self.scale}) ≥ 2")

    def parameters(self) -> dict:
        """The task and the one parameter it uses: what a bundle records and `ygan eval` compares."""
        used = {"denoise": {"noise_sigma": self.noise_sigma}, "deblur": {"blur_sigma": self.blur_sigma},
                "superres": {"scale": self.scale}}.get(self.task, {})
        return {"task": self.task, **used}

    @property
    def noisy(self) -> bool:
        return self.task == "denoise"

    def crop(self, clean: np.ndarray) -> np.ndarray:
        """Super-resolution needs sides divisible by the scale; other tasks keep the image."""
        if self.task != "superres":
            return clean
        h, w = clean.shape[:2]
        return clean[: h - h % self.scale, : w - w % self.scale]

    def fixed_part(self, clean: np.ndarray) -> np.ndarray:
        """The deterministic degradation of a whole uint8 H×W×3 image (after `crop`)."""
        if self.task == "colorize":
            return greyscale(clean)
        if self.task == "deblur":
            return blur(clean, self.blur_sigma)
        if self.task == "superres":
            return bicubic_up(downsample(clean, self.scale), self.scale)
        return clean

    def apply(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The full degradation of one whole image, noise drawn from `rng` (evaluation frames)."""
        degraded = self.fixed_part(clean)
        return add_noise(degraded, self.noise_sigma, rng) if self.noisy else degraded


def greyscale(rgb: np.ndarray) -> np.ndarray:
    y = np.rint(rgb.astype(np.float64) @ LUMA).clip(0, 255).astype(np.uint8)
    return np.repeat(y[..., None], 3, axis=2)


def blur(rgb: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur per channel, edges reflected; kernel truncated at 4σ (scipy's default)."""
    out = gaussian_filter(rgb.astype(np.float64), sigma=(sigma, sigma, 0), mode="reflect")
    return np.rint(out).clip(0, 255).astype(np.uint8)


def downsample(rgb: np.ndarray, scale: int) -> np.ndarray:
    """Bicubic with Pillow's antialiasing filter: the usual way low-resolution images are made."""
    h, w = rgb.shape[:2]
    return np.asarray(Image.fromarray(rgb).resize((w // scale, h // scale), Image.Resampling.BICUBIC))


def bicubic_up(rgb: np.ndarray, scale: int) -> np.ndarray:
    """Back to full size with bicubic interpolation: the classical baseline and the model's input."""
    h, w = rgb.shape[:2]
    return np.asarray(Image.fromarray(rgb).resize((w * scale, h * scale), Image.Resampling.BICUBIC))


def add_noise(u8: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    noisy = u8.astype(np.float64) + rng.normal(0.0, sigma, size=u8.shape)
    return np.rint(noisy).clip(0, 255).astype(np.uint8)
