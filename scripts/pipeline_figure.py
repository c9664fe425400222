"""Draws the figures of docs/pipeline.md from the pipelines' own functions, so the pictures cannot
drift from the code. Regenerate: .venv/bin/python scripts/pipeline_figure.py docs/img/pipeline_grid.png
docs/img/pipeline_multiscale.jpg"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
import numpy as np  # noqa: E402

from reference_runtime import multiscale, pipeline  # noqa: E402


def draw(path: str, height: int = 40, width: int = 58, patch: int = 16, stride: int = 10) -> None:
    rows, cols = pipeline.positions(height, patch, stride), pipeline.positions(width, patch, stride)
    wmap = pipeline.weights(patch, stride)
    norm = np.zeros((height, width), np.float32)
    for r in rows:
        for c in cols:
            norm[r:r + patch, c:c + patch] += wmap
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    ax = axes[0]
    ax.set_title(f"grid: {height}×{width} frame, P={patch}, S={stride}\nrows {rows}, cols {cols}")
    ax.imshow(np.full((height, width), 0.95), cmap="gray", vmin=0, vmax=1)
    for k, (r, c) in enumerate((r, c) for r in rows for c in cols):
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), patch, patch, fill=False, lw=1.2, color=plt.cm.tab10(k % 10)))
        ax.text(c + 1, r + 3, str(k), fontsize=7, color=plt.cm.tab10(k % 10))
    axes[1].set_title(f"patch weight W = w(i)·w(j), overlap O = {patch - stride}")
    im = axes[1].imshow(wmap, cmap="viridis", vmin=0, vmax=1)
    fig.colorbar(im, ax=axes[1], fraction=0.046)
    axes[2].set_title("Σ W over the frame (feather divides by this)")
    im = axes[2].imshow(norm, cmap="magma")
    fig.colorbar(im, ax=axes[2], fraction=0.046)
    _save(fig, axes, path, dpi=90)


def _save(fig, axes, path: str, dpi: int) -> None:
    """Both figures: panels without ticks, laid out tight, written and closed."""
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def draw_multiscale(path: str, side: int = 512, patch: int = 32) -> None:
    """Spec v2's cells on a held-out portrait (matplotlib's Grace Hopper sample) at the default
    settings: each cell outlined, coloured by its size, and the identity model's frame (large cells
    come back as the enlargement of their box mean, cells of P and smaller exactly)."""
    from matplotlib import cbook
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as handle, Image.open(handle) as im:
        frame = np.asarray(im.convert("RGB").resize((side, side), Image.LANCZOS))
    out = multiscale.render(frame, [lambda x: x], patch=patch, settings=multiscale.Multiscale(), batch=16)
    cells = out.layout.cells()
    sizes = sorted(set(cells[:, 2].tolist()), reverse=True)
    colours = {s: plt.cm.autumn(k / max(1, len(sizes) - 1)) for k, s in enumerate(sizes)}
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.6))
    axes[0].imshow(frame)
    for top, left, size, _ in cells.tolist():
        axes[0].add_patch(Rectangle((left - 0.5, top - 0.5), size, size, fill=False, lw=2.0 if size > patch else 0.8,
                                    color=colours[size]))
    counts = ", ".join(f"{(cells[:, 2] == s).sum()}×{s}" for s in sizes)
    axes[0].set_title(f"cells at P = {patch}, T = 64, N = 512:\n{counts} px")
    axes[1].imshow(out.frame)
    axes[1].set_title("identity model: each cell resampled to P and back")
    _save(fig, axes, path, dpi=70)


if __name__ == "__main__":
    draw(sys.argv[1] if len(sys.argv) > 1 else "docs/img/pipeline_grid.png")
    draw_multiscale(sys.argv[2] if len(sys.argv) > 2 else "docs/img/pipeline_multiscale.jpg")
