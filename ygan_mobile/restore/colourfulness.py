"""Colourfulness, the restoration score beside PSNR and SSIM (which are the runtime's, in
reference_runtime/metrics.py, so eval and verify measure alike).

It is Hasler and Süsstrunk's (2003) M = σ_rgyb + 0.3·μ_rgyb over the opponent channels
rg = R − G and yb = (R + G)/2 − B: 0 for a grey image, about 30–60 for ordinary photographs. It is
what PSNR cannot see in colourisation, where a faint, safe tint scores well on PSNR.
"""

from __future__ import annotations

import math

import numpy as np


def colourfulness(rgb: np.ndarray) -> float:
    r, g, b = (rgb[..., c].astype(np.float64) for c in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean()))
