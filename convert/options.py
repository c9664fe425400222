"""What a convert run is asked for, with the defaults `ygan convert`'s flags and `ygan build`'s
[convert] table both take from here (docs/bundle.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from convert import model_card
from convert.plan import FORMATS
from reference_runtime.pipeline import DEFAULT_BLEND
from reference_runtime.verify import THRESHOLDS_DB

HALF_PATCH = 0  # the stride that means "half the patch": a number, so a TOML table can hold it


@dataclass
class Options:
    targets: list[str] = field(default_factory=lambda: list(FORMATS))
    precisions: list[str] | None = None  # None: every default precision of each target
    batch: int = 64
    stride: int = HALF_PATCH
    blend: str = DEFAULT_BLEND
    calibration: int = 128  # train patches for int8 calibration, each also fed as its negative (convert/calibration.py)
    golden: int = 32  # held-out golden patches
    thresholds: dict[str, float] = field(default_factory=lambda: dict(THRESHOLDS_DB))
    author: str = model_card.DEFAULT_AUTHOR  # written into every artifact's own metadata (model_card.py)
    license: str = model_card.DEFAULT_LICENSE


DEFAULTS = Options()
