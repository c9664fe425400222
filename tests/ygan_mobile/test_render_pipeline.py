"""The torch original and the numpy twin of spec v1 agree, and both follow the spec by hand."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import conv_pair
from reference_runtime import fast_paths
from reference_runtime import pipeline as np_pipe
from ygan_mobile.render import torch_pipeline as torch_pipe


def frame(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


CASES = [  # (H, W, P, S, themes, B)
    (32, 32, 8, 8, 1, 16),
    (37, 50, 8, 5, 1, 7),
    (40, 29, 16, 6, 2, 1),
    (5, 11, 8, 3, 1, 16),   # smaller than the patch on both axes
    (23, 45, 8, 8, 3, 7),
    (64, 48, 16, 16, 3, 16),
    (30, 30, 8, 1, 2, 16),  # stride 1: every position
    (6, 40, 8, 3, 2, 7),    # only the height is smaller than the patch
    (33, 17, 16, 16, 1, 1), # S = P with a last position L − P on both axes
]


@pytest.mark.parametrize("h,w,patch,stride,n_themes,batch", CASES)
@pytest.mark.parametrize("blend", ["feather", "paste"])
def test_torch_and_numpy_agree(h, w, patch, stride, n_themes, batch, blend):
    pairs = [conv_pair(t) for t in range(n_themes)]
    img = frame(h, w, seed=h * w)
    rows = len(np_pipe.positions(max(h, patch), patch, stride))
    cols = len(np_pipe.positions(max(w, patch), patch, stride))
    theme_map = np.arange(rows * cols).reshape(rows, cols) % n_themes
    kw = dict(patch=patch, stride=stride, blend=blend, batch=batch, theme_map=theme_map)
    t_float = torch_pipe.render_float(img, [p[0] for p in pairs], **kw).permute(1, 2, 0).numpy()
    n_float = np_pipe.render_float(img, [p[1] for p in pairs], **kw)
    assert t_float.shape == n_float.shape == (h, w, 3)
    assert np.abs(t_float - n_float).max() <= 1e-5
    t_u8 = torch_pipe.to_u8(torch.from_numpy(t_float).permute(2, 0, 1))
    assert np.abs(t_u8.astype(int) - np_pipe.quantise(n_float).astype(int)).max() <= 1


def test_numpy_pipeline_takes_nhwc_models():
    _, nchw = conv_pair(3)
    img = frame(20, 27)
    a = np_pipe.render_float(img, [nchw], patch=8, stride=4)
    b = np_pipe.render_float(img, [lambda x: nchw(x.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1)], patch=8, stride=4, layout="NHWC")
    assert np.array_equal(a, b)


@pytest.mark.parametrize("stride", [1, 3, 5, 8])
@pytest.mark.parametrize("blend", ["feather", "paste"])
@pytest.mark.parametrize("shape", [(19, 26), (8, 8), (3, 30)])
def test_identity_model_returns_the_input_exactly(stride, blend, shape):
    img = frame(*shape, seed=stride)
    assert np.array_equal(torch_pipe.render_frame(img, [lambda x: x], patch=8, stride=stride, blend=blend, batch=5), img)
    assert np.array_equal(fast_paths.render_frame(img, [lambda x: x], patch=8, stride=stride, blend=blend, batch=5), img)


def test_grid_positions_by_hand():
    for impl in (np_pipe, torch_pipe):
        assert impl.positions(10, 4, 3) == [0, 3, 6]
        assert impl.positions(11, 4, 3) == [0, 3, 6, 7]
        assert impl.positions(8, 8, 8) == [0]
        assert impl.positions(20, 8, 8) == [0, 8, 12]
        with pytest.raises(ValueError):
            impl.positions(10, 4, 5)


def test_blend_window_by_hand():
    # P = 6, S = 3, O = 3: min(1, (i+.5)/3, (5.5-i)/3)
    expected = np.array([0.5, 1.5, 2.5, 2.5, 1.5, 0.5]) / 3
    assert np.allclose(np_pipe.window(6, 3), expected)
    assert np.allclose(torch_pipe.window(6, 3).numpy(), expected)
    assert np.array_equal(np_pipe.window(4, 4), np.ones(4, np.float32))
    plateau = [0.25, 0.75, 1, 1, 1, 1, 0.75, 0.25]  # P = 8, S = 6, O = 2
    assert np.allclose(np_pipe.window(8, 6), plateau) and np.allclose(torch_pipe.window(8, 6).numpy(), plateau)
    assert np.allclose(np_pipe.window(6, 1), [0.1, 0.3, 0.5, 0.5, 0.3, 0.1])
    assert np.allclose(np_pipe.weights(6, 3), np.outer(expected, expected))


def test_rounding_rule_by_hand():
    y = np.array([-1.0, -0.996, 1.0, 2.0, -3.0, 0.0, 0.5 / 127.5 - 1], dtype=np.float32)
    assert np_pipe.quantise(y).tolist() == [0, 1, 255, 255, 0, 128, 1]
    assert torch_pipe.to_u8(torch.from_numpy(y).view(1, 1, -1).expand(3, 1, -1))[0, :, 0].tolist() == [0, 1, 255, 255, 0, 128, 1]


def test_normalise_and_quantise_match_the_spec_formulas():
    u8 = np.arange(256, dtype=np.uint8)
    assert np.array_equal(np_pipe.normalise(u8), u8.astype(np.float32) / np.float32(127.5) - np.float32(1))
    y = np.linspace(-1.2, 1.2, 200_001, dtype=np.float32)
    spec = np.floor(np.clip((y + np.float32(1)) * np.float32(127.5), 0, 255) + np.float32(0.5)).astype(np.uint8)
    assert np.array_equal(np_pipe.quantise(y), spec)


def test_feather_blend_by_hand():
    """Two patches (P=4, S=2) on a 4×6 frame with constant outputs a and b: the overlap mixes them by weight."""
    img = np.zeros((4, 6, 3), np.uint8)
    y = np_pipe.render_float(img, [lambda x: np.stack([np.full(x.shape[1:], v, np.float32) for v in (0.2, -0.6)])], patch=4, stride=2, batch=2)
    w = np_pipe.window(4, 2)  # [.25, .75, .75, .25]
    col2 = (w[2] * 0.2 + w[0] * -0.6) / (w[2] + w[0])
    assert np.allclose(y[0, :, 0], [0.2, 0.2, col2, (w[3] * 0.2 + w[1] * -0.6) / (w[3] + w[1]), -0.6, -0.6])


def test_stride_p_on_sides_not_multiples_of_p_averages_only_the_last_row_and_column():
    """S = P on a 20×24 frame (P = 8): positions 0, 8, 12 and 0, 8, 16; every weight is 1, so a
    pixel is its patch's value where one patch covers it and the plain mean where several do."""
    rng = np.random.default_rng(3)
    rows, cols = np_pipe.positions(20, 8, 8), np_pipe.positions(24, 8, 8)
    assert (rows, cols) == ([0, 8, 12], [0, 8, 16])
    ys = [rng.uniform(-1, 1, (len(cols), 8, 8, 3)).astype(np.float32) for _ in rows]
    got = np_pipe.blend_rows(iter(enumerate(ys)), rows, cols, (20, 24, 3), np_pipe.window(8, 8), "feather")
    total, count = np.zeros((20, 24, 3), np.float64), np.zeros((20, 24, 1))
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            total[r:r + 8, c:c + 8] += ys[i][j]
            count[r:r + 8, c:c + 8] += 1
    assert np.allclose(got, total / count, atol=1e-6, rtol=0)
    assert np.array_equal(got[:8, :16], np.concatenate([ys[0][0], ys[0][1]], axis=1))  # one patch each: exact


def test_paste_takes_the_later_patch():
    y = np_pipe.render_float(np.zeros((4, 6, 3), np.uint8),
                             [lambda x: np.stack([np.full(x.shape[1:], v, np.float32) for v in (0.2, -0.6)])],
                             patch=4, stride=2, blend="paste", batch=2)
    assert np.allclose(y[0, :, 0], [0.2, 0.2, -0.6, -0.6, -0.6, -0.6])
    t = torch_pipe.render_float(np.zeros((4, 6, 3), np.uint8),
                                [lambda x: torch.stack([torch.full(x.shape[1:], v) for v in (0.2, -0.6)])],
                                patch=4, stride=2, blend="paste", batch=2)
    assert np.allclose(t[0, 0].numpy(), [0.2, 0.2, -0.6, -0.6, -0.6, -0.6])


def test_last_batch_is_zero_padded_and_dropped():
    seen = []

    def model(x):
        seen.append(x.copy())
        return x

    fast_paths.render_frame(frame(8, 24), [model], patch=8, stride=8, batch=2)
    assert [s.shape[0] for s in seen] == [2, 2]
    assert not seen[1][1].any()


def test_numpy_pipeline_does_not_import_torch():
    code = ("import sys, numpy as np; from reference_runtime import fast_paths as p;"
            "p.render_frame(np.zeros((9, 9, 3), np.uint8), [lambda x: x], patch=4, stride=2);"
            "bad = [m for m in ('torch', 'tensorflow', 'ygan_mobile', 'distill', 'convert') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_bad_theme_maps_and_models_are_refused():
    img = frame(16, 16)
    for impl in (np_pipe, torch_pipe):
        with pytest.raises(ValueError, match="theme map"):
            impl.render_float(img, [lambda x: x], patch=8, stride=8, theme_map=np.zeros((3, 3), int))
        with pytest.raises(ValueError, match="patch model returned"):
            impl.render_float(img, [lambda x: x[:, :, :4]], patch=8, stride=8)
