"""The runtime's PSNR and SSIM are the ones eval and verify report: they must equal scikit-image's
(the convention docs/runtime.md names) on real images, not only on identical ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from reference_runtime import metrics


def _pair(seed: int, shape=(40, 52, 3)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    noise = rng.integers(-20, 21, shape)
    return a, np.clip(a.astype(np.int16) + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_psnr_and_ssim_match_scikit_image(seed):
    a, b = _pair(seed)
    assert metrics.psnr(b, a, data_range=255.0) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255), abs=1e-9)
    want = structural_similarity(a, b, data_range=255, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False)
    assert metrics.ssim(b, a) == pytest.approx(want, abs=1e-9)


def test_identical_images_score_infinite_psnr_and_ssim_one():
    a, _ = _pair(3)
    assert metrics.psnr(a, a, data_range=255.0) == math.inf
    assert metrics.ssim(a, a) == pytest.approx(1.0)
    assert metrics.psnr(a.astype(np.int16) + 1, a, data_range=255.0) == pytest.approx(20 * math.log10(255), abs=1e-9)
