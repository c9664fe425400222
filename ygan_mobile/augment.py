"""Differentiable augmentation for the critic (DiffAugment, Zhao et al. 2020): the same kind of random
shift and cutout applied to real and generated patches before the critic sees them.

Why: a theme has a few thousand tiles and the quick preset runs a few hundred adversarial steps; a
critic that sees the same tiles again memorises them and its gradients stop describing the theme.
Augmenting both sides (never only the real one, which the generator would learn to imitate) keeps
the critic judging elements rather than memorised pixels.

The draws are made for the whole batch from a seeded generator and applied to a slice of it, so a
resumed run repeats an uninterrupted one and a data-parallel run (each rank holding a slice) computes
what one process does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SHIFT = 0.125  # up to this share of the patch side, in each direction
CUTOUT = 0.25  # side of the square zeroed, as a share of the patch side


def draw(gen: torch.Generator, n: int, size: int) -> torch.Tensor:
    """(n, 4) int64 per patch: the shift in y and x, and the top-left corner of the cutout square."""
    s, c = _shift(size), _side(size)
    dy, dx = (torch.randint(-s, s + 1, (n,), generator=gen) for _ in range(2))
    top, left = (torch.randint(-(c // 2), size - c // 2 + 1, (n,), generator=gen) for _ in range(2))
    return torch.stack([dy, dx, top, left], 1)


def apply(x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """x (n,C,P,P) moved by whole pixels (the uncovered border zero), then a square zeroed in each patch."""
    return cutout(translate(x, params[:, 0], params[:, 1]), params[:, 2], params[:, 3])


def translate(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    n, _, h, w = x.shape
    s = _shift(h)
    padded = F.pad(x, (s, s, s, s)).permute(0, 2, 3, 1)  # (n, h + 2s, w + 2s, c)
    rows = torch.arange(h).view(1, h, 1) + s - dy.view(n, 1, 1)
    cols = torch.arange(w).view(1, 1, w) + s - dx.view(n, 1, 1)
    return padded[torch.arange(n).view(n, 1, 1), rows, cols].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, top: torch.Tensor, left: torch.Tensor) -> torch.Tensor:
    """A square of side CUTOUT·P zeroed from (top, left) in each patch (it may be cut by the edge)."""
    n, _, h, w = x.shape
    c = _side(h)
    ys, xs = torch.arange(h).view(1, h, 1), torch.arange(w).view(1, 1, w)
    top, left = top.view(n, 1, 1), left.view(n, 1, 1)
    inside = (ys >= top) & (ys < top + c) & (xs >= left) & (xs < left + c)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def _shift(size: int) -> int:
    return max(1, int(size * SHIFT + 0.5))


def _side(size: int) -> int:
    return max(1, int(size * CUTOUT + 0.5))
