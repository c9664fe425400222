"""The golden frames are large enough that one patch cannot swing a verdict, and one is not aligned to the stride."""

from convert.samples import FRAME_SIZES, STAND_IN_SIZES
from reference_runtime.pipeline import positions


def test_every_golden_frame_holds_over_a_hundred_patches_at_the_presets_patch_and_stride():
    for h, w in FRAME_SIZES:
        assert len(positions(h, 32, 16)) * len(positions(w, 32, 16)) >= 100


def test_one_golden_frame_is_not_a_multiple_of_the_stride_so_the_edge_padding_is_checked():
    assert any(h % 16 or w % 16 for h, w in FRAME_SIZES)
    assert any(h % 16 or w % 16 for h, w in STAND_IN_SIZES)
