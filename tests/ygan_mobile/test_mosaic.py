"""Mosaic quality (DESIGN §11): the metrics on frames whose answers are known, the judge on synthetic
classes it must tell apart by shape, and the quality-stage helpers that need no model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ygan_mobile.mosaic.judge import luminance, train_judge
from ygan_mobile.mosaic.baselines import Photomosaic, stamp
from ygan_mobile.mosaic.metrics import (colour_filter, colour_r, detail_r, grid_patches, has_colour, mosaic_scores,
                                        picture_r, picture_scores, spread, structure_r)


def photo(h: int = 64, w: int = 96, seed: int = 0) -> np.ndarray:
    """A smooth random frame with large-scale structure (what σ = P low-pass keeps)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (h // 16 + 1, w // 16 + 1, 3)).astype(np.float64)
    y, x = np.linspace(0, coarse.shape[0] - 1, h), np.linspace(0, coarse.shape[1] - 1, w)
    rows = np.stack([np.interp(x, np.arange(coarse.shape[1]), coarse[int(round(r)), :, c]) for r in y for c in range(3)])
    return rows.reshape(h, 3, w).transpose(0, 2, 1).round().astype(np.uint8)


def test_structure_r_of_a_frame_with_itself_is_one_and_of_a_flat_output_zero():
    frame = photo()
    assert structure_r(frame, frame, 16) == pytest.approx(1.0)
    assert structure_r(np.full_like(frame, 128), frame, 16) == pytest.approx(0.0, abs=1e-6)
    inverted = 255 - frame
    assert structure_r(inverted, frame, 16) == pytest.approx(-1.0, abs=1e-6)


def test_variety_of_identical_patches_is_zero():
    stamp = np.random.default_rng(1).integers(0, 256, (1, 8, 8, 3), dtype=np.uint8)
    assert spread(np.repeat(stamp, 50, axis=0)) == 0.0
    varied = np.random.default_rng(2).integers(0, 256, (50, 8, 8, 3), dtype=np.uint8)
    assert spread(varied) > 0.5


def test_colour_filter_keeps_the_output_mean_colour_and_the_input_shape():
    rng = np.random.default_rng(3)
    inputs = rng.integers(90, 150, (6, 8, 8, 3), dtype=np.uint8)  # no channel clips at 255 after scaling
    outputs = np.broadcast_to(np.array([110, 30, 70], np.uint8), (6, 8, 8, 3)).copy()
    filtered = colour_filter(inputs, outputs)
    assert filtered.dtype == np.uint8 and filtered.shape == inputs.shape
    np.testing.assert_allclose(filtered.reshape(6, -1, 3).mean(axis=1), outputs.reshape(6, -1, 3).mean(axis=1), atol=0.6)
    # the pattern stays the input's: luminance correlates with the input's patch by patch
    for a, b in zip(filtered, inputs):
        assert np.corrcoef(luminance(a[None]).ravel(), luminance(b[None]).ravel())[0, 1] > 0.8


def test_grid_patches_are_the_non_overlapping_tiles_row_major():
    frame = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    tiles = grid_patches(frame, 2)
    assert tiles.shape == (6, 2, 2, 3)
    expected = [frame[r:r + 2, c:c + 2] for r in (0, 2) for c in (0, 2, 4)]
    for got, want in zip(tiles, expected):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError):
        grid_patches(frame, 4)


def _checkers(n: int, rng: np.random.Generator, patch: int = 16) -> np.ndarray:
    out = np.empty((n, patch, patch, 3), np.uint8)
    for k in range(n):
        cell = int(rng.integers(2, 5))
        phase = rng.integers(0, cell, 2)
        yy, xx = np.mgrid[:patch, :patch]
        board = ((yy + phase[0]) // cell + (xx + phase[1]) // cell) % 2
        lo, hi = rng.integers(0, 100), rng.integers(150, 256)
        out[k] = (lo + board * (hi - lo))[..., None].astype(np.uint8) * np.ones(3, np.uint8)
    return out


def _gradients(n: int, rng: np.random.Generator, patch: int = 16) -> np.ndarray:
    out = np.empty((n, patch, patch, 3), np.uint8)
    yy, xx = np.mgrid[:patch, :patch] / (patch - 1)
    for k in range(n):
        angle = rng.uniform(0, 2 * np.pi)
        ramp = np.cos(angle) * xx + np.sin(angle) * yy
        ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)
        colour = rng.integers(60, 256, 3)
        out[k] = (ramp[..., None] * colour).astype(np.uint8)
    return out


def test_judge_tells_checkerboards_from_smooth_gradients():
    torch.set_num_threads(1)
    rng = np.random.default_rng(4)
    judge = train_judge(_gradients(300, rng), {"checkers": _checkers(300, rng)}, steps=150, batch=32, seed=0)
    test_rng = np.random.default_rng(5)
    boards, ramps = _checkers(200, test_rng), _gradients(200, test_rng)
    assert judge.share(boards, "checkers") > 0.9
    assert judge.share(ramps, "photo") > 0.9


class _FixedJudge:
    """Calls a fixed share of any patches the theme (a judge whose answer is known)."""

    def __init__(self, rendered: float, other: float):
        self.rendered, self.other = rendered, other

    def share(self, patches: np.ndarray, name: str) -> float:
        return self.rendered if patches.mean() > 200 else self.other


def test_several_judges_give_their_mean_share_and_its_range():
    inputs = [np.full((32, 48, 3), 40, np.uint8)]
    outputs = [np.full((32, 48, 3), 250, np.uint8)]  # brighter than 200: what the fixed judges call rendered
    judges = [_FixedJudge(0.5, 0.1), _FixedJudge(0.9, 0.0), _FixedJudge(0.7, 0.2)]
    s = mosaic_scores(judges, "stars", inputs, outputs, 16, outputs[0][:16, :16][None])
    assert s["recognisability"] == pytest.approx(0.7)
    assert (s["recognisability_min"], s["recognisability_max"]) == (0.5, 0.9)
    assert s["baseline_input"] == pytest.approx(0.1) and s["patches"] == 6
    one = mosaic_scores(judges[:1], "stars", inputs, outputs, 16, outputs[0][:16, :16][None])
    assert one["recognisability"] == one["recognisability_min"] == one["recognisability_max"] == 0.5


def test_judged_and_unjudged_scores_are_mosaic_scores_with_the_input_classes_computed_once():
    from ygan_mobile.mosaic.judge import Judge, JudgeNet
    from ygan_mobile.mosaic.metrics import judged_scores, unjudged_scores

    torch.manual_seed(0)
    judges = [Judge(["photo", "stars"], JudgeNet(2).eval()) for _ in range(2)]  # untrained: fixed, uneven answers
    inputs, outputs = [photo(64, 96, 1)], [photo(64, 96, 2)]
    real = grid_patches(photo(64, 64, 3), 16)
    whole = mosaic_scores(judges, "stars", inputs, outputs, 16, real)
    cut_in = grid_patches(inputs[0], 16)
    classes = [j.predict(cut_in) for j in judges]
    assert 0 < np.mean([np.mean(c == 1) for c in classes]) < 1  # the baseline is not trivially 0 or 1
    split = {**judged_scores(judges, "stars", inputs, outputs, 16, classes), **unjudged_scores(inputs, outputs, 16, real)}
    assert split == whole


def test_quality_table_and_warnings_flag_a_weak_judge_a_fooled_baseline_and_a_missed_target():
    from ygan.build_quality import MAX_BASELINE, SUMMARY_KEYS, manifest_summary, table, warnings

    scores = {"recognisability": 0.8, "baseline_input": 0.05, "baseline_colour": MAX_BASELINE + 0.1,
              "structure_r": 0.7, "variety": 0.6, "picture_r": 0.75, "detail_r": 0.45, "colour_r": None, "patches": 100}
    stamped = dict(scores, detail_r=0.01, colour_r=-0.1)
    doc = {"judge": {"accuracy": {"photo": 0.95, "stars": 0.85, "mean": 0.9}, "min_accuracy": 0.9, "counts": False},
           "models": {"teacher": {"stars": scores}}, "baselines": {"one stamp per cell": {"stars": stamped}},
           "targets": {"min_picture_r": 0.8, "min_detail_r": 0.4, "min_colour_r": 0.7, "min_variety": 0.5}}
    found = warnings(doc)
    assert any("judge accuracy below 90%" in w and "stars 85%" in w for w in found)
    assert any("teacher/stars: baseline_colour 30%" in w for w in found)
    # the picture r misses its target; detail r and variety meet theirs; a grey-only colour r (None) is not judged;
    # the baselines are yardsticks, never warned about
    assert [w for w in found if "below target" in w] == ["teacher/stars below target: picture r 0.750 < 0.80"]
    doc["warnings"] = found
    text = "\n".join(table(doc))
    assert "stars     teacher" in text and "80%" in text and "WARNING" in text
    assert "baseline: stamp" in text and "0.01" in text
    summary = manifest_summary(doc)
    assert summary["models"]["teacher"]["stars"] == {k: scores[k] for k in SUMMARY_KEYS}
    assert summary["baselines"]["one stamp per cell"]["stars"]["detail_r"] == 0.01


def test_judges_below_the_accuracy_floor_are_refitted_at_the_retry_steps_only_when_those_are_more():
    from ygan.build_quality import retry_note

    weak = {"photo": 0.95, "flowers": 0.8, "mean": 0.9}
    assert retry_note(weak, 600, 1000) == "judges refitted at 1000 steps: at 600 they were below 90% (flowers 80%)"
    assert retry_note(weak, 600, 0) == ""  # 0: never refitted
    assert retry_note(weak, 2000, 1000) == ""  # already longer than the retry
    assert retry_note({"photo": 0.95, "flowers": 0.93, "mean": 0.94}, 600, 1000) == ""  # accurate: no refit


def test_picture_detail_and_colour_r_of_a_frame_with_itself_are_one():
    frame = photo(64, 96)
    assert picture_r(frame, frame) == pytest.approx(1.0)
    assert detail_r(frame, frame, 16) == pytest.approx(1.0)
    assert colour_r(frame, frame) == pytest.approx(1.0)


def test_detail_r_of_a_stamp_grid_is_near_zero_whatever_its_light():
    rng = np.random.default_rng(4)
    frame = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    tile = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    stamped = stamp(frame, tile)
    assert abs(detail_r(stamped, frame, 16)) < 0.1
    # each cell carries the frame cell's mean light, so the coarse picture is kept
    means = luminance(grid_patches(stamped, 16)).mean(axis=(1, 2))
    np.testing.assert_allclose(means, luminance(grid_patches(frame, 16)).mean(axis=(1, 2)), atol=3 / 255)


def test_colour_r_ignores_light_and_follows_chroma():
    frame = photo(64, 96, seed=5)
    grey = np.repeat(luminance(frame[None])[0][..., None] * 255, 3, axis=2).round().astype(np.uint8)
    assert not has_colour(grey) and has_colour(frame)
    brighter = np.clip(frame.astype(int) + 20, 0, 255).astype(np.uint8)  # the same chroma, other light
    assert colour_r(brighter, frame) > 0.95
    swapped = frame[..., ::-1].copy()  # red and blue exchanged: the opponent channels change sign or mix
    assert colour_r(swapped, frame) < 0.5
    scores = picture_scores([grey], [grey], 16)
    assert scores["colour_r"] is None and scores["picture_r"] == pytest.approx(1.0)


def test_picture_scores_from_the_inputs_views_are_the_frame_by_frame_numbers():
    from ygan_mobile.mosaic.metrics import views

    inputs = [photo(64, 96, seed=8), photo(96, 64, seed=9)]
    grey = np.repeat(luminance(inputs[1][None])[0][..., None] * 255, 3, axis=2).round().astype(np.uint8)
    inputs.append(grey)  # no colour: left out of colour r only
    outputs = [np.clip(i.astype(int) + np.random.default_rng(k).integers(-60, 60, i.shape), 0, 255).astype(np.uint8)
               for k, i in enumerate(inputs)]
    seen = [views(i, 16) for i in inputs]
    for scores in (picture_scores(inputs, outputs, 16), picture_scores(inputs, outputs, 16, seen)):
        assert scores == {
            "picture_r": float(np.mean([picture_r(o, i) for i, o in zip(inputs, outputs)])),
            "detail_r": float(np.mean([detail_r(o, i, 16) for i, o in zip(inputs, outputs)])),
            "colour_r": float(np.mean([colour_r(o, i) for i, o in zip(inputs[:2], outputs[:2])])),
            "structure_r": float(np.mean([structure_r(o, i, 16) for i, o in zip(inputs, outputs)])),
        }
        assert 0.2 < scores["picture_r"] < 1 and 0.2 < scores["colour_r"] < 1


def test_photomosaic_picks_the_tile_with_the_cells_layout_and_mean_colour():
    rng = np.random.default_rng(6)
    tiles = rng.integers(40, 200, (20, 16, 16, 3)).astype(np.uint8)
    frame = np.concatenate([np.concatenate([np.clip(tiles[i].astype(int) + 10, 0, 255) for i in row], axis=1)
                            for row in ((3, 7), (11, 19))]).astype(np.uint8)
    out = Photomosaic(tiles)(frame)
    for cell, want in zip(grid_patches(out, 16), (3, 7, 11, 19)):
        np.testing.assert_array_equal(cell.astype(int), np.clip(tiles[want].astype(int) + 10, 0, 255))
    assert detail_r(out, frame, 16) == pytest.approx(1.0)


def test_flicker_is_the_outputs_frame_change_over_the_inputs():
    from ygan_mobile.mosaic.metrics import flicker

    rng = np.random.default_rng(7)
    clip = [np.clip(100 + rng.normal(0, 2, (16, 16, 3)), 0, 255).astype(np.uint8) for _ in range(5)]
    assert flicker(clip, clip) == pytest.approx(1.0)
    doubled = [np.clip(100 + 2 * (f.astype(int) - 100), 0, 255).astype(np.uint8) for f in clip]
    assert flicker(clip, doubled) == pytest.approx(2.0, rel=0.1)
    still = [np.full((16, 16, 3), 7, np.uint8)] * 5
    assert flicker(clip, still) == 0.0
    with pytest.raises(ValueError):
        flicker(clip[:1], clip[:1])
