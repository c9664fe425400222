"""ygan/eval_clip.py: the frames flicker is measured on (its refusals of clips need a bundle: tests/ygan/test_build.py)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import face_clip
from ygan.eval_clip import clip_frames
from ygan_mobile.errors import YganError


def test_the_face_clip_is_read_at_its_rate_fitted_to_the_side_and_whole_patches():
    frames = list(clip_frames(face_clip(), side=96, patch=16, limit=5))
    assert len(frames) == 5 and {f.shape for f in frames} == {(64, 96, 3)}  # 176×144 → 96×79 → 96×64
    assert np.mean([np.abs(b.astype(int) - a).mean() for a, b in zip(frames, frames[1:])]) > 0.5  # it moves
    everything = list(clip_frames(face_clip(), side=96, patch=16))
    assert len(everything) == 120 and all(np.array_equal(a, b) for a, b in zip(frames, everything))


def test_a_missing_clip_is_refused_before_a_frame_is_asked_for(tmp_path):
    with pytest.raises(YganError, match="missing.mp4"):
        clip_frames(tmp_path / "missing.mp4", side=32, patch=16)
