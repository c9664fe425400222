"""The student encoder E′ and generator G′: the teacher's shapes built from mobile-cheap blocks.

Why these blocks: a depthwise-separable conv (3×3 depthwise, groups=C, then a 1×1 pointwise) costs
about 9/C_out + 1/9 of a full 3×3 conv, and nearest Upsample + conv has no checkerboard and maps to
one resize op on every backend. Only ops from DESIGN §3 appear: Conv2d, ConvTranspose2d fed by
`z.view(N, Z, 1, 1)` (the DCGAN form; never Linear→reshape→ConvTranspose, which onnx2tf converts
silently wrong), BatchNorm (folded at export), ReLU, a clamp (Hardtanh, a Clip like ReLU6) before
tanh, and a Linear only at the encoder head. Every shape is static, so a fixed-batch export needs
no dynamic-shape tricks.

Both networks keep the teacher's resolution ladder (4×4 seed doubled up to the patch), so each
student generator feature map has a teacher feature map of the same size to be distilled against.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ygan_mobile.models import PatchModel, fixed_path, patch_output, resolution_levels


@dataclass(frozen=True)
class StudentConfig:
    patch: int = 32
    latent: int = 128
    width: int = 8  # channels of the finest feature map (patch/2); doubles at each coarser level
    max_channels: int = 128
    depth: int = 1  # depthwise-separable blocks per resolution level (≥ 1)
    residual: bool = False  # the teacher's skip (ModelConfig.residual): the patch model is x + G′(E′(x)), clamped
    skip_sigma: float = 0.0  # the teacher's smoothed skip (ModelConfig.skip_sigma): S(x) + G′(E′(x)), S the same fixed Gaussian
    colour_block: int = 0  # > 0: the patch model is G′(E′(x)) + ColourPath(x), clamped (an art student's colour path)

    @property
    def levels(self) -> int:
        """2× steps between the 4×4 seed and the patch, as in the teacher."""
        return resolution_levels(self.patch)

    def channels(self) -> list[int]:
        """Channel counts from the finest level (patch/2) to the coarsest (4×4)."""
        if self.width < 1 or self.depth < 1 or self.latent < 1:
            raise ValueError(f"width ({self.width}), depth ({self.depth}) and latent ({self.latent}) must be ≥ 1")
        return [min(self.width * 2**i, self.max_channels) for i in range(self.levels)]


def separable(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """Depthwise 3×3 (groups=cin) + BN + ReLU, then pointwise 1×1 + BN + ReLU."""
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
        nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
    )


def _level(cin: int, cout: int, depth: int, stride: int = 1) -> nn.Sequential:
    """One resolution level: a block that changes channels (and stride), then depth−1 that refine."""
    return nn.Sequential(separable(cin, cout, stride), *(separable(cout, cout) for _ in range(depth - 1)))


def upsample(cin: int, cout: int, depth: int) -> nn.Sequential:
    """×2 up: pointwise 1×1 (cin→cout) before the nearest upsample, depthwise 3×3 after it.

    A 1×1 conv commutes with nearest upsampling, so mixing channels at the coarse resolution costs a
    quarter of doing it after; only the spatial 3×3 filter needs the fine grid."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(cout, cout, 3, 1, 1, groups=cout, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
        *(separable(cout, cout) for _ in range(depth - 1)),
    )


class StudentEncoder(nn.Module):
    """(N,3,P,P) → (N,Z): a full 3×3 stem (3 input channels make it cheap), separable stride-2
    levels down to 4×4, then the Linear head."""

    def __init__(self, cfg: StudentConfig):
        super().__init__()
        ch = cfg.channels()
        stem = nn.Sequential(nn.Conv2d(3, ch[0], 3, 2, 1, bias=False), nn.BatchNorm2d(ch[0]), nn.ReLU())
        levels = [_level(cin, cout, cfg.depth, stride=2) for cin, cout in zip(ch, ch[1:])]
        self.features = nn.Sequential(stem, *levels)
        self.head = nn.Linear(ch[-1] * 16, cfg.latent)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


# The logits before tanh are clamped to ±LOGIT_BOUND: tanh(4) is 0.99933, which rounds to the same
# u8 level as 1, so the clamp never changes a rendered pixel, but it bounds the range the int8
# export must quantise. Unclamped, the full preset's students pushed logits to 19 (pure white) and
# one int8 step of the last conv became 0.098, which cost 31 dB < the 32 dB threshold (docs/distill.md).
LOGIT_BOUND = 4.0
# With the skip (StudentConfig.residual) the generator emits a correction, clamped to ±1 and not
# squashed by tanh: int8 quantises a tanh output on a fixed 1/128 grid, about one u8 level, which cost
# a restoration student 0.4 dB (1.3 dB on its smoothest image); a plain clamped conv output is
# calibrated to the corrections' own, much smaller range.
CORRECTION_BOUND = 1.0


class StudentGenerator(nn.Module):
    """(N,Z) → (N,3,P,P) in [-1,1]: DCGAN seed to 4×4, nearest-upsample + separable levels up to
    P/2, and a final stride-2 ConvTranspose to RGB (mixes all channels of a 2×2 neighbourhood for the
    price of a pointwise conv at full resolution), clamped to ±LOGIT_BOUND before tanh — or, with the
    skip, clamped to ±CORRECTION_BOUND and left linear."""

    def __init__(self, cfg: StudentConfig):
        super().__init__()
        ch = cfg.channels()[::-1]
        self.latent = cfg.latent
        self.seed = nn.Sequential(nn.ConvTranspose2d(cfg.latent, ch[0], 4, 1, 0, bias=False), nn.BatchNorm2d(ch[0]), nn.ReLU())
        self.ups = nn.ModuleList(upsample(cin, cout, cfg.depth) for cin, cout in zip(ch, ch[1:]))
        final = nn.ConvTranspose2d(ch[-1], 3, 4, 2, 1)
        if cfg.residual:
            self.out = nn.Sequential(final, nn.Hardtanh(-CORRECTION_BOUND, CORRECTION_BOUND))
        else:
            self.out = nn.Sequential(final, nn.Hardtanh(-LOGIT_BOUND, LOGIT_BOUND), nn.Tanh())

    def features(self, z: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The output and the feature map of every level (4×4 … P/2), for feature distillation."""
        h = self.seed(z.view(z.shape[0], self.latent, 1, 1))
        feats = [h]
        for up in self.ups:
            h = up(h)
            feats.append(h)
        return self.out(h), feats

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.features(z)[0]


@dataclass
class StudentModels:
    """One shared student encoder, one student generator per theme (mirrors ygan_mobile.models.YGan)."""

    cfg: StudentConfig
    encoder: StudentEncoder
    generators: dict[str, StudentGenerator]
    colour: nn.Module | None = None  # the fixed path every theme's patch model shares, the teacher's own (no weights to
    # learn): the colour path of an art student, the smoothing of a smoothed skip, or none

    @classmethod
    def create(cls, cfg: StudentConfig, themes: list[str]) -> "StudentModels":
        colour = fixed_path(cfg.patch, cfg.residual, cfg.skip_sigma, cfg.colour_block)
        return cls(cfg, StudentEncoder(cfg), {t: StudentGenerator(cfg) for t in themes}, colour)

    def modules(self) -> dict[str, nn.Module]:
        """Every network under a stable name, the key space of student checkpoints."""
        return {"encoder": self.encoder, **{f"generator.{t}": g for t, g in self.generators.items()}}

    def patch_model(self, theme: str) -> PatchModel:
        """The fused model in the parts' current mode: a fresh nn.Module starts in training mode,
        and exporters that restore that mode afterwards would flip the shared parts back to it."""
        return PatchModel(self.encoder, self.generators[theme], self.cfg.residual, self.colour).train(self.encoder.training)

    def patch_output(self, x: torch.Tensor, generated: torch.Tensor) -> torch.Tensor:
        """The patch model's output for x, given G′'s patch (the skip or the colour path applied)."""
        return patch_output(x, generated, self.cfg.residual, self.colour)

    def train(self, mode: bool = True) -> "StudentModels":
        for module in self.modules().values():
            module.train(mode)
        return self

    def eval(self) -> "StudentModels":
        return self.train(False)
