"""ygan/eval_clip.py: the frames flicker is measured on, and the clips it refuses."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import face_clip
from ygan.eval_clip import clip_frames
from ygan_mobile.errors import YganError
from ygan_mobile.ingest import write_video


def test_the_face_clip_is_read_at_its_rate_fitted_to_the_side_and_whole_patches():
    frames, fps = clip_frames(face_clip(), side=96, patch=16, limit=5)
    assert fps == pytest.approx(30000 / 1001)
    assert len(frames) == 5 and {f.shape for f in frames} == {(64, 96, 3)}  # 176×144 → 96×79 → 96×64
    assert np.mean([np.abs(b.astype(int) - a).mean() for a, b in zip(frames, frames[1:])]) > 0.5  # it moves
    everything, _ = clip_frames(face_clip(), side=96, patch=16)
    assert len(everything) == 120 and all(np.array_equal(a, b) for a, b in zip(frames, everything))


def test_a_clip_that_never_changes_or_has_one_frame_is_refused(tmp_path):
    still = np.full((32, 32, 3), 90, np.uint8)
    write_video(tmp_path / "still.mp4", [still] * 4, fps=10)
    with pytest.raises(YganError, match="every frame is the same"):
        clip_frames(tmp_path / "still.mp4", side=32, patch=16)
    write_video(tmp_path / "one.mp4", [still], fps=10)
    with pytest.raises(YganError, match="two or more frames"):
        clip_frames(tmp_path / "one.mp4", side=32, patch=16)
    with pytest.raises(YganError, match="missing.mp4"):
        clip_frames(tmp_path / "missing.mp4", side=32, patch=16)
