"""The renderers beyond the parity core: theme bands, random crops, salient patches, feedback,
stereo pairs, crop resizing and video, each on a hand-built case where the answer is known."""

import numpy as np
import pytest
import torch

from ygan_mobile import ingest
from ygan_mobile.errors import YganError
from ygan_mobile.render import random_crops, salient, torch_pipeline, stereo, theme_map
from ygan_mobile.render.renderer import RenderOptions, make_renderer, resized
from ygan_mobile.render.video import render_video


def constant(value: float):
    return lambda x: torch.full_like(x, value)


def level(value: float) -> int:
    """The uint8 level a constant float output rounds to."""
    return int(torch_pipeline.to_u8(torch.full((3, 1, 1), value))[0, 0, 0])


def halves(h: int, w: int, dark: int = 10, bright: int = 240) -> np.ndarray:
    frame = np.full((h, w, 3), dark, np.uint8)
    frame[:, w // 2:] = bright
    return frame


def test_luminance_bands_by_hand():
    assert theme_map.band(np.array([0, 127.9, 128, 255]), 2).tolist() == [0, 0, 1, 1]
    assert theme_map.band(np.array([0, 85.3, 85.4, 170.6, 170.7, 255]), 3).tolist() == [0, 0, 1, 1, 2, 2]  # edges 256/3, 512/3
    frame = halves(8, 16)
    assert theme_map.luminance_bands(frame, 8, 8, 2).tolist() == [[0, 1]]
    assert theme_map.luminance_bands(frame, 8, 4, 3).tolist() == [[0, 1, 2]]  # the middle patch averages 125


def test_random_boxes_reach_coverage_inside_the_frame_and_follow_the_seed():
    h, w, patch = 60, 90, 16
    boxes = random_crops.random_boxes(h, w, patch, 0.8, np.random.default_rng(5))
    covered = np.zeros((h, w), bool)
    for b in boxes:
        assert 0 <= b.top and b.top + b.height <= h and 0 <= b.left and b.left + b.width <= w
        covered[b.top:b.top + b.height, b.left:b.left + b.width] = True
    assert covered.mean() >= 0.8
    assert len({(b.height, b.width) for b in boxes}) > 1
    assert all(patch * 0.5 / 2 ** 0.5 - 1 <= min(b.height, b.width) and max(b.height, b.width) <= patch * 2 * 2 ** 0.5 + 1
               for b in boxes)
    assert boxes == random_crops.random_boxes(h, w, patch, 0.8, np.random.default_rng(5))
    assert boxes != random_crops.random_boxes(h, w, patch, 0.8, np.random.default_rng(6))


def test_full_coverage_terminates_and_covers_every_pixel():
    boxes = random_crops.random_boxes(120, 200, 16, 1.0, np.random.default_rng(0))
    covered = np.zeros((120, 200), bool)
    for b in boxes:
        covered[b.top:b.top + b.height, b.left:b.left + b.width] = True
    assert covered.all() and len(boxes) < 120 * 200 / 16 ** 2 * 10


def test_random_rendering_changes_covered_pixels_and_keeps_the_rest():
    frame = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    out = random_crops.render_random(frame, [constant(0.4)], patch=8, coverage=0.3, seed=2)
    covered = np.zeros((40, 50), bool)
    for b in random_crops.random_boxes(40, 50, 8, 0.3, np.random.default_rng(2)):
        covered[b.top:b.top + b.height, b.left:b.left + b.width] = True
    assert (out[covered] == level(0.4)).all()
    assert np.array_equal(out[~covered], frame[~covered])


def test_random_rendering_picks_each_box_theme_by_luminance():
    out = random_crops.render_random(halves(40, 200), [constant(-0.5), constant(0.5)], patch=8, coverage=1.0, seed=0)
    assert (out[:, :50] == level(-0.5)).all() and (out[:, 150:] == level(0.5)).all()


def test_salient_patches_are_the_textured_ones():
    frame = np.full((16, 32, 3), 100, np.uint8)
    frame[:, 16:] = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    assert salient.salient_patches(frame, 8, 8, 0.5).tolist() == [[False, False, True, True]] * 2
    assert salient.salient_patches(frame, 8, 8, 1.0).all()
    assert salient.salient_patches(frame, 8, 8, 0.01).sum() == 1


def test_salient_rendering_keeps_the_flat_region_exactly():
    frame = np.full((16, 32, 3), 100, np.uint8)
    frame[:, 16:] = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    out = salient.render_salient(frame, [constant(0.7)], patch=8, stride=8, fraction=0.5)
    assert np.array_equal(out[:, :16], frame[:, :16])
    assert (out[:, 16:] == level(0.7)).all()


@pytest.mark.parametrize("feedback,inverted", [(0, True), (1, False), (2, True)])
def test_feedback_feeds_the_output_back(feedback, inverted):
    frame = np.random.default_rng(0).integers(0, 256, (20, 28, 3), dtype=np.uint8)
    render = make_renderer([lambda x: -x], 8, RenderOptions(patch=8, stride=4, feedback=feedback))
    assert np.array_equal(render(frame), 255 - frame if inverted else frame)


def test_stereo_views_by_hand():
    row = np.arange(5, dtype=np.uint8).reshape(1, 5, 1).repeat(3, axis=2)
    assert stereo.right_view(row, 2)[0, :, 0].tolist() == [2, 3, 4, 4, 4]
    assert stereo.right_view(row, 9)[0, :, 0].tolist() == [4, 4, 4, 4, 4]
    frame = np.random.default_rng(1).integers(0, 256, (12, 20, 3), dtype=np.uint8)
    pair = make_renderer([lambda x: -x], 8, RenderOptions(patch=8, stride=4, stereo=True, disparity=3))(frame)
    assert np.array_equal(pair, np.concatenate([255 - frame, 255 - stereo.right_view(frame, 3)], axis=1))


def test_several_themes_split_the_grid_by_luminance():
    render = make_renderer([constant(-0.5), constant(0.5)], 8, RenderOptions(patch=8, stride=8))
    out = render(halves(8, 32))
    assert (out[:, :16] == level(-0.5)).all() and (out[:, 16:] == level(0.5)).all()


def test_crops_of_another_size_are_resized_to_the_model_patch():
    seen = []

    def model(x):
        seen.append(tuple(x.shape))
        return x

    out = make_renderer([model], 8, RenderOptions(patch=12, stride=6, batch=4))(np.zeros((20, 30, 3), np.uint8))
    assert out.shape == (20, 30, 3) and set(seen) == {(4, 3, 8, 8)}
    assert resized(model, 8, 8) is model


def test_render_video_resamples_by_time_and_leaves_nothing_on_failure(tmp_path):
    src = tmp_path / "clip.mp4"
    ingest.write_video(src, [np.full((16, 24, 3), 20 * i, np.uint8) for i in range(6)], fps=12.0)
    out = tmp_path / "half.mp4"
    assert render_video(src, out, lambda f: 255 - f, fps=6.0, progress=False) == 3
    assert (ingest.video_info(out).frames, ingest.video_info(out).fps) == (3, 6.0)

    def failing(frame):
        raise YganError("the model failed")

    with pytest.raises(YganError):
        render_video(src, tmp_path / "never.mp4", failing, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "half.mp4"]
