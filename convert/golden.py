"""Golden vectors: what the PyTorch original computes, stored so every runtime can be held to it.

patches.npz  held-out inputs `x` (N,3,P,P), the torch encoder's latents `z`, and `out.<model key>`
             for every exported network (generator goldens take `z` as input).
frames.npz   `frame.<i>` uint8 frames, `torch_float.<theme>.<i>` (H,W,3) blended float output of
             the torch pipeline and `torch_u8.<theme>.<i>`, at the bundle's P, S, blend and batch.
pipeline.npz `frame.<f>` inputs and, per case, `case.<k>.float` (H,W,3) and `case.<k>.u8` of
             stand-in models (identity, per-channel affine y = a·x + b) through the numpy pipeline at
             several sizes, strides and both blends: vectors for the Kotlin and Swift cores that need
             no inference runtime. Case parameters live in the manifest, not in the npz, so apps read
             them as JSON.
multiscale.npz spec v2 (docs/pipeline.md "Goldens"): the golden frames again as `frame.<i>`, their
             cells `layout.<i>` (K,4: top, left, size, theme), per theme the torch model's float
             outputs on the cells' patches `torch_float.<theme>.<i>` (K,P,P,3) and the torch pipeline's
             frame `torch_u8.<theme>.<i>`; and stand-in cases (`stand_ins` in the manifest) on the
             `stand_in.<f>` frames and a still, noisy `still.<f>` video: `<key>.layout.<f>`, `<key>.u8.<f>`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from convert.calibration import latents
from convert.source import Networks
from reference_runtime import multiscale as numpy_multiscale
from reference_runtime import pipeline as numpy_pipeline
from ygan_mobile.render import multiscale, torch_pipeline

AFFINE_A = (0.5, -0.75, 1.25)
AFFINE_B = (0.1, 0.0, -0.2)
RAMP_K = 0.3


@torch.no_grad()
def patch_goldens(net: Networks, x: np.ndarray) -> dict[str, np.ndarray]:
    z = latents(net.encoder, x)
    out = {"x": x.astype(np.float32), "z": z, "out.encoder": z}
    for theme, generator in net.generators.items():
        out[f"out.generator.{theme}"] = generator.eval()(torch.from_numpy(z)).numpy()
        out[f"out.patch_model.{theme}"] = net.patch_model(theme)(torch.from_numpy(x)).numpy()
    return out


def frame_goldens(net: Networks, frames: list[np.ndarray], stride: int, batch: int,
                  blend: str = numpy_pipeline.DEFAULT_BLEND) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for i, frame in enumerate(frames):
        out[f"frame.{i}"] = frame
        for theme in net.themes:
            model = net.patch_model(theme)
            y = torch_pipeline.render_float(frame, [model], patch=net.patch, stride=stride, blend=blend, batch=batch)
            out[f"torch_float.{theme}.{i}"] = y.permute(1, 2, 0).contiguous().numpy().astype(np.float32)
            out[f"torch_u8.{theme}.{i}"] = torch_pipeline.to_u8(y)
    return out


def _affine(x: np.ndarray) -> np.ndarray:
    """y = a·x + b per channel, on NCHW batches."""
    a = np.asarray(AFFINE_A, np.float32)[None, :, None, None]
    b = np.asarray(AFFINE_B, np.float32)[None, :, None, None]
    return a * x + b


def _ramp(x: np.ndarray) -> np.ndarray:
    """The affine map plus k·(i − j)/P at row i, column j of the patch: overlapping patches disagree,
    so blend weights and paste order change the result (a pointwise stand-in cannot see them)."""
    p = x.shape[-1]
    offsets = np.arange(p, dtype=np.float32)[:, None] - np.arange(p, dtype=np.float32)[None, :]
    return _affine(x) + np.float32(RAMP_K) * offsets / np.float32(p)


def pipeline_goldens(frames: list[np.ndarray], patch: int, batch: int) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Vectors and their case descriptions (model, P, S, blend, B, frame size) for the manifest."""
    models = {"identity": lambda x: x, "affine": _affine, "ramp": _ramp}
    small = frames[-1][: max(1, patch // 2 + 3), : patch + 5]  # smaller than P on one axis: exercises padding
    sources = [small, *frames]
    strides = sorted({patch, torch_pipeline.default_stride(patch), max(1, patch // 4 - 1)})
    arrays: dict[str, np.ndarray] = {}
    cases: list[dict] = []
    for f, frame in enumerate(sources):
        arrays[f"frame.{f}"] = frame
        for stride in strides:
            for blend in numpy_pipeline.BLENDS:
                for name, model in models.items():
                    key = f"case.{len(cases)}"
                    y = numpy_pipeline.render_float(frame, [model], patch=patch, stride=stride, blend=blend, batch=batch)
                    arrays[f"{key}.float"] = y.astype(np.float32)
                    arrays[f"{key}.u8"] = numpy_pipeline.quantise(y)
                    case = {"key": key, "frame": f"frame.{f}", "model": name, "patch": patch, "stride": stride, "blend": blend,
                            "batch": batch, "height": int(frame.shape[0]), "width": int(frame.shape[1])}
                    if name in ("affine", "ramp"):
                        case.update(a=list(AFFINE_A), b=list(AFFINE_B))
                    if name == "ramp":
                        case.update(k=RAMP_K)
                    cases.append(case)
    return arrays, cases


def multiscale_goldens(net: Networks, frames: list[np.ndarray], options: multiscale.MultiscaleOptions,
                       batch: int) -> dict[str, np.ndarray]:
    """Spec v2 through the PyTorch pipeline on the golden frames, one theme at a time."""
    out: dict[str, np.ndarray] = {}
    for i, frame in enumerate(frames):
        out[f"frame.{i}"] = frame
        for theme in net.themes:
            rendered = multiscale.render(frame, [net.patch_model(theme)], patch=net.patch, options=options, batch=batch)
            out[f"layout.{i}"] = rendered.cells
            out[f"torch_float.{theme}.{i}"] = rendered.floats
            out[f"torch_u8.{theme}.{i}"] = rendered.frame
    return out


STILL_FRAMES = 4  # the stand-in video: one scene, fresh camera noise in each frame
STILL_NOISE = 2.0  # its noise, in levels (sd per channel)
STILL_TEXTURE = 16.0  # the largest texture amplitude of a block, in levels: luma variances from 0 to ~256


def still_video(shape: tuple[int, ...], block: int, threshold: int) -> list[np.ndarray]:
    """A camera held still on one scene, with fresh seeded noise in each frame. The scene is grey
    with a texture whose amplitude changes from one `block` (the smallest cell) to the next, so its
    cells' details spread around the split threshold: some lie within the noise of it, and without
    hysteresis their split flips from frame to frame (tests/reference_runtime/test_verify.py checks
    that it does, so the golden pins the margin)."""
    rng = np.random.default_rng(threshold)
    h, w = shape[:2]
    amplitude = rng.uniform(0, STILL_TEXTURE, (-(-h // block), -(-w // block)))
    texture = rng.normal(0, 1, (h, w, 1)) * np.kron(amplitude, np.ones((block, block)))[:h, :w, None]
    scene = 128 + texture
    return [np.clip(scene + rng.normal(0, STILL_NOISE, (h, w, 3)), 0, 255).round().astype(np.uint8)
            for _ in range(STILL_FRAMES)]


def multiscale_stand_ins(frames: list[np.ndarray], patch: int, batch: int, settings: numpy_multiscale.Multiscale
                         ) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Vectors of spec v2 through the numpy pipeline with stand-in models, and their cases for the
    manifest: each model on every stand-in frame, two themes (luminance bands), a budget that stops a
    level, and the still video rendered in order with the layout carried."""
    models = {"identity": lambda x: x, "affine": _affine, "ramp": _ramp}
    record = settings.record(patch)
    roots = -(-frames[0].shape[0] // record["largest_cell"]) * -(-frames[0].shape[1] // record["largest_cell"])
    tight = numpy_multiscale.Multiscale(threshold=0, hysteresis=0, budget=roots + 4, largest=settings.largest,
                                        smallest=settings.smallest)
    arrays: dict[str, np.ndarray] = {}
    plans = []  # (models, frame keys, settings)
    for f, frame in enumerate(frames):
        arrays[f"stand_in.{f}"] = frame
        plans += [([name], [f"stand_in.{f}"], settings) for name in models]
    plans.append((["identity", "affine"], ["stand_in.0"], settings))
    plans.append((["ramp"], ["stand_in.0"], tight))
    still = still_video(frames[0].shape, record["smallest_cell"], settings.threshold)
    for f, frame in enumerate(still):
        arrays[f"still.{f}"] = frame
    plans.append((["identity"], [f"still.{f}" for f in range(STILL_FRAMES)], settings))
    cases = []
    for names, keys, plan in plans:
        key = f"case.{len(cases)}"
        workspace = numpy_pipeline.Workspace()  # one per case: a video's layout carries over its frames
        for f, frame_key in enumerate(keys):
            rendered = numpy_multiscale.render(arrays[frame_key], [models[n] for n in names], patch=patch, settings=plan,
                                               batch=batch, workspace=workspace)
            arrays[f"{key}.layout.{f}"] = rendered.layout.cells(rendered.themes)
            arrays[f"{key}.u8.{f}"] = rendered.frame
        case = {"key": key, "models": names, "frames": keys, "patch": patch, "batch": batch, **plan.record(patch)}
        if {"affine", "ramp"} & set(names):
            case.update(a=list(AFFINE_A), b=list(AFFINE_B))
        if "ramp" in names:
            case.update(k=RAMP_K)
        cases.append(case)
    return arrays, cases


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """Uncompressed npz: every reader (numpy, Kotlin, Swift) parses a stored zip of .npy files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return path
