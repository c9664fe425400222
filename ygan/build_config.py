"""What `ygan build` builds: the teacher, distill and convert settings resolved from one preset.

Why one resolved object: each stage's "inputs unchanged?" test hashes exactly these values, so the
preset, the `--set` overrides and the flags must be turned into plain dicts once, up front.

`--set` routing: `distill.<section>.<key>=v` goes to the distill preset ([student], [train],
[eval]), `convert.<key>=v` and `quality.<key>=v` to the convert and quality settings below,
anything else (`model.`, `data.`, `train.`) to the teacher, exactly as in `ygan train`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convert.options import DEFAULTS, HALF_PATCH
from ygan_mobile.config import Config, apply_overrides, load_preset, teacher_tables
from ygan_mobile.errors import YganError

STAGE_PREFIXES = ("distill.", "convert.", "quality.")


@dataclass(frozen=True)
class ConvertSettings:
    """The `ygan convert` options a build uses, as a TOML table can hold them (see docs/bundle.md);
    empty precisions = every default. The defaults are convert's own (convert/options.py)."""
    targets: list[str] = field(default_factory=lambda: list(DEFAULTS.targets))
    precisions: list[str] = field(default_factory=list)
    batch: int = DEFAULTS.batch
    stride: int = DEFAULTS.stride
    blend: str = DEFAULTS.blend
    calibration: int = DEFAULTS.calibration
    golden: int = DEFAULTS.golden

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class QualitySettings:
    """The mosaic-quality measurement (docs/build.md "Mosaic quality"); defaults are the real values,
    tiny test builds lower them."""
    steps: int = 600  # judge training steps
    # judges refitted at this many steps when a class is below MIN_JUDGE_ACCURACY at `steps` (0: never): seeds 1 and 2
    # of the quick preset hold out photographs where 600 steps leave flowers at 86% and photo at 89%, and 1,000 put
    # every class at ≥ 91.7%; seed 0 (make demo) is at 92-99% and pays nothing (docs/build.md "Mosaic quality")
    retry_steps: int = 1000
    # judges (seeds) whose shares are averaged: one judge's share moved up to 50 points with its seed. Three, not
    # the five of `full`, so `make demo` stays under 10 minutes (each judge ~26 s on the Intel Xeon, ~50 s on
    # the AMD EPYC; docs/build.md "Five judges, not one")
    judges: int = 3
    side: int = 512  # longer side of the scored held-out photographs, pixels
    threads: int = 0  # the renders' torch and LiteRT threads; 0: one fewer than the cores, at least one (the judges
    # are fitted on one core beside them: ygan/build_judges.py)
    # The targets a build warns below (issue 42's quick column; `full` raises them in its [quality] table):
    # the theme (recognisability, variety) and the picture (picture, detail and colour r) both.
    min_recognisability: float = 0.6
    min_variety: float = 0.5
    min_picture_r: float = 0.8
    min_detail_r: float = 0.4
    min_colour_r: float = 0.7

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def targets(self) -> dict[str, float]:
        """The min_* fields: what quality.json records and warns below."""
        return {k: v for k, v in self.to_dict().items() if k.startswith("min_")}


@dataclass(frozen=True)
class BuildConfig:
    preset: str
    overrides: tuple[str, ...]
    teacher: Config
    distill: Any  # distill.config.DistillConfig (imported lazily: distill imports torch)
    convert: ConvertSettings
    quality: QualitySettings = field(default_factory=QualitySettings)


def flag_overrides(themes: list[str] | None, data_a: str | None, data_b: str | None, seed: int | None) -> list[str]:
    """The teacher overrides that `--theme`, `--data-a`, `--data-b` and `--seed` stand for."""
    names = [t for item in themes or [] for t in item.split(",") if t]
    out = []
    if names:
        out.append("data.themes=[" + ",".join(f'"{t}"' for t in names) + "]")
    if data_b:
        if len(names) != 1:
            raise YganError("--data-b names the images of one theme: pass exactly one --theme NAME with it")
        out.append(f'data.data_b="{Path(data_b).as_posix()}"')
    if data_a:
        out.append(f'data.data_a="{Path(data_a).as_posix()}"')
    if seed is not None:
        out.append(f"train.seed={seed}")
    return out


def _load(preset: str) -> tuple[dict, dict, dict, dict]:
    """(teacher, distill, convert, quality) raw tables: a named preset (its distill tables in
    distill/presets), or one TOML file holding the teacher's tables plus optional
    [distill.student|train|eval] tables; either may carry [convert] and [quality] tables."""
    from distill import config as distill_config

    raw = load_preset(preset)
    distill = distill_config.load_preset(preset) if preset in distill_config.PRESETS else raw.get("distill", {})
    return teacher_tables(raw), distill, raw.get("convert", {}), raw.get("quality", {})


def _settings(cls, table: str, raw: dict, sets: list[str]):
    """A flat settings table of the build: unknown keys refused, `--set` values type-checked."""
    defaults = {table: cls().to_dict()}
    unknown = set(raw) - set(defaults[table])
    if unknown:
        raise YganError(f"unknown key(s) {sorted(unknown)} in [{table}]: known keys are {sorted(defaults[table])}")
    return cls(**apply_overrides({table: raw}, [f"{table}.{o}" for o in sets], defaults, "build ")[table])


def resolve(preset: str, overrides: list[str], flags: list[str] = ()) -> BuildConfig:
    from distill.config import DistillConfig
    from distill.config import apply_overrides as distill_overrides

    teacher_raw, distill_raw, convert_raw, quality_raw = _load(preset)
    mine = {p: [o.removeprefix(p) for o in overrides if o.startswith(p)] for p in STAGE_PREFIXES}
    teacher_sets = [o for o in overrides if not o.startswith(STAGE_PREFIXES)] + list(flags)
    teacher = Config.from_dict(apply_overrides(teacher_raw, teacher_sets))
    distill = DistillConfig.from_dict(distill_overrides(distill_raw, mine["distill."]))
    convert = _settings(ConvertSettings, "convert", convert_raw, mine["convert."])
    _check_convert(convert, teacher.model.patch)
    quality = _settings(QualitySettings, "quality", quality_raw, mine["quality."])
    _check_quality(quality, teacher.model.patch)
    return BuildConfig(preset, tuple(overrides) + tuple(flags), teacher, distill, convert, quality)


def _check_quality(q: QualitySettings, patch: int) -> None:
    if q.steps < 1 or q.judges < 1 or q.threads < 0 or q.retry_steps < 0:
        raise YganError("quality.steps and quality.judges must be ≥ 1, quality.threads and quality.retry_steps ≥ 0")
    if q.side < 2 * patch:
        raise YganError(f"quality.side={q.side} must be at least two patches ({2 * patch} px)")


def _check_convert(c: ConvertSettings, patch: int) -> None:
    from convert.plan import FORMATS, precisions_for

    if not c.targets:
        raise YganError(f"convert.targets is empty: pick one or more of {', '.join(FORMATS)}")
    precisions_for(c.targets, c.precisions or None)  # refuses unknown targets and precisions now, not mid-build
    if c.batch < 1 or c.calibration < 1 or c.golden < 1:
        raise YganError("convert.batch, convert.calibration and convert.golden must be ≥ 1")
    if c.stride != HALF_PATCH and not 1 <= c.stride <= patch:
        raise YganError(f"convert.stride={c.stride} must be between 1 and the patch size {patch} ({HALF_PATCH} = half the patch)")
