"""Cost of a network: MACs from torch's own FLOP counter, and parameter counts.

Why FlopCounterMode: it is maintained with torch and counts at the aten level (convolution,
transposed convolution, mm/addmm), so it sees exactly what runs, including grouped convs, without a
hand-written table per layer type. For conv and matmul one multiply-accumulate is two FLOPs, so
MACs = FLOPs / 2. Elementwise ops (BN, activations, upsampling) are not counted: BN folds into the
conv at export and the rest are memory-bound, which is the usual convention for "MACs".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@dataclass(frozen=True)
class Cost:
    macs: int  # per patch (batch 1)
    params: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@torch.no_grad()
def count_macs(module: nn.Module, example: torch.Tensor) -> int:
    """MACs of one forward pass on `example` (counted in eval mode, so BN uses running stats)."""
    was_training = module.training
    module.eval()
    counter = FlopCounterMode(display=False)
    with counter:
        module(example)
    module.train(was_training)
    return counter.get_total_flops() // 2


def count_params(module: nn.Module) -> int:
    """Trainable and frozen parameters, each shared tensor once (BN running stats are buffers)."""
    return sum(p.numel() for p in module.parameters())


def patch_cost(patch_model: nn.Module, patch: int) -> Cost:
    """Cost of a fused patch model G(E(x)) for one P×P patch."""
    return Cost(count_macs(patch_model, torch.zeros(1, 3, patch, patch)), count_params(patch_model))
