"""A Linux-side estimate of palettised Core ML parity, for when no MIL interpreter can run the package.

Why this is meaningful: palettisation changes only the weights, so applying coremltools' own
per-tensor k-means (the same routine `palettize_weights` calls, on the same fp16 weights and the same
size threshold) to the folded torch module and running it in float32 isolates the compression error.
The real package adds fp16 compute error on top (fp16 alone measures > 70 dB), so an estimate below
the threshold is a certain failure, and one above it is reported but still "not verified".
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from convert.coreml import PALETTE_WEIGHT_THRESHOLD
from convert.fold import fold_batchnorm


def palettized_copy(module: nn.Module, nbits: int) -> nn.Module:
    """The folded module with every weight larger than the threshold replaced by its LUT values."""
    from coremltools.optimize.coreml._quantization_passes import palettize_weights

    model = copy.deepcopy(fold_batchnorm(module))
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) and layer.weight.numel() > PALETTE_WEIGHT_THRESHOLD:
                w = layer.weight.detach().numpy().astype(np.float16)
                lut, indices = palettize_weights._get_lut_and_indices(w, "KMEANS", nbits, None)
                dense = lut.reshape(-1)[indices.reshape(-1)].reshape(w.shape).astype(np.float32)
                layer.weight.copy_(torch.from_numpy(dense))
    return model


@torch.no_grad()
def palettized_outputs(module: nn.Module, nbits: int, x: np.ndarray, batch: int) -> np.ndarray:
    model = palettized_copy(module, nbits)
    return torch.cat([model(torch.from_numpy(x[i:i + batch])) for i in range(0, len(x), batch)]).numpy()
