"""Spec v2 in numpy (reference_runtime/multiscale.py) against the spec by hand: the identity model
returns what the resampling's exact arithmetic says, the budget holds, the layout is deterministic,
and hysteresis keeps a still, noisy video's layout from boiling."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import conv_pair
from reference_runtime import fast_paths
from reference_runtime import multiscale as ms
from reference_runtime import pipeline as np_pipe
from test_fast_paths import integer_pair


def identity(x: np.ndarray) -> np.ndarray:
    return x


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Flat grey with a noisy rectangle: detail in one place only."""
    img = np.full((h, w, 3), 120, np.uint8)
    rng = np.random.default_rng(seed)
    img[h // 8:h // 2, w // 6:w // 2] = rng.integers(0, 256, (h // 2 - h // 8, w // 2 - w // 6, 3))
    return img


def by_hand(frame: np.ndarray, top: int, left: int, size: int, patch: int) -> np.ndarray:
    """Spec v2 steps 6–8 for one cell through the identity model, scalar loops as the pseudo-code reads."""
    h, w = frame.shape[:2]

    def px(r, c, ch):
        return int(frame[min(r, h - 1), min(c, w - 1), ch])

    p = np.zeros((patch, patch, 3), np.int64)
    for i in range(patch):
        for j in range(patch):
            for ch in range(3):
                if size >= patch:
                    f = size // patch
                    s = sum(px(top + f * i + u, left + f * j + v, ch) for u in range(f) for v in range(f))
                    p[i, j, ch] = (s + f * f // 2) // (f * f)
                else:
                    g = patch // size
                    p[i, j, ch] = px(top + i // g, left + j // g, ch)
    q = np_pipe.quantise(np_pipe.normalise(p.astype(np.uint8))).astype(np.int64)  # identity model, v1 step 6
    if size == patch:
        return q
    if size < patch:
        g = patch // size
        return (q.reshape(size, g, size, g, 3).sum(axis=(1, 3)) + g * g // 2) // (g * g)
    f = size // patch
    lo, hi, w0, w1 = [], [], [], []
    for t in range(size):
        num = 2 * t + 1 - f
        i0 = num // (2 * f)
        r = num - 2 * f * i0
        lo.append(min(max(i0, 0), patch - 1))
        hi.append(min(max(i0 + 1, 0), patch - 1))
        w0.append(2 * f - r)
        w1.append(r)
    o = np.zeros((size, size, 3), np.int64)
    for u in range(size):
        for v in range(size):
            for ch in range(3):
                hl = w0[v] * q[lo[u], lo[v], ch] + w1[v] * q[lo[u], hi[v], ch]
                hh = w0[v] * q[hi[u], lo[v], ch] + w1[v] * q[hi[u], hi[v], ch]
                o[u, v, ch] = (w0[u] * hl + w1[u] * hh + 2 * f * f) // (4 * f * f)
    return o


@pytest.mark.parametrize("shape", [(70, 90), (64, 64), (13, 40), (70, 64)])
def test_identity_model_gives_each_cell_its_resampling_and_small_cells_exactly(shape):
    img = textured(*shape, seed=shape[0])
    settings = ms.Multiscale(threshold=20, hysteresis=0, budget=60, largest=32, smallest=4)
    out = ms.render(img, [identity], patch=8, settings=settings, batch=5)
    cells = out.layout.cells()
    assert {4, 8}.issubset(set(cells[:, 2].tolist())) and (cells[:, 2] > 8).any(), cells  # every kind of cell
    for top, left, size, _ in cells.tolist():
        want = by_hand(img, top, left, size, 8)
        got = out.frame[top:top + size, left:left + size]
        assert np.array_equal(got, want[:got.shape[0], :got.shape[1]]), (top, left, size)
        if size <= 8:  # replication then box mean, or a copy: the input itself
            assert np.array_equal(got, img[top:top + size, left:left + size])


def test_the_padded_frame_copies_only_the_rows_below_the_last_whole_row_of_largest_cells():
    frame = textured(70, 64)
    padded = ms.pad_to_cells(frame, 32)
    assert padded.shape == (96, 64, 3) and [top for top, _ in padded.bands] == [0, 64]
    (_, above), (_, below) = padded.bands
    assert np.shares_memory(above, frame) and not np.shares_memory(below, frame)
    whole = np.concatenate([band for _, band in padded.bands])
    assert np.array_equal(whole, np.pad(frame, ((0, 26), (0, 0), (0, 0)), mode="edge"))
    narrow = ms.pad_to_cells(frame[:, :50], 32)  # not as wide as the padded frame: one padded band
    assert len(narrow.bands) == 1 and np.array_equal(narrow.bands[0][1], np.pad(frame[:, :50], ((0, 26), (0, 14), (0, 0)), mode="edge"))
    assert np.array_equal(ms.padded_luma(padded, np_pipe.Workspace()), ms.block_luma(whole))


def test_a_flat_frame_comes_back_exactly_from_every_cell_size():
    img = np.full((100, 70, 3), (17, 200, 91), np.uint8)
    for largest in (16, 32, 64):
        out = ms.render(img, [identity], patch=16, settings=ms.Multiscale(largest=largest), batch=3)
        assert np.array_equal(out.frame, img)
        assert set(out.layout.cells()[:, 2].tolist()) == {largest}  # nothing splits: no detail


def test_the_bilinear_taps_are_the_specs():
    lo, hi, w0, w1 = ms.bilinear_taps(8, 4)  # f = 2: centres at (t + 0.5)/2 − 0.5
    assert lo.tolist() == [0, 0, 0, 1, 1, 2, 2, 3] and hi.tolist() == [0, 1, 1, 2, 2, 3, 3, 3]
    assert w0.tolist() == [1, 3, 1, 3, 1, 3, 1, 3] and w1.tolist() == [3, 1, 3, 1, 3, 1, 3, 1]
    lo, hi, w0, w1 = ms.bilinear_taps(16, 4)  # f = 4: weights in eighths
    assert w1[:4].tolist() == [5, 7, 1, 3] and lo[:4].tolist() == [0, 0, 0, 0] and hi[:4].tolist() == [0, 0, 1, 1]
    assert ((w0 + w1) == 8).all()


@pytest.mark.parametrize("size,patch", [(8, 4), (16, 4), (64, 8), (64, 32)])
def test_the_phase_by_phase_upsampling_is_the_gather_of_the_specs_taps(size, patch):
    q = np.random.default_rng(size).integers(0, 256, (3, patch, patch, 3), dtype=np.uint8).astype(np.int64)
    lo, hi, w0, w1 = (t.astype(np.int64) for t in ms.bilinear_taps(size, patch))
    rows = q[:, :, lo] * w0[None, None, :, None] + q[:, :, hi] * w1[None, None, :, None]
    f = size // patch
    want = (rows[:, lo] * w0[None, :, None, None] + rows[:, hi] * w1[None, :, None, None] + 2 * f * f) // (4 * f * f)
    assert np.array_equal(ms.patch_to_cell(q.astype(np.uint8), size), want)


def test_detail_and_band_are_the_integer_variance_and_luminance_band():
    img = np.zeros((8, 8, 3), np.uint8)
    img[:, 4:] = 200  # block luma: 0 left half, 200 right half
    y = ms.block_luma(img)
    assert y.tolist() == [[0, 0, 200, 200]] * 4
    (s1, s2), = ms.cell_sums(y, [8])
    assert ms.detail(s1, s2, 8).tolist() == [[100 * 100]]  # variance of half 0, half 200
    assert ms.band(s1, 8, 2).tolist() == [[0]] and ms.band(s1, 8, 3).tolist() == [[1]]  # mean 100 of 256
    red = np.zeros((4, 4, 3), np.uint8)
    red[0::2, 0::2] = (255, 0, 0)  # only each block's top-left pixel counts
    assert ms.block_luma(red).tolist() == [[77, 77], [77, 77]]  # (77·255 + 128) >> 8
    assert ms.block_luma(np.roll(red, 1, axis=1)).tolist() == [[0, 0], [0, 0]]


def test_one_cell_size_on_multiples_of_p_is_spec_v1_at_stride_p():
    torch_model, model = conv_pair(4)
    img = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    v2 = ms.render(img, [model], patch=16, settings=ms.Multiscale(largest=16, smallest=16), batch=4).frame
    v1 = fast_paths.render_frame(img, [model], patch=16, stride=16, blend="paste", batch=4)
    assert np.array_equal(v1, v2)


@pytest.mark.parametrize("budget", [1, 6, 7, 10, 25, 100, 10_000])
def test_the_budget_is_never_exceeded(budget):
    img = np.random.default_rng(budget).integers(0, 256, (90, 130, 3), dtype=np.uint8)  # detail everywhere
    settings = ms.Multiscale(threshold=0, hysteresis=0, budget=budget, largest=32, smallest=4)
    layout = ms.render(img, [identity], patch=8, settings=settings, batch=8).layout
    roots = 3 * 5  # ceil(90/32) × ceil(130/32)
    count = len(layout.cells())
    assert count <= max(budget, roots)
    assert count > budget - 4 or budget == 10_000  # a split adds at most 3: the budget is used up to that
    if budget == 10_000:  # every live cell of the smallest size: the frame is tiled at 4 px
        assert count == -(-90 // 4) * -(-130 // 4)


def test_the_layout_is_deterministic_and_ties_go_row_major():
    tile = np.random.default_rng(5).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    img = np.full((32, 64, 3), 90, np.uint8)
    img[:16, 16:32] = tile  # the same detail in two cells of 32 …
    img[:16, 48:64] = tile
    settings = ms.Multiscale(threshold=10, hysteresis=0, budget=5, largest=32, smallest=16)
    first = ms.render(img, [identity], patch=16, settings=settings, batch=2).layout.cells()
    again = ms.render(img.copy(), [identity], patch=16, settings=settings, batch=2).layout.cells()
    assert np.array_equal(first, again)
    # … and budget for one split: the left one (row-major) splits, the right one stays whole
    assert first[:, :3].tolist() == [[0, 32, 32], [0, 0, 16], [0, 16, 16], [16, 0, 16], [16, 16, 16]]


def still_video(n: int, noise: float, seed: int = 0) -> list[np.ndarray]:
    """One scene, its cells' detail spread around the threshold, with fresh camera noise each frame."""
    rng = np.random.default_rng(seed)
    h, w = 128, 192
    amp = rng.uniform(0, 16, (h // 16, w // 16))  # per-cell texture amplitude: luma variances 0 to ~256
    texture = rng.normal(0, 1, (h, w, 1)) * np.kron(amp, np.ones((16, 16)))[:, :, None]
    scene = 128 + texture
    return [np.clip(scene + rng.normal(0, noise, (h, w, 3)), 0, 255).round().astype(np.uint8) for _ in range(n)]


def layouts(frames: list[np.ndarray], settings: ms.Multiscale, ws: np_pipe.Workspace) -> list[np.ndarray]:
    return [ms.render(f, [identity], patch=16, settings=settings, batch=16, workspace=ws).layout.cells() for f in frames]


def test_hysteresis_keeps_a_still_noisy_video_from_boiling():
    frames = still_video(8, noise=2.0)
    steady = layouts(frames, ms.Multiscale(threshold=64, hysteresis=16, budget=400), np_pipe.Workspace())
    assert all(np.array_equal(steady[1], later) for later in steady[2:])  # from the second frame on: still
    boiling = layouts(frames, ms.Multiscale(threshold=64, hysteresis=0, budget=400), np_pipe.Workspace())
    assert any(not np.array_equal(a, b) for a, b in zip(boiling, boiling[1:]))  # without it, cells flip


def test_after_a_cut_the_layout_lies_between_the_two_bars_and_another_size_forgets_it():
    settings = ms.Multiscale(threshold=64, hysteresis=16, budget=400)
    ws = np_pipe.Workspace()
    a, b = still_video(1, 2.0, seed=1)[0], still_video(1, 2.0, seed=2)[0]

    def split(frame, workspace, threshold=64, hysteresis=16):
        s = ms.Multiscale(threshold=threshold, hysteresis=hysteresis, budget=400)
        return ms.render(frame, [identity], patch=16, settings=s, batch=16, workspace=workspace).layout.split

    first = split(a, ws)
    cut = split(b, ws)
    tight, loose = split(b, np_pipe.Workspace(), 80, 0), split(b, np_pipe.Workspace(), 48, 0)
    assert any((x != y).any() for x, y in zip(first, cut))  # the new scene's layout …
    for t, c, l in zip(tight, cut, loose):  # … splits every cell above T + Hy and none at or below T − Hy
        assert (t <= c).all() and (c <= l).all()
    assert any((t != l).any() for t, l in zip(tight, loose))  # (the bars differ on this scene)
    split(a[:60], ws)  # another padded frame size (64 rows, not 128): the state is dropped, not misapplied
    assert all((x == y).all() for x, y in zip(split(b, ws), split(b, np_pipe.Workspace())))


def test_several_themes_take_each_cells_luminance_band():
    img = np.zeros((64, 64, 3), np.uint8)
    img[:, 32:] = 250
    dark, light = (lambda x: x * 0 - 1), (lambda x: x * 0 + 1)
    out = ms.render(img, [dark, light], patch=16, settings=ms.Multiscale(largest=32), batch=4)
    assert out.themes.tolist() == [0, 1, 0, 1]
    assert (out.frame[:, :32] == 0).all() and (out.frame[:, 32:] == 255).all()


def test_nhwc_and_integer_models_give_the_float_paths_bytes():
    _, nchw = conv_pair(2)
    img = textured(80, 100, seed=2)
    settings = ms.Multiscale(threshold=30, hysteresis=0, budget=60, largest=32, smallest=4)
    want = ms.render(img, [nchw], patch=8, settings=settings, batch=7).frame
    nhwc = ms.render(img, [lambda x: nchw(x.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1)], patch=8,
                     settings=settings, batch=7, layout="NHWC").frame
    assert np.array_equal(want, nhwc)
    integer, as_float = integer_pair()
    fed = ms.render(img, [integer], patch=8, settings=settings, batch=7, layout="NHWC")
    floated = ms.render(img, [as_float], patch=8, settings=settings, batch=7, layout="NHWC", keep_float=True)
    assert np.array_equal(fed.frame, floated.frame)
    assert floated.floats.shape == (len(floated.layout.cells()), 8, 8, 3)


def test_integer_models_fed_bytes_from_the_cells_give_the_float_paths_bytes_frame_after_frame():
    """Step 6 writes the integer models' input bytes (the table before the replication) and the
    patches go to the models where they lie: the same frames as the float path, with one theme and
    with two (each theme's cells then taken apart), over a video whose workspace buffers are reused."""
    integer, as_float = integer_pair()
    settings = ms.Multiscale(threshold=30, hysteresis=0, budget=60, largest=32, smallest=2)
    fed_ws, float_ws = np_pipe.Workspace(), np_pipe.Workspace()
    for seed in range(3):
        img = textured(80, 100, seed=seed)
        for models in ([integer], [integer, integer]):
            assert ms.byte_fed(models, "NHWC", keep_float=False) is integer
            fed = ms.render(img, models, patch=8, settings=settings, batch=7, layout="NHWC", workspace=fed_ws)
            floats = [as_float] * len(models)
            want = ms.render(img, floats, patch=8, settings=settings, batch=7, layout="NHWC", workspace=float_ws)
            assert np.array_equal(fed.frame, want.frame) and np.array_equal(fed.themes, want.themes)
    assert ms.byte_fed([integer], "NHWC", keep_float=True) is None and ms.byte_fed([integer, as_float], "NHWC", False) is None


def test_workspace_rows_keep_the_largest_count_asked_for():
    ws = np_pipe.Workspace()
    big = ws.rows("cells", 5, (2, 3), np.uint16)
    small = ws.rows("cells", 2, (2, 3), np.uint16)
    assert small.shape == (2, 2, 3) and np.shares_memory(big, small) and small.flags.c_contiguous
    assert not np.shares_memory(ws.rows("cells", 7, (2, 3), np.uint16), big)  # grown
    assert ws.rows("cells", 3, (2, 3), np.uint8).dtype == np.uint8  # another kind: made anew


@pytest.mark.parametrize("settings,message", [
    (dict(budget=0), "budget 0 must be at least 1"),
    (dict(threshold=-1, hysteresis=0), "threshold -1 must be 0 or more"),
    (dict(threshold=10, hysteresis=11), "hysteresis 11 must be between 0 and the threshold 10"),
    (dict(largest=48), "largest cell 48 must be the patch 16 times a power of two"),
    (dict(largest=8), "largest cell 8 must be the patch 16 times a power of two"),
    (dict(smallest=6), "smallest cell 6 must be the patch 16 divided by a power of two"),
    (dict(smallest=1), "smallest cell 1 must be"),
])
def test_bad_settings_are_refused_in_one_line(settings, message):
    with pytest.raises(ValueError, match=message) as info:
        ms.render(textured(20, 20), [identity], patch=16, settings=ms.Multiscale(**settings), batch=1)
    assert "\n" not in str(info.value)
