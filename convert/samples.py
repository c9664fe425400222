"""Patches and frames from the embedded data: train patches calibrate, held-out ones are golden.

Why the checkpoint's own seed and holdout: they reproduce the exact train / held-out split the model
was trained on, so golden vectors and full-pipeline frames come from images the model never saw,
and int8 calibration from images it did (each patch also as its negative: convert/calibration.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convert.calibration import with_negatives
from convert.source import Networks
from ygan_mobile.data import domain_a

# Golden frames: one aligned to the stride, one not (edge padding on both sides). Each holds over a hundred
# patches at P = 32, S = 16, so a frame's PSNR verdict does not hang on one patch (a 40×72 frame's eight
# patches once let one patch swing a full build's int8-full skulls to 31.2 dB against a 32 dB threshold).
FRAME_SIZES = ((160, 224), (136, 232))
# The stand-in models' pipeline cases check arithmetic alone (padding, strides, blends, batches): small frames
# keep golden/pipeline.npz small (4 MB, not 19 MB at the golden frames' sizes).
STAND_IN_SIZES = ((96, 128), (40, 72))


@dataclass
class Samples:
    calibration: np.ndarray  # (2n, 3, P, P) float32 in [-1, 1]: n train-split patches, then their negatives
    golden: np.ndarray  # (m, 3, P, P) float32 in [-1, 1], held-out split
    frames: list[np.ndarray]  # uint8 H×W×3 crops of held-out photos, FRAME_SIZES
    stand_in_frames: list[np.ndarray]  # smaller crops of the same photos, STAND_IN_SIZES
    photos: list[np.ndarray]  # uint8 H×W×3 train photos (onnx2tf's default sample file)


def _crop(pixels: np.ndarray, h: int, w: int, k: int) -> np.ndarray:
    """A centred h×w crop, shifted by k so several frames from one photo differ."""
    ph, pw = pixels.shape[:2]
    h, w = min(h, ph), min(w, pw)
    top = max(0, min(ph - h, (ph - h) // 2 + 7 * k))
    left = max(0, min(pw - w, (pw - w) // 2 + 11 * k))
    return np.ascontiguousarray(pixels[top:top + h, left:left + w])


def _crops(held: list, sizes: tuple[tuple[int, int], ...]) -> list[np.ndarray]:
    return [_crop(held[k % len(held)].pixels, h, w, k) for k, (h, w) in enumerate(sizes)]


def embedded_samples(net: Networks, calibration: int, golden: int) -> Samples:
    split = domain_a(net.patch, net.seed, net.holdout, net.data_a or None, degradation=net.degradation)
    held = split.heldout.images
    return Samples(
        calibration=with_negatives(split.train.fixed(calibration).numpy()),
        golden=split.heldout.fixed(golden).numpy(),
        frames=_crops(held, FRAME_SIZES),
        stand_in_frames=_crops(held, STAND_IN_SIZES),
        photos=[image.pixels for image in split.train.images],
    )
