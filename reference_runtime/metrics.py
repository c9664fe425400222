"""Parity metrics (DESIGN §6): max abs, mean abs and PSNR on [-1, 1] floats; PSNR and SSIM on uint8.

SSIM is Wang et al.'s with an 11-tap Gaussian window (sigma 1.5) averaged over the pixels whose
window lies inside the image and over the channels — the convention of scikit-image's
`structural_similarity(..., gaussian_weights=True, use_sample_covariance=False)`, written in numpy
because the runtime stands for the phone and carries no image library beyond Pillow.
"""

from __future__ import annotations

import math

import numpy as np

SIGMA = 1.5
RADIUS = 5  # int(3.5·σ + 0.5): the window is 11 pixels wide


def max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max())


def mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean())


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 2.0) -> float:
    """In dB; infinite when the two are equal."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(data_range**2 / mse)


def _gaussian() -> np.ndarray:
    x = np.arange(-RADIUS, RADIUS + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / SIGMA) ** 2)
    return k / k.sum()


def _blur_valid(img: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Separable filter over H and W, keeping only positions where the window fits."""
    rows = np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), 0, img)
    return np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), 1, rows)


def ssim(a_u8: np.ndarray, b_u8: np.ndarray, data_range: float = 255.0) -> float:
    """Mean SSIM of two H×W×C (or H×W) images; both sides must be at least 11 pixels."""
    a, b = np.asarray(a_u8, np.float64), np.asarray(b_u8, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"ssim of images with different shapes {a.shape} and {b.shape}")
    if min(a.shape[:2]) < 2 * RADIUS + 1:
        raise ValueError(f"ssim needs images of at least {2 * RADIUS + 1} pixels per side, got {a.shape[:2]}")
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    k = _gaussian()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    scores = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch], b[..., ch]
        mx, my = _blur_valid(x, k), _blur_valid(y, k)
        vx = _blur_valid(x * x, k) - mx * mx
        vy = _blur_valid(y * y, k) - my * my
        cxy = _blur_valid(x * y, k) - mx * my
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        scores.append(s.mean())
    return float(np.mean(scores))
