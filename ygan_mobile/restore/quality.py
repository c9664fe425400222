"""Quality against ground truth: PSNR and SSIM on uint8 (scikit-image), and colourfulness.

Colourfulness is Hasler and Süsstrunk's (2003) M = σ_rgyb + 0.3·μ_rgyb over the opponent channels
rg = R − G and yb = (R + G)/2 − B: 0 for a grey image, about 30–60 for ordinary photographs. It is
what PSNR cannot see in colourisation, where a faint, safe tint scores well on PSNR.
"""

from __future__ import annotations

import math

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def psnr_u8(out: np.ndarray, truth: np.ndarray) -> float:
    if np.array_equal(out, truth):
        return math.inf
    return float(peak_signal_noise_ratio(truth, out, data_range=255))


def ssim_u8(out: np.ndarray, truth: np.ndarray) -> float:
    """Gaussian-weighted SSIM, the convention of the bundle's parity checks (docs/runtime.md)."""
    return float(structural_similarity(truth, out, data_range=255, channel_axis=-1, gaussian_weights=True,
                                       sigma=1.5, use_sample_covariance=False))


def colourfulness(rgb: np.ndarray) -> float:
    r, g, b = (rgb[..., c].astype(np.float64) for c in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean()))
