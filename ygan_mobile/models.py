"""The full-size yGAN networks: encoder E, decoder Dec, generator G and critic D.

Only mobile-safe ops (DESIGN §3): strided Conv2d, one ConvTranspose2d in DCGAN form fed by
`z.view(N, Z, 1, 1)`, nearest Upsample + Conv, LeakyReLU/ReLU, tanh, and a Linear head on the encoder. A 4×4 seed is doubled until it reaches the patch size, so the patch must be 4·2^k.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ygan_mobile.luma import BT601


def resolution_levels(patch: int) -> int:
    """Number of 2× resolution steps between the 4×4 seed and the patch: the ladder the teacher and
    the student share, so each student feature map has a teacher one of the same size."""
    k = math.log2(patch / 4)
    if patch < 8 or k != int(k):
        raise ValueError(f"patch size {patch} must be 4·2^k with k ≥ 1 (8, 16, 32, 64, 128 …)")
    return int(k)


@dataclass(frozen=True)
class ModelConfig:
    patch: int = 64
    latent: int = 128
    width: int = 64  # channels of the finest feature map; doubles at each coarser level
    residual: bool = False  # restoration: the patch model outputs x + G(E(x)), G learning the correction (docs/restore.md)
    skip_sigma: float = 0.0  # px, with `residual`: the skip carries the input smoothed by a Gaussian of this σ (Smoothing),
    # a denoiser's; 0 = the input itself. The student inherits it and every artifact computes it (docs/restore.md)
    colour_block: int = 0  # px, art only: the patch model outputs G(E(x)) + the input's colour averaged over block × block
    # pixels (ColourPath), G drawing the light and the colour's finer part; 0 = none

    @property
    def levels(self) -> int:
        return resolution_levels(self.patch)

    def channels(self) -> list[int]:
        """Channel counts from the finest level (patch/2) to the coarsest (4×4)."""
        return [min(self.width * 2**i, 512) for i in range(self.levels)]


def _down(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.2)]


def _up(cin: int, cout: int) -> list[nn.Module]:
    """Nearest 2× upsampling then a 3×3 conv: no checkerboard, unlike a strided ConvTranspose."""
    return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, 1, 1), nn.ReLU()]


class Encoder(nn.Module):
    """(N,3,P,P) → (N,Z): strided convs down to 4×4, then a Linear head."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        ch = cfg.channels()
        layers, cin = [], 3
        for c in ch:
            layers += _down(cin, c)
            cin = c
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(ch[-1] * 16, cfg.latent)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


class Generator(nn.Module):
    """(N,Z) → (N,3,P,P) in [-1,1]: z viewed as a 1×1 map, a DCGAN ConvTranspose to 4×4, then
    nearest-upsample + conv levels up to the patch.

    Also serves as the decoder Dec (same shape, own weights). No batch normalisation: a generator
    that behaves the same in training and at inference is what the critic judges and what ships,
    and per-sample computation keeps data-parallel training equal to one big batch.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        ch = cfg.channels()[::-1]
        self.latent = cfg.latent
        layers = [nn.ConvTranspose2d(cfg.latent, ch[0], 4, 1, 0), nn.ReLU()]
        for cin, cout in zip(ch, ch[1:]):
            layers += _up(cin, cout)
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(ch[-1], 3, 3, 1, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def zero_output(self) -> None:
        """Zero the last conv, so G(z) = 0 for every z: a residual patch model starts as the identity
        ("change nothing") and learns the correction; its hidden layers keep their weights."""
        last = self.net[-2]
        with torch.no_grad():
            last.weight.zero_()
            last.bias.zero_()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], self.latent, 1, 1))


class Critic(nn.Module):
    """(N,3,P,P) → (N,): an unbounded WGAN critic score, no normalisation (the gradient penalty
    is per sample, which batch statistics would break)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        ch = cfg.channels()
        layers, cin = [], 3
        for c in ch:
            layers += _down(cin, c)
            cin = c
        layers.append(nn.Conv2d(cin, 1, 4, 1, 0))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


class ColourPath(nn.Module):
    """x → its colour: x minus its BT.601 luminance in every channel, averaged over block × block
    pixels and repeated back to the patch (the chroma subsampling of JPEG's 4:2:0 at block 2). The art
    recipe's targets carry the photograph's colour low-passed (ygan_mobile.data.matching); as a fixed
    path beside the generator, G only has to draw the light and the colour's finer part, and a small
    student no longer trades the photograph's colour for the elements' crispness (docs/distill.md,
    "The colour path"). Two ops every target converts and runs fast: one convolution (3 → 3, block ×
    block, stride block: the chroma and the average in one) and a nearest upsampling. A Gaussian low
    pass at full resolution was 3.5× the int8 frame time (two 13-tap depthwise convolutions on three
    channels, which XNNPACK runs slowly)."""

    def __init__(self, patch: int, block: int):
        super().__init__()
        if block < 1 or patch % block:
            raise ValueError(f"the colour path's block ({block}) must divide the patch ({patch})")
        chroma = torch.eye(3) - torch.tensor(BT601).view(1, 3).expand(3, 3)  # out channel o: x_o − luma(x)
        self.average = nn.Conv2d(3, 3, block, stride=block, bias=False)
        with torch.no_grad():
            self.average.weight.copy_(chroma.view(3, 3, 1, 1).expand(3, 3, block, block) / block**2)
        self.repeat = nn.Upsample(scale_factor=block, mode="nearest")
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.repeat(self.average(x))


class Smoothing(nn.Module):
    """x → x smoothed by a Gaussian of σ px inside the patch: the skip of a denoiser, so its correction is
    the structure the smoothing lost (which the latent can carry), not the noise. Two depthwise convs
    (a column and a row of 2·⌈3σ⌉ + 1 taps) with zero padding, divided by the same convs of a patch of
    ones, so a border pixel is the weighted mean of the pixels the patch has (a constant patch stays
    constant). No weights to learn."""

    def __init__(self, patch: int, sigma: float):
        super().__init__()
        r = math.ceil(3 * sigma)
        taps = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=torch.float64) / sigma) ** 2)
        taps = (taps / taps.sum()).float()
        self.cols = nn.Conv2d(3, 3, (2 * r + 1, 1), padding=(r, 0), groups=3, bias=False)
        self.rows = nn.Conv2d(3, 3, (1, 2 * r + 1), padding=(0, r), groups=3, bias=False)
        with torch.no_grad():
            self.cols.weight.copy_(taps.view(1, 1, -1, 1).expand(3, 1, -1, 1))
            self.rows.weight.copy_(taps.view(1, 1, 1, -1).expand(3, 1, 1, -1))
            self.register_buffer("norm", 1.0 / self.rows(self.cols(torch.ones(1, 3, patch, patch))))
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rows(self.cols(x)) * self.norm


def channels_last(*modules: nn.Module) -> None:
    """Store every 4-D weight channels-last (NHWC), the layout oneDNN's CPU convolutions run fastest in:
    training and distillation steps took 10% and 38% less time on an AMD EPYC (AVX2; docs/training.md,
    "Reproducibility and checkpoints").
    The math is the same up to the order of a convolution's sums; checkpoints store plain contiguous
    tensors, so nothing that loads one sees the layout."""
    for module in modules:
        module.to(memory_format=torch.channels_last)


def fixed_path(patch: int, residual: bool, skip_sigma: float = 0.0, colour_block: int = 0) -> nn.Module | None:
    """The fixed path beside G that every theme's patch model shares, the one place teacher and student
    make it: the smoothed skip (skip_sigma > 0, a restoration model's), the colour path (colour_block
    px, an art model's), or none. A restoration model already adds its input through the skip; a colour
    path beside it is undefined."""
    if skip_sigma:
        if not residual:
            raise ValueError("skip_sigma smooths the skip of a restoration model: it needs residual = true")
        return Smoothing(patch, skip_sigma)
    if colour_block and residual:
        raise ValueError("a restoration model has the input skip; a colour path beside it is not defined")
    return ColourPath(patch, colour_block) if colour_block else None


def patch_output(x: torch.Tensor, generated: torch.Tensor, residual: bool, colour: nn.Module | None = None) -> torch.Tensor:
    """The patch a model emits for input x: G's patch itself, or with the skip of a restoration model
    the input plus G's correction, clamped to [-1, 1] (a clamp of the sum, not a tanh, so a correction
    of 0 gives back x exactly and the skip never squashes the input); with a colour path (ColourPath)
    G's patch plus x's low-passed colour, clamped the same way. With the skip, `colour` is the skip's
    own path if it has one (Smoothing: the input smoothed, not the input)."""
    if residual:
        return ((x if colour is None else colour(x)) + generated).clamp(-1.0, 1.0)
    return (generated + colour(x)).clamp(-1.0, 1.0) if colour is not None else generated


class PatchModel(nn.Module):
    """The fused artifact a phone runs per theme: G(E(x)), or x + G(E(x)) clamped to [-1, 1] when
    `residual` (restoration), or G(E(x)) + colour(x) clamped when it has a colour path (an art
    teacher's or student's ColourPath), (N,3,P,P) → (N,3,P,P). Every skip is inside the artifact, so every runtime computes it
    with no pipeline change."""

    def __init__(self, encoder: nn.Module, generator: nn.Module, residual: bool = False, colour: nn.Module | None = None):
        super().__init__()
        self.encoder = encoder
        self.generator = generator
        self.residual = residual
        self.colour = colour

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return patch_output(x, self.generator(self.encoder(x)), self.residual, self.colour)


@dataclass
class YGan:
    """One shared encoder and decoder; one generator and one critic per theme."""

    cfg: ModelConfig
    encoder: Encoder
    decoder: Generator
    generators: dict[str, Generator]
    critics: dict[str, Critic]
    colour: nn.Module | None = None  # the fixed path every theme's patch model shares (no weights): the colour path
    # (ColourPath) or, with the skip, the skip's smoothing (Smoothing)

    @classmethod
    def create(cls, cfg: ModelConfig, themes: list[str]) -> "YGan":
        model = cls(
            cfg,
            Encoder(cfg),
            Generator(cfg),
            {t: Generator(cfg) for t in themes},
            {t: Critic(cfg) for t in themes},
            fixed_path(cfg.patch, cfg.residual, cfg.skip_sigma, cfg.colour_block),
        )
        model.start_identity()
        return model

    def start_identity(self) -> None:
        """With the skip, zero each generator's last conv so every patch model is the identity; the
        decoder is an autoencoder's and keeps its initialisation."""
        if self.cfg.residual:
            for gen in self.generators.values():
                gen.zero_output()

    def modules(self) -> dict[str, nn.Module]:
        """Every network under a stable name, the key space of checkpoints."""
        named: dict[str, nn.Module] = {"encoder": self.encoder, "decoder": self.decoder}
        named.update({f"generator.{t}": g for t, g in self.generators.items()})
        named.update({f"critic.{t}": d for t, d in self.critics.items()})
        return named

    def patch_model(self, theme: str) -> PatchModel:
        return PatchModel(self.encoder, self.generators[theme], self.cfg.residual, self.colour)

    def restored(self, x: torch.Tensor, generated: torch.Tensor) -> torch.Tensor:
        """The output patch for input x, given a generator's G(z): what the losses, the critic and the
        measurements see (the patch model's output, skip or colour path included)."""
        return patch_output(x, generated, self.cfg.residual, self.colour)
