"""Classical restorations to compare against, from scipy and scikit-image (never hand-rolled).

Parameters are fixed and documented in docs/restore.md; each method is given what the task's
degradation is known to be (noise σ, blur kernel), which favours the baselines, not the model.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.ndimage import gaussian_filter, median_filter

from ygan_mobile.data.degrade import Degradation

Baseline = Callable[[np.ndarray], np.ndarray]


def _u8(x: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def _unit(u8: np.ndarray) -> np.ndarray:
    return u8.astype(np.float64) / 255.0


def gaussian_denoise(u8: np.ndarray) -> np.ndarray:
    return _u8(gaussian_filter(_unit(u8), sigma=(1.0, 1.0, 0)))


def median_denoise(u8: np.ndarray) -> np.ndarray:
    return median_filter(u8, size=(3, 3, 1))


def nl_means(sigma_levels: float) -> Baseline:
    def run(u8: np.ndarray) -> np.ndarray:
        from skimage.restoration import denoise_nl_means

        sigma = sigma_levels / 255.0
        return _u8(denoise_nl_means(_unit(u8), h=0.8 * sigma, sigma=sigma, patch_size=5, patch_distance=6,
                                    fast_mode=True, channel_axis=-1))
    return run


def unsharp(radius: float) -> Baseline:
    def run(u8: np.ndarray) -> np.ndarray:
        from skimage.filters import unsharp_mask

        x = _unit(u8)  # per channel: scikit-image 0.26 returns inf with channel_axis on float input
        return _u8(np.stack([unsharp_mask(x[..., c], radius=radius, amount=1.0) for c in range(3)], axis=-1))
    return run


def gaussian_psf(sigma: float) -> np.ndarray:
    """The blur kernel of degrade.blur, truncated at 4σ like scipy's filter."""
    r = int(4 * sigma + 0.5)
    k = np.zeros((2 * r + 1, 2 * r + 1))
    k[r, r] = 1.0
    return gaussian_filter(k, sigma, mode="constant")


def wiener(sigma: float, balance: float = 0.1) -> Baseline:
    def run(u8: np.ndarray) -> np.ndarray:
        from skimage.restoration import wiener as deconvolve

        psf = gaussian_psf(sigma)
        x = _unit(u8)
        return _u8(np.stack([deconvolve(x[..., c], psf, balance, clip=False) for c in range(3)], axis=-1))
    return run


def baselines(d: Degradation) -> dict[str, Baseline]:
    """The classical rows of a task's table (the degraded input is always a row of its own)."""
    if d.task == "denoise":
        return {"gaussian filter σ=1": gaussian_denoise, "median 3×3": median_denoise,
                f"non-local means (σ={d.noise_sigma:g})": nl_means(d.noise_sigma)}
    if d.task == "deblur":
        return {f"unsharp mask (r={d.blur_sigma:g})": unsharp(d.blur_sigma),
                "Wiener deconvolution": wiener(d.blur_sigma)}
    return {}


INPUT_NAME = {"colorize": "greyscale (unchanged)", "denoise": "noisy input", "superres": "bicubic upsampling",
              "deblur": "blurred input"}
