"""TOML presets and command-line overrides, turned into plain dataclasses.

A preset is a TOML file with [model], [data] and [train] tables. `--set section.key=value` overrides
any value; the value is parsed as a TOML literal (so `3`, `0.5`, `true`, `["a","b"]` work) and must
keep the type of the preset's value.
"""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ygan_mobile.data.degrade import Degradation
from ygan_mobile.data.themes import THEMES
from ygan_mobile.errors import YganError
from ygan_mobile.losses import PAIRED_FORMS
from ygan_mobile.models import ModelConfig

RESTORE_PRESETS = ("colorize", "denoise", "superres2", "superres4", "deblur")
PRESETS = ("quick", "full") + RESTORE_PRESETS + tuple(f"{name}-full" for name in RESTORE_PRESETS)
BUILD_TABLES = ("distill", "convert", "quality")  # a preset's tables for `ygan build`'s later stages


@dataclass(frozen=True)
class DataConfig:
    themes: list[str] = field(default_factory=lambda: ["flowers", "stars", "skulls"])
    holdout: float = 0.25
    theme_tiles: int = 160
    data_a: str = ""
    data_b: str = ""
    task: str = ""  # a restoration task (docs/restore.md); empty for the art themes
    noise_sigma: float = 25.0
    blur_sigma: float = 2.0
    scale: int = 2

    @property
    def degradation(self) -> Degradation | None:
        if not self.task:
            return None
        return Degradation(self.task, self.noise_sigma, self.blur_sigma, self.scale)

    def degradation_dict(self) -> dict[str, Any]:
        return self.degradation.parameters() if self.task else {}


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1000
    batch: int = 32
    lr: float = 2e-4
    lr_gan: float = 1e-4
    lr_gan_themes: dict[str, float] = field(default_factory=dict)  # theme → the learning rate of its generator and
    # critic instead of lr_gan (skulls' elements sharpen at a rate that blurs stars, docs/training.md)
    beta1: float = 0.5
    beta2: float = 0.9
    lambda_cycle: float = 1.0
    cycle_encoder: float = 0.0
    gp_weight: float = 10.0
    warmup: int = 0
    checkpoint_every: int = 200
    log_every: int = 10
    eval_patches: int = 256
    seed: int = 0
    threads: int = 0
    lr_final: float = 1.0  # cosine decay of both learning rates to lr·lr_final at the last step; 1 = constant
    paired: float = 0.0  # weight of ‖G(E(x)) − y‖² when x and y are a degraded/clean pair
    paired_form: str = "mse"  # how that term weighs the batch's patches: "mse" (their plain mean), "relative" (each
    # patch's error over its degraded input's) or "log" (the log of each patch's error): ygan_mobile.losses.paired_loss
    paired_floor: float = 3e-5  # added to each patch's mean square in "relative" and "log" ([−1, 1] range; one u8 level is 6.2e-5)
    chroma: float = 0.0  # weight of each restored patch's RMS opponent chroma against its clean patch's
    # (ygan_mobile.losses.chroma_loss): colourisation's pixel loss averages plausible colours toward grey
    adversarial: float = 1.0  # weight of −D(G(z)) in the generator loss
    generator_init: str = "decoder"  # how generators start the adversarial phase: "decoder" (copies of the
    # warmed-up decoder) or "match" (trained through the warm-up on the theme-match term, docs/training.md)
    theme_match: float = 0.0  # weight of ‖G(E(x)) − y*(x)‖², y* the theme tile nearest x by coarse light
    match_cells: int = 4  # y*: luminance compared on a match_cells × match_cells grid
    match_pool: int = 0  # y* is drawn from the first match_pool training tiles (and their mirror images); 0 = all
    match_relight: bool = False  # y* re-lit to x's mean luminance, so the pool supplies shapes and x the light
    match_fit: list[str] = field(default_factory=list)  # themes whose y* is re-lit by scaling the tile's contrast into
    # range instead of clipping the shifted tile: light elements on night skies (galaxies), which clipping erased
    match_choices: dict[str, int] = field(default_factory=dict)  # theme → k: from step match_choices_from on, y* is
    # whichever of the k nearest tiles G's output is nearest (for its contrast); "*" → k for every theme not named;
    # themes neither named nor covered by "*" take the nearest
    match_spacing: dict[str, float] = field(default_factory=dict)  # theme → gap: from match_choices_from on, the
    # theme's pool keeps only tiles whose keys lie at least gap apart (ThemePool.spaced)
    match_choices_from: int = 0
    match_spread: float = 0.0  # a pool whose keys take in less than this share of the photographs' patches (by mean
    # light) has its keys spread over the photographs' light, its tiles kept in order (ThemePool.spread); 0 = never
    match_centred: bool = False  # y*: compared on the light's layout (the grid minus its mean), not its level
    match_light: float = 0.0  # y*: weight of x's low-passed light layout inside the cell, added to the tile (data.matching.Lighting)
    match_light_themes: dict[str, float] = field(default_factory=dict)  # theme → its own match_light (flowers have
    # picture to spare and blur into the photograph's light where stars do not, docs/training.md)
    match_light_sigma: float = 4.0  # px: the σ of that low pass
    match_flatten: float = 0.0  # y*: share of the tile's own low-passed light layout taken away first
    match_flatten_themes: dict[str, float] = field(default_factory=dict)  # theme → its own match_flatten
    match_flatten_dark: float = 0.0  # y*: cells darker than this light (0-1) flatten in proportion, none at black
    match_chroma: float = 0.0  # y*: share of x's colour replacing the tile's (0: the theme's colours; 1: the photograph's)
    match_chroma_sigma: float = 2.0  # px: x's chroma is low-passed with this σ first
    match_contrast: float = 0.0  # y*: the element's light contrast at most this many times x's own (0 = full strength)
    match_contrast_themes: dict[str, float] = field(default_factory=dict)  # theme → its own match_contrast
    match_contrast_floor: float = 0.0  # y*: …but never below this share of the element's own contrast
    critic_real: str = "tiles"  # what the critic takes for real: the theme's "tiles" as drawn, or "matched": the
    # theme-match targets of the batch (real tiles in the patches' light and colour), so it judges the elements, not the light
    critic_augment: bool = False  # DiffAugment (shift and cutout) on both sides of every critic call (ygan_mobile.augment)
    critic_luma: bool = False  # the critic sees luminance only (shape), so its gradients cannot paint colour specks


@dataclass(frozen=True)
class Config:
    model: ModelConfig
    data: DataConfig
    train: TrainConfig

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Config":
        cfg = cls(**parse_sections({"model": ModelConfig, "data": DataConfig, "train": TrainConfig}, raw))
        _check_types(cfg)
        try:
            cfg.model.levels
        except ValueError as exc:
            raise YganError(f"bad [model] config: {exc}") from None
        _check_ranges(cfg)
        _check_task(cfg.data)
        return cfg


def parse_sections(kinds: dict[str, type], raw: dict[str, Any], label: str = "") -> dict[str, Any]:
    """Each [section] table of `raw` as its dataclass, for the teacher's config and distill's: an
    unknown section or key is refused naming the known ones, so a typo never becomes a default."""
    unknown = set(raw) - set(kinds)
    if unknown:
        raise YganError(f"unknown {label}config section(s) {sorted(unknown)}: expected {sorted(kinds)}")
    built = {}
    for name, kind in kinds.items():
        values = raw.get(name, {})
        names = {f.name for f in dataclasses.fields(kind)}
        bad = set(values) - names
        if bad:
            raise YganError(f"unknown key(s) {sorted(bad)} in {label}[{name}]: known keys are {sorted(names)}")
        built[name] = kind(**values)
    return built


GENERATOR_INITS = ("decoder", "match")
CRITIC_REALS = ("tiles", "matched")
POSITIVE = (0, None, True)  # > 0
# (lowest, highest, lowest excluded) allowed, None = unbounded; a value's type is its default's (int accepted for float).
RANGES: dict[str, dict[str, tuple[float, float | None, bool]]] = {
    "model": {"latent": (1, None, False), "width": (1, None, False), "colour_block": (0, None, False), "skip_sigma": (0, None, False)},
    "data": {"holdout": (0, 0.95, True), "theme_tiles": (4, None, False), "noise_sigma": (0, None, False),
             "blur_sigma": POSITIVE, "scale": (2, None, False)},
    "train": {"steps": (1, None, False), "batch": (1, None, False), "lr": POSITIVE, "lr_gan": POSITIVE,
              "beta1": (0, 0.9999, False), "beta2": (0, 0.9999, False), "lambda_cycle": (0, None, False),
              "cycle_encoder": (0, None, False), "gp_weight": (0, None, False), "warmup": (0, None, False),
              "checkpoint_every": (1, None, False), "log_every": (1, None, False), "eval_patches": (1, None, False),
              "seed": (0, None, False), "threads": (0, None, False), "lr_final": (0, 1, True), "paired": (0, None, False),
              "paired_floor": POSITIVE, "chroma": (0, None, False),
              "adversarial": (0, None, False), "theme_match": (0, None, False), "match_cells": (1, None, False),
              "match_pool": (0, None, False), "match_choices_from": (0, None, False), "match_light": (0, None, False),
              "match_light_sigma": POSITIVE, "match_flatten": (0, 1, False), "match_flatten_dark": (0, 1, False), "match_chroma": (0, 1, False), "match_chroma_sigma": POSITIVE,
              "match_spread": (0, 1, False), "match_contrast": (0, None, False), "match_contrast_floor": (0, 1, False)},
}


def _check_types(cfg: "Config") -> None:
    """Every value has its default's type, so a preset typo fails here, not mid-training."""
    for section in ("model", "data", "train"):
        part = getattr(cfg, section)
        for f in dataclasses.fields(part):
            value, default = getattr(part, f.name), getattr(type(part)(), f.name)
            ok = isinstance(value, type(default)) and not (isinstance(value, bool) and not isinstance(default, bool))
            if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
                ok = True
            if not ok:
                raise YganError(f"[{section}] {f.name} = {value!r} must be a {type(default).__name__}: fix the preset or --set")


def _check_ranges(cfg: "Config") -> None:
    """Ranges and choices of every setting, checked when the config is built (before any work)."""
    for section, limits in RANGES.items():
        part = getattr(cfg, section)
        for name, (low, high, strict) in limits.items():
            value = getattr(part, name)
            if value < low or (strict and value == low) or (high is not None and value > high):
                where = f"{'>' if strict else '≥'} {low:g}" + (f" and ≤ {high:g}" if high is not None else "")
                raise YganError(f"[{section}] {name} = {value} is out of range: it must be {where} — fix the preset or --set")
    d, t = cfg.data, cfg.train
    if not d.themes or any(not isinstance(n, str) or not n for n in d.themes) or len(set(d.themes)) != len(d.themes):
        raise YganError(f"[data] themes = {d.themes!r} must list one or more distinct theme names, e.g. [\"flowers\"]")
    if cfg.model.colour_block and cfg.model.patch % cfg.model.colour_block:
        raise YganError(f"[model] colour_block = {cfg.model.colour_block} must divide the patch ({cfg.model.patch})")
    if cfg.model.residual and cfg.model.colour_block:
        raise YganError("[model] colour_block is for the art themes: a restoration model (residual = true) adds the "
                        "whole input already, so set colour_block = 0")
    if cfg.model.skip_sigma and not cfg.model.residual:
        raise YganError(f"[model] skip_sigma = {cfg.model.skip_sigma} smooths the skip of a restoration model: "
                        "set residual = true as well, or skip_sigma = 0")
    if t.critic_real not in CRITIC_REALS:
        raise YganError(f"[train] critic_real = {t.critic_real!r} is not one of {', '.join(CRITIC_REALS)}")
    if t.critic_real == "matched" and not (t.theme_match or t.generator_init == "match"):
        raise YganError("[train] critic_real = \"matched\" needs the theme-match targets: set generator_init = \"match\" or theme_match > 0")
    if t.paired_form not in PAIRED_FORMS:
        raise YganError(f"[train] paired_form = {t.paired_form!r} is not one of {', '.join(PAIRED_FORMS)}")
    if t.chroma and not d.task:
        raise YganError(f"[train] chroma = {t.chroma} needs a restoration task's clean targets (data.task): "
                        "the art themes have none, so set chroma = 0")
    if t.generator_init not in GENERATOR_INITS:
        raise YganError(f"[train] generator_init = {t.generator_init!r} is not one of {', '.join(GENERATOR_INITS)}")
    if t.match_cells > cfg.model.patch:
        raise YganError(f"[train] match_cells = {t.match_cells} exceeds the patch size {cfg.model.patch}")
    if t.match_spread and (t.match_cells != 1 or t.match_centred):
        raise YganError(f"[train] match_spread = {t.match_spread} spreads one mean light per tile: it needs "
                        "match_cells = 1 and match_centred = false")
    # Per-theme settings may name any drawn theme (a preset lists its own; a run of fewer themes or of a user's
    # --data-b theme ignores the others) and "*" for every theme not named; any other name is a typo, refused.
    known = set(d.themes) | set(THEMES)
    unknown = [n for n in t.match_fit if n not in known]
    if unknown or (t.match_fit and not t.match_relight):
        raise YganError(f"[train] match_fit = {t.match_fit!r} must name themes ({', '.join(d.themes)}) "
                        "and needs match_relight = true")
    choices = t.match_choices
    if any(n not in known | {"*"} for n in choices) or any(type(k) is not int or k < 1 for k in choices.values()):
        raise YganError(f"[train] match_choices = {choices!r} must map themes ({', '.join(d.themes)}, or \"*\" for "
                        "every other) to a whole number of tiles ≥ 1, e.g. {skulls = 5}")
    for key, allowed, words, example in (
            ("lr_gan_themes", lambda r: r > 0, "a learning rate > 0", "{skulls = 1e-3}"),
            ("match_light_themes", lambda w: w >= 0, "a weight ≥ 0", "{flowers = 0.7}"),
            ("match_flatten_themes", lambda w: 0 <= w <= 1, "a share from 0 to 1", "{skulls = 0.5}"),
            ("match_contrast_themes", lambda k: k >= 0, "a factor ≥ 0", "{flowers = 2}"),
            ("match_spacing", lambda g: g > 0, "a key distance > 0", "{skulls = 0.03}")):
        _check_theme_numbers(key, getattr(t, key), known, d.themes, allowed, words, example)


def _check_theme_numbers(key: str, mapping: dict, known: set[str], themes: list[str], allowed, words: str, example: str) -> None:
    """A [train] setting mapping themes to a number: every name a known theme, every value a number `allowed` takes."""
    if any(n not in known for n in mapping) or any(type(v) not in (int, float) or not allowed(v) for v in mapping.values()):
        raise YganError(f"[train] {key} = {mapping!r} must map themes ({', '.join(themes)}) to {words}, e.g. {example}")


def _check_task(data: DataConfig) -> None:
    if not data.task:
        return
    try:
        data.degradation
    except ValueError as exc:
        raise YganError(f"bad [data] config: {exc}") from None
    if list(data.themes) != [data.task]:
        raise YganError(f"a restoration preset trains one generator named after its task: set data.themes=[\"{data.task}\"] "
                        f"(got {data.themes})")
    if data.data_b:
        raise YganError("a restoration task makes both domains from the same clean images: pass them as data.data_a "
                        "(--data-a), not data.data_b")


def teacher_tables(raw: dict[str, Any]) -> dict[str, Any]:
    """A preset without the tables that only `ygan build` reads."""
    return {k: v for k, v in raw.items() if k not in BUILD_TABLES}


def load_preset(name_or_path: str) -> dict[str, Any]:
    """A preset by name (shipped in ygan_mobile/presets) or by path to a TOML file."""
    if name_or_path in PRESETS:
        text = resources.files("ygan_mobile.presets").joinpath(f"{name_or_path}.toml").read_text()
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise YganError(f"preset '{name_or_path}' not found: use one of {', '.join(PRESETS)} or a path to a TOML file")
        text = path.read_text()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise YganError(f"preset '{name_or_path}' is not valid TOML: {exc}") from None


def apply_overrides(raw: dict[str, Any], overrides: list[str], defaults: dict[str, dict[str, Any]] | None = None,
                    what: str = "") -> dict[str, Any]:
    """Return a copy of `raw` with each `section.key=value` applied, keeping value types.

    `defaults` (the training config's when omitted) says which keys exist and their types; `what`
    names the config in messages (e.g. "distill ") so a user knows which file the key belongs to.
    """
    out = copy.deepcopy(raw)
    defaults = defaults if defaults is not None else Config.from_dict({}).to_dict()
    for item in overrides:
        key, sep, text = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot:
            raise YganError(f"override '{item}' is not of the form section.key=value (e.g. train.steps=100)")
        if name not in defaults.get(section, {}):
            raise YganError(f"override '{item}': no key '{name}' in {what}[{section}] (sections: {', '.join(defaults)})")
        value = _parse_value(text.strip())
        expected = out.get(section, {}).get(name, defaults[section][name])
        if isinstance(expected, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(expected):
            raise YganError(f"override '{item}': expected a {type(expected).__name__}, got {type(value).__name__}")
        out.setdefault(section, {})[name] = value
    return out


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
