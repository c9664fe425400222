"""The numbers of a mosaic (DESIGN §11), on frames rendered on the stride-P grid: the theme and the
picture, each measured, because a stamp grid keeps only the first and a tinted photograph only the second.

The theme
- recognisability: the share of output patches the judges call their theme (the mean over the
  judges, with the lowest and highest single judge's share beside it);
- variety: how different the outputs of different inputs are, against real theme patches: the mean
  distance between random pairs of standardised-luminance output patches, divided by the same for
  real patches of the theme (1 ≈ as varied as the theme; a single stamp scores 0).
The picture (Pearson r of output against input, the mean over frames)
- picture r: luminance low-passed with a Gaussian of σ = 3 px, the photograph as a screen shows it;
- detail r: inside each P×P cell the luminance pooled to 8×8 blocks minus the cell's own mean, r over
  all cells: do the elements follow the edges inside the cell (a centred stamp scores ≈ 0);
- colour r: the two opponent chroma channels R − G and (R + G)/2 − B, σ = 3 px, r of each averaged,
  over the frames that have colour (a grey photograph has no chroma to keep);
- structure r: luminance low-passed with σ = P, the older floor a stamp grid also passes.
Plus the two baselines the judge must not be fooled by: the input patches themselves, and each
input patch scaled channel-wise to its output patch's mean colour (a pure colour filter).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from ygan_mobile.mosaic.judge import Judge, luminance, standardise


def grid_patches(frame: np.ndarray, patch: int) -> np.ndarray:
    """The non-overlapping P×P patches of a frame whose sides are multiples of P, row-major."""
    h, w = frame.shape[:2]
    if h % patch or w % patch:
        raise ValueError(f"frame {w}×{h} is not a multiple of the patch {patch}")
    return frame.reshape(h // patch, patch, w // patch, patch, 3).swapaxes(1, 2).reshape(-1, patch, patch, 3)


PICTURE_SIGMA = 3.0  # px on the scored frame: about what a phone screen resolves of a 512-px render
DETAIL_BLOCKS = 8  # a cell's luminance pooled to 8×8 blocks for detail r
MIN_CHROMA = 2.0  # a frame whose input chroma deviates less than this (u8 levels) counts as grey: no colour r


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two arrays of one size; 0 when either is constant."""
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else 0.0


def _lowpass_luma(frame: np.ndarray, sigma: float) -> np.ndarray:
    return gaussian_filter(luminance(frame[None])[0].astype(np.float64), sigma, mode="reflect")


def structure_r(out: np.ndarray, inp: np.ndarray, patch: int) -> float:
    """Pearson r of the σ = P low-passed luminance of two uint8 frames of one size."""
    return pearson(_lowpass_luma(out, patch), _lowpass_luma(inp, patch))


def picture_r(out: np.ndarray, inp: np.ndarray) -> float:
    """Pearson r of the σ = 3 px low-passed luminance of two uint8 frames of one size."""
    return pearson(_lowpass_luma(out, PICTURE_SIGMA), _lowpass_luma(inp, PICTURE_SIGMA))


def layout(patches: np.ndarray, blocks: int = DETAIL_BLOCKS) -> np.ndarray:
    """uint8 (N,P,P,3) → (N, blocks²): each patch's luminance pooled to blocks×blocks, minus the patch's mean."""
    n, p = patches.shape[:2]
    if p % blocks:
        raise ValueError(f"patch {p} is not a multiple of {blocks} blocks")
    b = p // blocks
    pooled = luminance(patches).astype(np.float64).reshape(n, blocks, b, blocks, b).mean(axis=(2, 4)).reshape(n, -1)
    return pooled - pooled.mean(axis=1, keepdims=True)


def cell_layout(frame: np.ndarray, patch: int, blocks: int = DETAIL_BLOCKS) -> np.ndarray:
    """(cells, blocks²): the layout of each P×P cell of the frame."""
    return layout(grid_patches(frame, patch), blocks)


def detail_r(out: np.ndarray, inp: np.ndarray, patch: int) -> float:
    """Pearson r of the cells' 8×8 layouts (each minus its cell's mean), over all cells of the frame."""
    return pearson(cell_layout(out, patch), cell_layout(inp, patch))


def opponent(frame: np.ndarray, sigma: float = PICTURE_SIGMA) -> np.ndarray:
    """(2,H,W): R − G and (R + G)/2 − B of a uint8 frame, low-passed with σ px."""
    f = frame.astype(np.float64)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    return np.stack([gaussian_filter(c, sigma, mode="reflect") for c in (r - g, (r + g) / 2 - b)])


def has_colour(frame: np.ndarray) -> bool:
    return coloured(opponent(frame))


def coloured(chroma: np.ndarray) -> bool:
    """Whether a frame's opponent channels (opponent's) deviate enough for colour r to mean anything."""
    return bool(chroma.std(axis=(1, 2)).max() >= MIN_CHROMA)


def colour_r(out: np.ndarray, inp: np.ndarray) -> float:
    """Mean over the two opponent channels of Pearson r, output against input (σ = 3 px)."""
    return chroma_r(opponent(out), opponent(inp))


def chroma_r(out: np.ndarray, inp: np.ndarray) -> float:
    """colour_r from the two frames' opponent channels (opponent's)."""
    return float(np.mean([pearson(out[c], inp[c]) for c in range(2)]))


def flicker(inputs: list[np.ndarray], outputs: list[np.ndarray]) -> float:
    """The mean absolute frame-to-frame change of the output divided by that of the input (uint8 frames
    of a clip at its own rate): 1 = the mosaic changes as much as the video, more = it boils."""
    if len(inputs) < 2 or len(inputs) != len(outputs):
        raise ValueError("flicker needs two or more frames, as many outputs as inputs")
    def change(frames: list[np.ndarray]) -> float:
        return float(np.mean([frame_change(a, b) for a, b in zip(frames, frames[1:])]))
    return change_ratio(change(inputs), change(outputs))


def frame_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two uint8 frames, in levels: flicker's step, for a clip read one frame at a time."""
    return float(np.abs(b.astype(np.int16) - a.astype(np.int16)).mean())


def change_ratio(moved: float, drawn: float) -> float:
    """Flicker from the input's and the output's frame changes (both means, or both sums, over the same pairs)."""
    return drawn / moved if moved > 0 else float("inf") if drawn > 0 else 1.0


@dataclass(frozen=True)
class Views:
    """What the picture numbers compare of one uint8 frame: its σ = 3 px and σ = P low-passed luminance,
    its cells' layouts and its σ = 3 px opponent chroma. A scored photograph's views are computed once,
    not once per model and theme: they are most of the picture numbers' time."""
    light: np.ndarray
    coarse: np.ndarray
    cells: np.ndarray
    chroma: np.ndarray


def views(frame: np.ndarray, patch: int) -> Views:
    return Views(_lowpass_luma(frame, PICTURE_SIGMA), _lowpass_luma(frame, patch), cell_layout(frame, patch), opponent(frame))


def picture_scores(inputs: list[np.ndarray], outputs: list[np.ndarray], patch: int,
                   seen: list[Views] | None = None) -> dict[str, float | None]:
    """The picture numbers over pairs of uint8 frames, each the mean over frames (colour r over the
    frames whose input has colour; None when none has); `seen`: the inputs' views, when already known.
    The same numbers as picture_r, detail_r, colour_r and structure_r frame by frame."""
    seen = seen if seen is not None else [views(i, patch) for i in inputs]
    drawn = [views(o, patch) for o in outputs]
    pairs = list(zip(seen, drawn, strict=True))
    in_colour = [(i, o) for i, o in pairs if coloured(i.chroma)]
    return {
        "picture_r": float(np.mean([pearson(o.light, i.light) for i, o in pairs])),
        "detail_r": float(np.mean([pearson(o.cells, i.cells) for i, o in pairs])),
        "colour_r": float(np.mean([chroma_r(o.chroma, i.chroma) for i, o in in_colour])) if in_colour else None,
        "structure_r": float(np.mean([pearson(o.coarse, i.coarse) for i, o in pairs])),
    }


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
    return {**judged_scores(judges, theme, inputs, outputs, patch), **unjudged_scores(inputs, outputs, patch, real)}


def judged_scores(judges: list[Judge], theme: str, inputs: list[np.ndarray], outputs: list[np.ndarray], patch: int,
                  input_classes: list[np.ndarray] | None = None) -> dict[str, float]:
    """The judges' numbers of mosaic_scores. input_classes: each judge's class of every input patch, when
    already known (they are the same for every model and theme)."""
    cut_in = np.concatenate([grid_patches(f, patch) for f in inputs])
    cut_out = np.concatenate([grid_patches(f, patch) for f in outputs])
    tinted = colour_filter(cut_in, cut_out)
    shares = [j.share(cut_out, theme) for j in judges]
    return {
        "recognisability": float(np.mean(shares)),
        "recognisability_min": min(shares),
        "recognisability_max": max(shares),
        "baseline_input": float(np.mean([j.share(cut_in, theme) for j in judges] if input_classes is None
                                        else [j.share_of(c, theme) for j, c in zip(judges, input_classes)])),
        "baseline_colour": float(np.mean([j.share(tinted, theme) for j in judges])),
    }


def unjudged_scores(inputs: list[np.ndarray], outputs: list[np.ndarray], patch: int, real: np.ndarray,
                    seen: list[Views] | None = None) -> dict[str, float]:
    """The numbers of mosaic_scores no judge decides: the picture's, the variety and the patch count
    (`seen`: picture_scores')."""
    cut_out = np.concatenate([grid_patches(f, patch) for f in outputs])
    return {
        **picture_scores(inputs, outputs, patch, seen),
        "variety": spread(cut_out) / max(spread(real), 1e-9),
        "patches": int(len(cut_out)),
    }
