"""The judge of theme recognisability: a small CNN that tells photograph patches from each theme's
patches by shape alone.

Why luminance only, standardised per patch, with contrast jitter: a generator that merely tints its
input would otherwise pass on colour, and one that merely darkens it would pass as "stars". Each
patch is turned to luminance, jittered (gain, offset, clipping, gamma), then scaled to zero mean and
unit deviation, so neither colour, brightness nor contrast can decide — only where light and dark
lie. Trained on patches its scores are never computed on (heldout.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ygan_mobile.luma import BT601

LUMA = np.array(BT601, dtype=np.float32)
PHOTO = "photo"  # class 0; themes follow in the order given


def luminance(patches: np.ndarray) -> np.ndarray:
    """uint8 (N,P,P,3) → float32 (N,P,P) in [0, 1] (BT.601 luma)."""
    return (patches.astype(np.float32) @ LUMA) / 255.0


def standardise(lum: np.ndarray) -> np.ndarray:
    """Zero mean, unit deviation per patch; the 0.02 floor keeps flat patches flat, not amplified noise."""
    centred = lum - lum.mean(axis=(1, 2), keepdims=True)
    return centred / (centred.std(axis=(1, 2), keepdims=True) + 0.02)


def jitter(lum: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random gain, offset, clipping and gamma per patch, and random mirror."""
    n = lum.shape[0]
    gain = rng.uniform(0.5, 1.5, (n, 1, 1)).astype(np.float32)
    offset = rng.uniform(-0.25, 0.25, (n, 1, 1)).astype(np.float32)
    mean = lum.mean(axis=(1, 2), keepdims=True)
    out = np.clip((lum - mean) * gain + mean + offset, 0, 1) ** rng.uniform(0.6, 1.6, (n, 1, 1)).astype(np.float32)
    flip = rng.random(n) < 0.5
    out[flip] = out[flip, :, ::-1]
    return out


class JudgeNet(nn.Module):
    """Four 3×3 conv levels, global average pooling, one linear layer: any patch size ≥ 8."""

    def __init__(self, classes: int, width: int = 24):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(1, w, 3, 1, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 3, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(4 * w, 4 * w, 3, 2, 1), nn.LeakyReLU(0.2))
        self.head = nn.Linear(4 * w, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


@dataclass
class Judge:
    classes: list[str]  # PHOTO first, then the themes
    net: JudgeNet

    @torch.no_grad()
    def predict(self, patches: np.ndarray, batch: int = 512) -> np.ndarray:
        """uint8 (N,P,P,3) → class index per patch (no jitter)."""
        self.net.eval()
        x = standardise(luminance(patches))
        out = [self.net(torch.from_numpy(x[i:i + batch, None])).argmax(1).numpy() for i in range(0, len(x), batch)]
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def share(self, patches: np.ndarray, name: str) -> float:
        """The share of `patches` the judge calls `name`."""
        return self.share_of(self.predict(patches), name)

    def share_of(self, predicted: np.ndarray, name: str) -> float:
        """The share of `name` among classes this judge predicted (predict's output)."""
        return float(np.mean(predicted == self.classes.index(name))) if len(predicted) else 0.0


def train_judge(photo: np.ndarray, themes: dict[str, np.ndarray], steps: int = 600, batch: int = 96,
                seed: int = 0) -> Judge:
    """Balanced batches (every class alike) of jittered
    luminance, Adam with a cosine-decayed rate. photo and themes: uint8 (N,P,P,3)."""
    classes = [PHOTO, *themes]
    pools = [luminance(photo)] + [luminance(t) for t in themes.values()]
    if any(len(p) == 0 for p in pools):
        raise ValueError("the judge needs patches of every class")
    torch.manual_seed(seed)
    net = JudgeNet(len(classes)).to(memory_format=torch.channels_last)  # 22% faster steps on CPU here (AMD EPYC)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=1e-4)
    rng = np.random.default_rng([seed, 7])
    share = np.full(len(classes), 1 / len(classes))
    net.train()
    for _ in range(steps):
        counts = rng.multinomial(batch, share)
        lum = np.concatenate([p[rng.integers(len(p), size=c)] for p, c in zip(pools, counts)])
        labels = np.repeat(np.arange(len(classes)), counts)
        x = torch.from_numpy(standardise(jitter(lum, rng))[:, None].copy()).contiguous(memory_format=torch.channels_last)
        loss = nn.functional.cross_entropy(net(x), torch.from_numpy(labels))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    net.eval()
    return Judge(classes, net)


def accuracy(judge: Judge, photo: np.ndarray, themes: dict[str, np.ndarray]) -> dict[str, float]:
    """Per class: the share of real patches the judge names correctly; 'mean' over classes."""
    out = {PHOTO: 1.0 - sum(judge.share(photo, t) for t in themes)}
    out.update({t: judge.share(p, t) for t, p in themes.items()})
    out["mean"] = float(np.mean(list(out.values())))
    return out
