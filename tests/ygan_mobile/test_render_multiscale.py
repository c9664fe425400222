"""Spec v2: the torch pipeline (ygan_mobile/render/multiscale.py) and the numpy twin
(reference_runtime/multiscale.py), written independently, pick the same cells and render the same
frame: within 1e-5 on the model's floats and one level on uint8 for the same conv model (here equal),
frame after frame of a video with the layout state carried."""

import numpy as np
import pytest

from conftest import conv_pair
from reference_runtime import multiscale as np_ms
from reference_runtime import pipeline as np_pipe
from ygan_mobile.render import multiscale as torch_ms


def scene(h: int, w: int, seed: int) -> np.ndarray:
    """Smooth gradients, a flat area and a noisy patch: cells of every size."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)), np.full((h, w), 90)], axis=2)
    img[h // 3:, :w // 3] = 40
    img[h // 6:h // 2, w // 2:] = rng.integers(0, 256, (h // 2 - h // 6, w - w // 2, 3))
    return img.astype(np.uint8)


CASES = [  # (H, W, P, largest, smallest, threshold, hysteresis, budget, themes, batch)
    (64, 96, 16, None, None, 64, 16, 512, 1, 16),
    (70, 45, 8, 32, 2, 30, 0, 60, 2, 7),       # sides not multiples of any cell, a budget that stops a level
    (20, 30, 8, None, None, 10, 5, 100, 3, 4),  # a frame smaller than the largest cell
    (96, 128, 16, 128, 4, 0, 0, 10_000, 2, 64),
    (50, 50, 8, 8, 8, 64, 16, 512, 1, 5),      # one cell size
]


@pytest.mark.parametrize("h,w,patch,largest,smallest,threshold,hysteresis,budget,n_themes,batch", CASES)
def test_torch_and_numpy_agree(h, w, patch, largest, smallest, threshold, hysteresis, budget, n_themes, batch):
    pairs = [conv_pair(t) for t in range(n_themes)]
    img = scene(h, w, seed=h + w)
    settings = dict(threshold=threshold, hysteresis=hysteresis, budget=budget, largest=largest, smallest=smallest)
    t = torch_ms.render(img, [p[0] for p in pairs], patch=patch, options=torch_ms.MultiscaleOptions(**settings), batch=batch)
    n = np_ms.render(img, [p[1] for p in pairs], patch=patch, settings=np_ms.Multiscale(**settings), batch=batch,
                     keep_float=True)
    assert np.array_equal(t.cells, n.layout.cells(n.themes))
    assert len(t.cells) <= max(budget, len(n.layout.leaves[0].nonzero()[0]))
    assert n_themes == 1 or len(set(t.cells[:, 3].tolist())) > 1  # the bands split the cells
    assert np.abs(t.floats - n.floats).max() <= 1e-5
    assert t.frame.shape == n.frame.shape == (h, w, 3)
    assert np.abs(t.frame.astype(int) - n.frame.astype(int)).max() <= 1


def test_a_video_keeps_the_same_layouts_in_both():
    torch_model, numpy_model = conv_pair(7)
    rng = np.random.default_rng(0)
    base = scene(64, 96, seed=3).astype(float)
    frames = [np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8) for _ in range(5)]
    frames.append(scene(64, 96, seed=4))  # a cut
    state, ws = torch_ms.LayoutState(), np_pipe.Workspace()
    o = dict(threshold=40, hysteresis=10, budget=80)
    for frame in frames:
        t = torch_ms.render(frame, [torch_model], patch=16, options=torch_ms.MultiscaleOptions(**o), batch=8, state=state)
        n = np_ms.render(frame, [numpy_model], patch=16, settings=np_ms.Multiscale(**o), batch=8, workspace=ws)
        assert np.array_equal(t.cells, n.layout.cells())
        assert np.abs(t.frame.astype(int) - n.frame.astype(int)).max() <= 1


def test_the_integer_resampling_matrix_is_the_specs_taps():
    lo, hi, w0, w1 = np_ms.bilinear_taps(32, 8)
    a = torch_ms.upsampling_matrix(32, 8).numpy()
    b = np.zeros((32, 8), np.int64)
    np.add.at(b, (np.arange(32), lo), w0)
    np.add.at(b, (np.arange(32), hi), w1)
    assert np.array_equal(a, b) and (a.sum(axis=1) == 8).all()


@pytest.mark.parametrize("settings,message", [(dict(budget=0), "budget 0"), (dict(largest=24), "largest cell 24"),
                                              (dict(threshold=5, hysteresis=6), "hysteresis 6")])
def test_bad_settings_are_refused_as_numpy_refuses_them(settings, message):
    for render, kw in ((torch_ms.render, dict(options=torch_ms.MultiscaleOptions(**settings))),
                       (np_ms.render, dict(settings=np_ms.Multiscale(**settings)))):
        with pytest.raises(ValueError, match=message):
            render(scene(16, 16, 0), [lambda x: x], patch=8, batch=1, **kw)
