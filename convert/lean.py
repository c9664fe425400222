"""The student's export form: the same function, written in ops XNNPACK runs end to end in int8.

Why rewrite at export and not in the trained architecture: the student's math stays exactly what
was distilled (every rewrite below is an identity up to float rounding, checked by a test), but the
graph onnx2tf sees has no op that leaves XNNPACK and no layout shuffle (measured per op with
`python -m convert.op_profile`, docs/speed.md):

- nearest Upsample ×2 after a 1×1 conv → the 1×1 conv with each output channel repeated 4 times,
  then DepthToSpace(2). LiteRT's RESIZE_NEAREST_NEIGHBOR is not delegated to XNNPACK and splits
  the int8 graph into three partitions; DEPTH_TO_SPACE is delegated.
- the DCGAN seed ConvTranspose(Z→C, 4) on a 1×1 latent → a 1×1 conv Z→16·C and DepthToSpace(4):
  XNNPACK's deconvolution on a 1×1 input was the slowest op of the int8 graph.
- the final ConvTranspose(C→3, 4, stride 2, pad 1) → a 3×3 conv C→12 (SAME padding) and
  DepthToSpace(2): no VALID transpose conv followed by a STRIDED_SLICE.
- the clamp before tanh (distill/students.py) → the 1/LOGIT_BOUND folded into that conv, a
  Clip(−1, 1) the converter fuses into it as RELU_N1_TO_1, and ×LOGIT_BOUND before tanh: the int8
  conv output is then calibrated to [−1, 1], not to whatever the clamp cut off. A restoration
  student's correction (clamped to ±1, no tanh) keeps the Clip alone; the patch model's skip then
  adds the input and clamps the sum (ygan_mobile.models.patch_output).
- the colour path's nearest upsampling (ygan_mobile.models.ColourPath) → its block-average conv with
  each output channel repeated block² times, then DepthToSpace(block), as for the generator's.
  A restoration student's smoothed skip (ygan_mobile.models.Smoothing: two depthwise convs and a
  constant Mul) exports as it is.
- the encoder's flatten + Linear → a 4×4 VALID conv to (N, Z, 1, 1), which the patch model feeds
  straight into the generator: no NCHW TRANSPOSE + RESHAPE before a FULLY_CONNECTED.

torch writes PixelShuffle as ONNX DepthToSpace in CRD order, which onnx2tf turns into 6-D
reshapes and transposes; `dcr_depth_to_space` permutes the producing conv's output channels so the
node can say DCR, TensorFlow's own order, and convert to one DEPTH_TO_SPACE.
Only student networks are rewritten; a teacher exports as it is.
"""

from __future__ import annotations

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from distill.students import StudentEncoder, StudentGenerator
from ygan_mobile.models import ColourPath, PatchModel


class LeanEncoder(nn.Module):
    """StudentEncoder with its Linear head as a 4×4 conv; `spatial` keeps the (N, Z, 1, 1) shape."""

    def __init__(self, encoder: StudentEncoder, spatial: bool = False):
        super().__init__()
        self.features = encoder.features
        linear = encoder.head
        channels = linear.in_features // 16
        self.head = nn.Conv2d(channels, linear.out_features, 4)
        with torch.no_grad():
            self.head.weight.copy_(linear.weight.view(linear.out_features, channels, 4, 4))
            self.head.bias.copy_(linear.bias)
        self.spatial = spatial

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.head(self.features(x))
        return z if self.spatial else z.flatten(1)


def _repeat_out(conv: nn.Conv2d, times: int) -> nn.Conv2d:
    """The conv with its every output channel appearing `times` times in a row (PixelShuffle's CRD)."""
    wide = nn.Conv2d(conv.in_channels, conv.out_channels * times, conv.kernel_size, conv.stride, conv.padding)
    with torch.no_grad():
        wide.weight.copy_(conv.weight.repeat_interleave(times, dim=0))
        bias = conv.bias if conv.bias is not None else torch.zeros(conv.out_channels)
        wide.bias.copy_(bias.repeat_interleave(times))
    return wide


def _seed(deconv: nn.ConvTranspose2d) -> nn.Conv2d:
    """ConvTranspose(Z→C, k, stride 1, pad 0) on a 1×1 input as a 1×1 conv Z→k²·C (CRD order)."""
    z, c, k, _ = deconv.weight.shape
    conv = nn.Conv2d(z, c * k * k, 1)
    with torch.no_grad():
        conv.weight.copy_(deconv.weight.permute(1, 2, 3, 0).reshape(c * k * k, z, 1, 1))
        conv.bias.copy_(deconv.bias.repeat_interleave(k * k))
    return conv


def _final(deconv: nn.ConvTranspose2d, scale: float) -> nn.Conv2d:
    """scale · ConvTranspose(C→O, 4, stride 2, pad 1) as a 3×3 pad-1 conv C→4·O before DepthToSpace(2).

    Fine output 2m+a takes coarse inputs m+t−1 (t = 0..2) through deconv tap a+3−2t when 0 ≤ tap ≤ 3."""
    c, o, _, _ = deconv.weight.shape
    weight = torch.zeros(o, 2, 2, c, 3, 3)
    w = deconv.weight.detach()
    for a in range(2):
        for b in range(2):
            for t in range(3):
                for s in range(3):
                    ty, tx = a + 3 - 2 * t, b + 3 - 2 * s
                    if 0 <= ty <= 3 and 0 <= tx <= 3:
                        weight[:, a, b, :, t, s] = w[:, :, ty, tx].T
    conv = nn.Conv2d(c, 4 * o, 3, padding=1)
    with torch.no_grad():
        conv.weight.copy_(scale * weight.reshape(4 * o, c, 3, 3))
        conv.bias.copy_(scale * deconv.bias.repeat_interleave(4))
    return conv


class Scale(nn.Module):
    """x · factor: one constant Mul in the graph."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


class LeanGenerator(nn.Module):
    """StudentGenerator in convs + DepthToSpace; takes (N, Z) or, with `spatial`, (N, Z, 1, 1)."""

    def __init__(self, generator: StudentGenerator, spatial: bool = False):
        super().__init__()
        deconv, act = generator.seed[0], generator.seed[2]
        k = deconv.kernel_size[0]
        self.latent, self.spatial = generator.latent, spatial
        self.seed = nn.Sequential(_seed(deconv), act, nn.PixelShuffle(k))
        self.ups = nn.Sequential(*(self._up(up) for up in generator.ups))
        bound = generator.out[1].max_val
        scaled = [Scale(bound)] if bound != 1.0 else []  # a restoration student's ±1 clamp needs no rescale
        self.out = nn.Sequential(_final(generator.out[0], 1.0 / bound), nn.Hardtanh(-1.0, 1.0), nn.PixelShuffle(2),
                                 *scaled, *generator.out[2:])

    @staticmethod
    def _up(block: nn.Sequential) -> nn.Sequential:
        layers = list(block)
        at = next(i for i, m in enumerate(layers) if isinstance(m, nn.Upsample))
        layers[0] = _repeat_out(layers[0], 4)
        layers[at] = nn.PixelShuffle(2)
        return nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if not self.spatial:
            z = z.view(z.shape[0], self.latent, 1, 1)
        return self.out(self.ups(self.seed(z)))


def _is_lean_able(generator: nn.Module) -> bool:
    """A student generator whose seed is the DCGAN ConvTranspose and whose ×2 blocks start with a 1×1 conv."""
    if not isinstance(generator, StudentGenerator) or not isinstance(generator.seed[0], nn.ConvTranspose2d):
        return False
    out, clamp = generator.out[0], generator.out[1]
    return (isinstance(out, nn.ConvTranspose2d) and out.kernel_size == (4, 4) and out.stride == (2, 2)
            and out.padding == (1, 1) and isinstance(clamp, nn.Hardtanh) and clamp.min_val == -clamp.max_val and all(isinstance(up[0], nn.Conv2d) and up[0].kernel_size == (1, 1) for up in generator.ups))


def lean_colour(path: ColourPath) -> nn.Sequential:
    """The colour path's block average with each output channel repeated block² times, then
    DepthToSpace(block): its nearest upsampling without RESIZE_NEAREST_NEIGHBOR (which alone doubled
    the int8 patch model's time, partitions included)."""
    block = path.average.stride[0]
    return nn.Sequential(_repeat_out(path.average, block * block), nn.PixelShuffle(block)).eval()


def lean(module: nn.Module) -> nn.Module:
    """The export form of a BatchNorm-folded student encoder, generator or patch model; anything else unchanged."""
    if isinstance(module, PatchModel) and isinstance(module.encoder, StudentEncoder) and _is_lean_able(module.generator):
        colour = lean_colour(module.colour) if isinstance(module.colour, ColourPath) else module.colour
        return PatchModel(LeanEncoder(module.encoder, spatial=True), LeanGenerator(module.generator, spatial=True),
                          module.residual, colour).eval()
    if isinstance(module, StudentEncoder):
        return LeanEncoder(module).eval()
    if _is_lean_able(module):
        return LeanGenerator(module).eval()
    return module


def dcr_depth_to_space(model: onnx.ModelProto) -> onnx.ModelProto:
    """Rewrite each CRD DepthToSpace fed by a Conv (through an optional Relu or Clip) as DCR, permuting that Conv's outputs."""
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    inits = {t.name: t for t in graph.initializer}
    users: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            users[name] = users.get(name, 0) + 1
    for node in graph.node:
        mode = next((a for a in node.attribute if a.name == "mode"), None)
        if node.op_type != "DepthToSpace" or mode is None or mode.s != b"CRD":
            continue
        conv = producer.get(node.input[0])
        if conv is not None and conv.op_type in ("Relu", "Clip") and users.get(conv.output[0]) == 1:
            conv = producer.get(conv.input[0])
        if conv is None or conv.op_type != "Conv" or users.get(conv.output[0]) != 1 or not all(n in inits for n in conv.input[1:]):
            continue
        block = next(a.i for a in node.attribute if a.name == "blocksize")
        for name in conv.input[1:]:
            values = numpy_helper.to_array(inits[name])
            c = values.shape[0] // (block * block)
            # CRD channel c·b² + i·b + j becomes DCR channel (i·b + j)·C + c
            order = np.arange(values.shape[0]).reshape(c, block * block).T.reshape(-1)
            inits[name].CopyFrom(numpy_helper.from_array(values[order], name))
        mode.s = b"DCR"
    return model
