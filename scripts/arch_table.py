"""docs/runtime.md's table of x86 against aarch64: every TFLite and ONNX artifact of a bundle run on
this machine's kernels and on the emulated aarch64's (`verify --arch aarch64`'s environment), output
against output. Regenerate: .venv/bin/python scripts/arch_table.py BUNDLE

The golden patches compare in levels of 1/255 of the output's data range (2 for images, so a level is
one uint8 step; verify's range for latents); the golden frames, for patch models, in uint8 levels of
the rendered frame. PSNR is between the two architectures' outputs, not against PyTorch.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from reference_runtime import metrics
from reference_runtime.backends import open_artifact
from reference_runtime.goldens import load_goldens
from reference_runtime.manifest import read_manifest
from reference_runtime.verify import data_range, frame_outputs, run_batched

FORMATS = ("tflite", "onnx")  # what a phone's CPU kernels run; Core ML is numpy here on either architecture


def outputs(bundle_root: str, out: str) -> None:
    """Every output this interpreter's kernels give, saved to `out`: run in both interpreters."""
    bundle = read_manifest(bundle_root)
    goldens = load_goldens(bundle)
    arrays = {}
    for artifact in (a for a in bundle.artifacts if a["format"] in FORMATS):
        runner = open_artifact(bundle.root, artifact, threads=2)
        x = goldens.patches["z"] if artifact["role"] == "generator" else goldens.patches["x"]
        arrays[f"{artifact['id']}|patches"] = run_batched(runner.run, x, artifact["batch"])
        if artifact["role"] == "patch_model":
            for i, (_, u8) in frame_outputs(bundle, artifact, runner).items():
                arrays[f"{artifact['id']}|frame{i}"] = u8
    np.savez(out, **arrays)


def _db(value: float) -> str:
    return "identical" if value == float("inf") else f"{value:.1f}"


def table(bundle_root: str, x86: dict, arm: dict) -> list[str]:
    bundle = read_manifest(bundle_root)
    goldens = load_goldens(bundle)
    rows = ["| artifact | patches: max \\|Δ\\| (levels) | patches: PSNR x86↔aarch64 (dB) | frames: max \\|Δ\\| (uint8) "
            "| frames: PSNR x86↔aarch64 (dB) | PSNR vs PyTorch x86 / aarch64 (dB) | threshold (dB) |",
            "|---|---|---|---|---|---|---|"]
    for artifact in (a for a in bundle.artifacts if a["format"] in FORMATS):
        key = artifact["id"]
        reference = goldens.patches[f"out.{artifact['golden_key']}"]
        span = data_range(artifact["role"], reference)
        a, b = x86[f"{key}|patches"], arm[f"{key}|patches"]
        levels = metrics.max_abs(a, b) * 255.0 / span
        frames = sorted(k for k in x86 if k.startswith(f"{key}|frame"))
        fa = np.concatenate([x86[k].ravel() for k in frames]) if frames else None  # frames differ in size
        fb = np.concatenate([arm[k].ravel() for k in frames]) if frames else None
        frame_cells = (f"{int(np.abs(fa.astype(np.int16) - fb).max())} | {_db(metrics.psnr(fa, fb, 255.0))}"
                       if frames else "– | –")
        vs_torch = f"{_db(metrics.psnr(a, reference, span))} / {_db(metrics.psnr(b, reference, span))}"
        limit = bundle.data["thresholds_db"]["palettized" if artifact["precision"].startswith("palettized")
                                             else artifact["precision"]]
        rows.append(f"| {key} | {levels:.3g} | {_db(metrics.psnr(a, b, span))} | {frame_cells} | {vs_torch} | {limit:g} |")
    return rows


def main(argv: list[str]) -> int:
    if argv[:1] == ["--outputs"]:
        outputs(argv[1], argv[2])
        return 0
    from reference_runtime.emulate import find_emulator

    bundle = str(Path(argv[0]).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        outputs(bundle, f"{tmp}/x86.npz")
        began = time.monotonic()
        code, last = find_emulator().run(Path(__file__).resolve(), "--outputs", bundle, f"{tmp}/arm.npz")
        if code != 0:
            print(f"arch_table: the emulated run ended with exit {code}: {last}", file=sys.stderr)
            return 1
        print(f"emulated outputs in {time.monotonic() - began:.0f} s (under emulation: not a speed measure)", file=sys.stderr)
        x86, arm = dict(np.load(f"{tmp}/x86.npz")), dict(np.load(f"{tmp}/arm.npz"))
    print("\n".join(table(bundle, x86, arm)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
