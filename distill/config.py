"""The distillation preset: [student] shape, [train] schedule and loss weights, [eval] measurements.

Same conventions as ygan_mobile.config (TOML presets by name or path, `--set section.key=value`
overrides parsed as TOML literals that must keep the preset value's type), but its own sections:
patch size and latent come from the teacher checkpoint, never from the preset, so a student can't
be built for a patch the teacher doesn't produce.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ygan_mobile import config
from ygan_mobile.errors import YganError

PRESETS = ("quick", "full")
PIXEL_FORMS = ("mean", "relative")


@dataclass(frozen=True)
class StudentShape:
    width: int = 8
    max_channels: int = 128
    depth: int = 1
    colour_block: int = 0  # px: a fixed path adds the input's colour, averaged over block × block pixels, to G′'s
    # patch (ygan_mobile.models.ColourPath); 0 = none: G′ draws the colour itself


@dataclass(frozen=True)
class DistillTrain:
    steps: int = 1000
    batch: int = 32
    lr: float = 3e-3
    lr_final: float = 0.05  # cosine decay to lr·lr_final at the last step
    l1: float = 1.0  # pixel L1 on G′(E′(x)) vs G(E(x)), per theme
    mse: float = 1.0  # pixel MSE, same pair
    feature: float = 0.5  # relative MSE of adapted student vs teacher generator features
    latent: float = 0.1  # relative MSE of E′(x) vs E(x)
    adversarial: float = 0.0  # teacher-critic hinge term; 0 turns it off
    edge: float = 0.0  # L1 of the output's neighbour differences vs the teacher's; 0 turns it off
    colour: float = 0.0  # L1 of the output's block opponent chroma vs the teacher's; 0 turns it off
    colour_pool: int = 4  # px: the colour term's blocks (4: 8×8 blocks per 32-px patch; P: the patch's mean)
    pixel_form: str = "mean"  # the l1 and mse terms as plain means over the batch, or "relative": each patch's error
    # over the size of the teacher's output on it (with the skip: its correction), distill.losses.pixel_losses
    paired: float = 0.0  # restoration students: the teacher's paired loss (its paired_form and paired_floor) on the
    # restored patch against the clean patch it was degraded from, beside the teacher's terms; 0 turns it off (docs/restore.md)
    pixel_floor: float = 1e-3  # added to each patch's mean square in "relative" ([−1, 1] range; one u8 level is 6.2e-5): at
    # 3e-5, the teacher's floor, the patches the teacher leaves alone outweighed the rest and the deblurring student
    # learnt the identity (docs/lab/2026-12-05-residual-restoration.md)
    checkpoint_every: int = 200
    log_every: int = 10
    eval_patches: int = 256
    seed: int = 0
    threads: int = 0


@dataclass(frozen=True)
class EvalConfig:
    frame: int = 512  # side of the square frame rendered by teacher and student
    stride: int = 0  # render stride; 0 means half the patch
    timing_repeats: int = 5
    sample_patches: int = 8


@dataclass(frozen=True)
class DistillConfig:
    student: StudentShape
    train: DistillTrain
    eval: EvalConfig

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "DistillConfig":
        cfg = cls(**config.parse_sections({"student": StudentShape, "train": DistillTrain, "eval": EvalConfig}, raw, "distill "))
        _validate(cfg)
        return cfg


def _validate(cfg: DistillConfig) -> None:
    s, t = cfg.student, cfg.train
    if min(s.width, s.max_channels, s.depth) < 1:
        raise YganError(f"[student] width, max_channels and depth must be ≥ 1 (got {s}): fix the preset or --set")
    if s.colour_block < 0:
        raise YganError(f"[student] colour_block must be ≥ 0 px (0 = no colour path), got {s.colour_block}")
    if t.steps < 0 or t.batch < 2:
        raise YganError(f"[train] steps must be ≥ 0 and batch ≥ 2 (BatchNorm needs a batch), got {t.steps} and {t.batch}")
    if min(t.l1, t.mse, t.feature, t.latent, t.adversarial, t.edge, t.colour, t.paired) < 0 or t.l1 + t.mse + t.paired == 0:
        raise YganError("[train] loss weights must be ≥ 0 with l1, mse or paired > 0: the student must match the teacher's "
                        "pixels or the clean ones")
    if t.pixel_form not in PIXEL_FORMS or not t.pixel_floor > 0:
        raise YganError(f"[train] pixel_form = {t.pixel_form!r} must be one of {', '.join(PIXEL_FORMS)} and pixel_floor "
                        f"= {t.pixel_floor} > 0")
    if t.checkpoint_every < 1 or t.log_every < 1 or t.eval_patches < 1 or t.colour_pool < 1:
        raise YganError("[train] checkpoint_every, log_every, eval_patches and colour_pool must be ≥ 1")
    if cfg.eval.frame < 8 or cfg.eval.timing_repeats < 1 or cfg.eval.stride < 0:
        raise YganError("[eval] frame must be ≥ 8, timing_repeats ≥ 1 and stride ≥ 0 (0 = half the patch)")


def load_preset(name_or_path: str) -> dict[str, Any]:
    """A distill preset by name (shipped in distill/presets), the [distill.*] tables of a
    restoration preset by its name (ygan_mobile/presets, docs/restore.md), or a TOML file's path."""
    if name_or_path in PRESETS:
        text = resources.files("distill.presets").joinpath(f"{name_or_path}.toml").read_text()
    elif name_or_path in config.PRESETS:
        return config.load_preset(name_or_path)["distill"]
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise YganError(f"distill preset '{name_or_path}' not found: use one of {', '.join(PRESETS)} or a path to a TOML file")
        text = path.read_text()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise YganError(f"distill preset '{name_or_path}' is not valid TOML: {exc}") from None


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A copy of `raw` with each `section.key=value` applied; the value keeps the preset's type."""
    return config.apply_overrides(raw, overrides, DistillConfig.from_dict({}).to_dict(), "distill ")


def build(preset: str, overrides: list[str]) -> DistillConfig:
    return DistillConfig.from_dict(apply_overrides(load_preset(preset), overrides))
