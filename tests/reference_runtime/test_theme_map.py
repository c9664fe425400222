"""The runtime's theme maps are `ygan render`'s: the same luminance bands and salient patches as
ygan_mobile's rules (whose labelled copies they are, tests/test_copies.py, over the runtime's own grid
positions), on frames padded or not, at overlapping and abutting grids."""

from __future__ import annotations

import numpy as np
import pytest

from reference_runtime import theme_map
from ygan_mobile.render import salient as torch_salient
from ygan_mobile.render import theme_map as torch_theme_map


@pytest.mark.parametrize("shape, patch, stride", [((45, 61, 3), 16, 8), ((12, 70, 3), 16, 16), ((64, 64, 3), 8, 3)])
def test_the_same_maps_as_ygan_render(shape, patch, stride):
    frame = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    for n in (2, 3):
        np.testing.assert_array_equal(theme_map.luminance_bands(frame, patch, stride, n),
                                      torch_theme_map.luminance_bands(frame, patch, stride, n))
    for fraction in (0.1, 0.5, 1.0):
        np.testing.assert_array_equal(theme_map.salient_patches(frame, patch, stride, fraction),
                                      torch_salient.salient_patches(frame, patch, stride, fraction))
