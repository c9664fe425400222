"""The yGAN losses, written as the formulas in the method so tests can check them by hand.

‖·‖₂ terms are taken as mean squared errors over elements (the squared ℓ2 norm divided by the
element count), so their scale does not depend on patch or latent size.
"""

from __future__ import annotations

import torch
from torch import nn


def autoencoder_loss(x: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
    """ℓ_auto = ‖x − Dec(E(x))‖₂ (as MSE)."""
    return (x - reconstruction).pow(2).mean()


def cycle_loss(z: torch.Tensor, z_cycle: torch.Tensor, z_power: torch.Tensor | None = None) -> torch.Tensor:
    """‖z − E(G(z))‖₂ relative to ‖z‖₂ (both squared): keeps the generated patch faithful to the
    input's latent. The encoder learns whatever latent scale suits it (rms ≈ 0.14 measured), so an
    absolute error would make λ depend on training; relative to the batch's mean ‖z‖², λ = 1 weighs
    a cycle error as large as z itself like one unit of critic score. `z_power` is that mean over the
    whole batch when each process holds only a shard of it (torchrun)."""
    power = z.detach().pow(2).mean() if z_power is None else z_power
    return (z - z_cycle).pow(2).mean() / power.clamp_min(1e-12)


def generator_loss(critic_fake: torch.Tensor, z: torch.Tensor, z_cycle: torch.Tensor, lam: float,
                   z_power: torch.Tensor | None = None, adversarial: float = 1.0) -> torch.Tensor:
    """ℓ_G = −a·D(G(z)) + λ·‖z − E(G(z))‖₂ (a = 1 for the art themes)."""
    return -adversarial * critic_fake.mean() + lam * cycle_loss(z, z_cycle, z_power)


PAIRED_FORMS = ("mse", "relative", "log")


def paired_loss(restored: torch.Tensor, clean: torch.Tensor, degraded: torch.Tensor, form: str, floor: float) -> torch.Tensor:
    """The pixel loss of a restoration task against its clean original y, from the per-patch mean
    squared errors e_i = ‖x̂_i − y_i‖² of the restored patches and d_i = ‖x_i − y_i‖² of their
    degraded inputs:

    - "mse": mean_i e_i, the plain mean over the batch. A patch whose input is already nearly right
      adds almost nothing to it, so nothing teaches the model to leave such a patch alone.
    - "relative": mean_i e_i / (d_i + floor), the mean per-patch error relative to the input's (its
      log is the patch's PSNR gain): making a near-perfect patch twice as wrong costs as much as
      failing to halve a bad patch's error. `floor` (a mean square on the [−1, 1] range) keeps flat
      patches, whose input may be exact, from dominating.
    - "log": mean_i log(e_i + floor), the mean per-patch PSNR of the output (up to sign and scale).
    """
    error = (restored - clean).pow(2).flatten(1).mean(1)
    if form == "mse":
        return error.mean()
    if form == "relative":
        before = (degraded - clean).pow(2).flatten(1).mean(1)
        return (error / (before + floor)).mean()
    if form == "log":
        return torch.log(error + floor).mean()
    raise ValueError(f"paired loss form {form!r} is not one of {', '.join(PAIRED_FORMS)}")


def opponent_chroma(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The opponent channels of Hasler and Süsstrunk's colourfulness, rg = R − G and
    yb = (R + G)/2 − B, of (N, 3, H, W) patches: both 0 wherever the patch is grey."""
    r, g, b = rgb.unbind(1)
    return r - g, 0.5 * (r + g) - b


def chroma_loss(restored: torch.Tensor, clean: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """mean_i (c(x̂_i) − c(y_i))², c the patch's RMS opponent chroma √(mean(rg² + yb²) + eps): how far
    each restored patch's saturation is from its clean patch's, whatever the hue. The paired pixel
    loss alone averages the plausible colours of a greyscale patch toward grey (a red and a green
    cup average to a brownish grey); this term prices the saturation so lost, and leaves the hue to
    the pixel loss and the critic. `eps` keeps the square root differentiable at grey."""
    def rms(x: torch.Tensor) -> torch.Tensor:
        rg, yb = opponent_chroma(x)
        return ((rg.pow(2) + yb.pow(2)).flatten(1).mean(1) + eps).sqrt()
    return (rms(restored) - rms(clean)).pow(2).mean()


def theme_match_loss(fake: torch.Tensor, matched: torch.Tensor) -> torch.Tensor:
    """‖G(E(x)) − y*(x)‖² (as MSE), y*(x) the theme tile nearest x by coarse light (data.matching):
    a real element lit like the patch it replaces, the target a theme lacks as ground truth.

    Given several candidates per patch (N, k, 3, P, P), y* is the one G's output is nearest to
    relative to the candidate's own contrast: where tiles of different shapes have nearly the same
    light, the generator may keep drawing one of them whole instead of their average (a blur no
    judge calls an element). Relative, because a blurred output is nearest in absolute terms to the
    flattest candidate, and an absolute choice drifted to bare grounds
    (docs/lab/2026-12-04-stamp-recipe.md, sixth round)."""
    if matched.dim() == fake.dim():
        return (fake - matched).pow(2).mean()
    error = (fake.unsqueeze(1) - matched).pow(2).flatten(2).mean(2)  # (N, k)
    with torch.no_grad():
        contrast = (matched - matched.mean((2, 3, 4), keepdim=True)).pow(2).flatten(2).mean(2).clamp_min(1e-3)
        pick = (error / contrast).argmin(1, keepdim=True)
    return error.gather(1, pick).mean()


def critic_loss(critic_fake: torch.Tensor, critic_real: torch.Tensor, penalty: torch.Tensor, weight: float) -> torch.Tensor:
    """ℓ_D = D(G(z)) − D(y) + w·GP (WGAN-GP keeps the critic 1-Lipschitz)."""
    return critic_fake.mean() - critic_real.mean() + weight * penalty


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """E[(‖∇D(x̂)‖₂ − 1)²] at x̂ = α·y + (1 − α)·G(z), α per sample in [0, 1]."""
    mixed = (alpha.view(-1, 1, 1, 1) * real + (1 - alpha.view(-1, 1, 1, 1)) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
