"""Calibration data for full-integer TFLite: patches of the embedded training split, never noise.

Why train patches: int8 scales are fitted to the activation ranges the phone will see; held-out
patches stay untouched for golden vectors, so parity is measured on data the quantiser never saw.
The generator's calibration input is the teacher-side latent z = E(x) of the same patches.
onnx2tf also insists on finding its default sample file in the working directory (it downloads it
otherwise); we write that file ourselves from the embedded photos.

Why each train patch also as its negative −x: the train split need not hold the bright end of the pixel
range, and equalisation (convert/equalise.py) brings every channel to its tensor's calibrated maximum, so
an input brighter than any calibration patch clips. The seed-1 `quick` split's 128 calibration patches
had means of at most 0.42 (x in [−1, 1]); 7 of its 32 golden patches, from one bright held-out
photograph, had 0.52–0.91 and drove the skull generator's first upsampling ReLU to 20.6 against a
calibrated 10.2, and all three skull int8 files fell to 27.9 dB. The negative mirrors the photographs'
luminance and keeps their texture. Measured (docs/bundle.md, "Calibration covers both ends of the pixel
range"): those files 27.9 → 39.7–41.3 dB; flowers and stars −0.3 to +0.2 dB; the seed-0 student, whose
split had a bright photograph, −0.6 to +0.7 dB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

ONNX2TF_DEFAULT = "calibration_image_sample_data_20x128x128x3_float32.npy"


def full_batches(data: np.ndarray, batch: int) -> list[np.ndarray]:
    """`data` cycled into float32 chunks of exactly `batch` (at least one): a graph exported with a fixed
    batch takes nothing else, and zero padding would skew the activation ranges calibration measures."""
    n = max(1, -(-len(data) // batch)) * batch
    cycled = data[np.arange(n) % len(data)].astype(np.float32)
    return [cycled[i:i + batch] for i in range(0, n, batch)]


def with_negatives(patches: np.ndarray) -> np.ndarray:
    """`patches` followed by their negatives −x: the int8 calibration inputs made from train patches."""
    patches = np.asarray(patches, dtype=np.float32)
    return np.concatenate([patches, -patches])


def to_nhwc(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if x.ndim == 4 else x


@torch.no_grad()
def latents(encoder: nn.Module, patches: np.ndarray) -> np.ndarray:
    """The encoder's output on `patches`: the generator's calibration and golden input."""
    return encoder.eval()(torch.from_numpy(patches)).numpy().astype(np.float32)


def write_inputs(folder: Path, name: str, data: np.ndarray) -> Path:
    """Store calibration data in the artifact's own layout (NHWC images, (N, Z) latents)."""
    path = folder / f"calibration.{name}.npy"
    np.save(path, to_nhwc(data).astype(np.float32))
    return path


def write_onnx2tf_default(folder: Path, photos: list[np.ndarray]) -> Path:
    """onnx2tf's required 20×128×128×3 float32 [0, 1] file, cut from uint8 embedded photos."""
    tiles = []
    for i in range(20):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        side = min(h, w, 128)
        top = (i * 37) % max(1, h - side + 1)
        left = (i * 53) % max(1, w - side + 1)
        tile = photo[top:top + side, left:left + side]
        reps = -(-128 // side)
        tiles.append(np.tile(tile, (reps, reps, 1))[:128, :128])
    path = folder / ONNX2TF_DEFAULT
    np.save(path, np.stack(tiles).astype(np.float32) / 255.0)
    return path
