"""Differentiable augmentation for the critic (DiffAugment, Zhao et al. 2020): the same kind of random
shift and cutout applied to real and generated patches before the critic sees them.

Why: a theme has a few thousand tiles and the quick preset runs a few hundred adversarial steps; a
critic that sees the same tiles again memorises them and its gradients stop describing the theme.
Augmenting both sides (never only the real one, which the generator would learn to imitate) keeps
the critic judging elements rather than memorised pixels. The draws come from a seeded generator,
so a resumed run repeats an uninterrupted one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SHIFT = 0.125  # up to this share of the patch side, in each direction
CUTOUT = 0.25  # side of the square zeroed, as a share of the patch side


def translate(x: torch.Tensor, gen: torch.Generator, share: float = SHIFT) -> torch.Tensor:
    """Each patch moved by a whole number of pixels in y and x, the uncovered border zero."""
    n, c, h, w = x.shape
    s = max(1, int(h * share + 0.5))
    dy = torch.randint(-s, s + 1, (n, 1, 1), generator=gen)
    dx = torch.randint(-s, s + 1, (n, 1, 1), generator=gen)
    padded = F.pad(x, (s, s, s, s)).permute(0, 2, 3, 1)  # (n, h + 2s, w + 2s, c)
    rows = torch.arange(h).view(1, h, 1) + s - dy
    cols = torch.arange(w).view(1, 1, w) + s - dx
    return padded[torch.arange(n).view(n, 1, 1), rows, cols].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, gen: torch.Generator, share: float = CUTOUT) -> torch.Tensor:
    """A square of side share·P zeroed at a random place in each patch (it may be cut by the edge)."""
    n, _, h, w = x.shape
    size = max(1, int(h * share + 0.5))
    top = torch.randint(-(size // 2), h - size // 2 + 1, (n, 1, 1), generator=gen)
    left = torch.randint(-(size // 2), w - size // 2 + 1, (n, 1, 1), generator=gen)
    ys, xs = torch.arange(h).view(1, h, 1), torch.arange(w).view(1, 1, w)
    inside = (ys >= top) & (ys < top + size) & (xs >= left) & (xs < left + size)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def diff_augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return cutout(translate(x, gen), gen)
