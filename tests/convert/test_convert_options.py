"""One source for convert's defaults: `ygan convert`'s flags and `ygan build`'s [convert] table both
take them from convert/options.py, so neither can drift from what a convert run does by default."""

from __future__ import annotations

import argparse

import pytest

from convert.command import add_convert_arguments
from convert.options import DEFAULTS, HALF_PATCH
from reference_runtime.verify import THRESHOLDS_DB
from ygan.build_config import ConvertSettings, resolve
from ygan_mobile.errors import YganError

KEYS = ("targets", "batch", "stride", "blend", "calibration", "golden")


def test_flags_and_build_settings_default_to_the_convert_options():
    parser = argparse.ArgumentParser()
    add_convert_arguments(parser)
    args = parser.parse_args(["--checkpoint", "run", "-o", "bundle"])
    build = ConvertSettings()
    for key in KEYS:
        assert getattr(args, key) == getattr(DEFAULTS, key) == getattr(build, key), key
    assert DEFAULTS.stride == HALF_PATCH and DEFAULTS.thresholds == THRESHOLDS_DB


def test_the_half_patch_sentinel_passes_the_build_check():
    assert resolve("quick", [f"convert.stride={HALF_PATCH}"]).convert.stride == HALF_PATCH


@pytest.mark.parametrize("stride", ["-1", "1000"])
def test_other_strides_are_bounded_by_the_patch(stride):
    with pytest.raises(YganError, match="half the patch"):
        resolve("quick", [f"convert.stride={stride}"])
