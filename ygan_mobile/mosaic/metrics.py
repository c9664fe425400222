"""The three numbers of a mosaic (DESIGN §11), on frames rendered on the stride-P grid.

- recognisability: the share of output patches the judges call their theme (the mean over the
  judges, with the lowest and highest single judge's share beside it);
- structure: Pearson r of the Gaussian-low-passed (σ = P) luminance of output against input;
- variety: how different the outputs of different inputs are, against real theme patches: the mean
  distance between random pairs of standardised-luminance output patches, divided by the same for
  real patches of the theme (1 ≈ as varied as the theme; a single stamp scores 0).
Plus the two baselines the judge must not be fooled by: the input patches themselves, and each
input patch scaled channel-wise to its output patch's mean colour (a pure colour filter).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from ygan_mobile.mosaic.judge import Judge, luminance, standardise


def grid_patches(frame: np.ndarray, patch: int) -> np.ndarray:
    """The non-overlapping P×P patches of a frame whose sides are multiples of P, row-major."""
    h, w = frame.shape[:2]
    if h % patch or w % patch:
        raise ValueError(f"frame {w}×{h} is not a multiple of the patch {patch}")
    return frame.reshape(h // patch, patch, w // patch, patch, 3).swapaxes(1, 2).reshape(-1, patch, patch, 3)


def structure_r(out: np.ndarray, inp: np.ndarray, patch: int) -> float:
    """Pearson r of the σ = P low-passed luminance of two uint8 frames of one size."""
    a, b = (gaussian_filter(luminance(f[None])[0].astype(np.float64), patch, mode="reflect") for f in (out, inp))
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else 0.0


def spread(patches: np.ndarray, pairs: int = 4000, seed: int = 0) -> float:
    """Mean RMS distance between random pairs of different standardised-luminance patches."""
    if len(patches) < 2:
        return 0.0
    rng = np.random.default_rng(seed)
    i = rng.integers(len(patches), size=pairs)
    j = (i + rng.integers(1, len(patches), size=pairs)) % len(patches)
    s = standardise(luminance(patches))
    return float(np.sqrt(((s[i] - s[j]) ** 2).mean(axis=(1, 2))).mean())


def colour_filter(inputs: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """Each input patch scaled per channel to its output patch's mean colour."""
    src = inputs.astype(np.float64)
    gain = outputs.astype(np.float64).mean(axis=(1, 2), keepdims=True) / np.maximum(src.mean(axis=(1, 2), keepdims=True), 1.0)
    return np.clip(src * gain + 0.5, 0, 255).astype(np.uint8)


def mosaic_scores(judges: list[Judge], theme: str, inputs: list[np.ndarray], outputs: list[np.ndarray], patch: int,
                  real: np.ndarray) -> dict[str, float]:
    """The numbers of one theme over pairs of (input, rendered) uint8 frames, sides multiples of P;
    the judge-dependent ones are means over `judges`."""
    cut_in = np.concatenate([grid_patches(f, patch) for f in inputs])
    cut_out = np.concatenate([grid_patches(f, patch) for f in outputs])
    tinted = colour_filter(cut_in, cut_out)
    shares = [j.share(cut_out, theme) for j in judges]
    return {
        "recognisability": float(np.mean(shares)),
        "recognisability_min": min(shares),
        "recognisability_max": max(shares),
        "baseline_input": float(np.mean([j.share(cut_in, theme) for j in judges])),
        "baseline_colour": float(np.mean([j.share(tinted, theme) for j in judges])),
        "structure_r": float(np.mean([structure_r(o, i, patch) for i, o in zip(inputs, outputs)])),
        "variety": spread(cut_out) / max(spread(real), 1e-9),
        "patches": int(len(cut_out)),
    }
