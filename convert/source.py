"""What gets converted: the shared encoder and per-theme generators of a teacher or student checkpoint.

Why one dataclass for both kinds: export, calibration and golden vectors only need "an encoder, a
generator per theme, the patch and latent sizes", so everything downstream is indifferent to which
checkpoint it came from. The kind is read from the safetensors header tag, not guessed from names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError, safe_open
from torch import nn

from convert.hashing import file_sha256
from distill.checkpoint import FILENAME as STUDENT_FILE
from ygan_mobile.checkpoint import FILENAME as TEACHER_FILE
from ygan_mobile.config import DataConfig
from ygan_mobile.data.degrade import Degradation
from ygan_mobile.errors import YganError
from ygan_mobile.models import PatchModel

KINDS = ("auto", "teacher", "student")


@dataclass
class Networks:
    kind: str  # "teacher" | "student"
    patch: int
    latent: int
    encoder: nn.Module
    generators: dict[str, nn.Module]
    checkpoint_sha256: str
    seed: int
    holdout: float
    data_a: str = ""
    degradation: Degradation | None = None  # a restoration task's domain A (docs/restore.md)
    residual: bool = False  # the patch model adds the input to G's output (a restoration model's skip)
    colour: nn.Module | None = None  # the fixed path beside G: an art model's colour path, added to G's output, or a
    # restoration model's smoothed skip (ygan_mobile.models.fixed_path)

    @property
    def themes(self) -> list[str]:
        return list(self.generators)

    def patch_model(self, theme: str) -> nn.Module:
        return PatchModel(self.encoder, self.generators[theme], self.residual, self.colour).eval()


def checkpoint_kind(path: Path) -> str:
    from distill.checkpoint import FORMAT as STUDENT
    from ygan_mobile.checkpoint import FORMAT as TEACHER

    try:
        with safe_open(str(path), "pt") as handle:
            tag = (handle.metadata() or {}).get("format")
    except (SafetensorError, OSError) as exc:
        raise YganError(f"checkpoint '{path}' is not a readable safetensors file ({exc}): pass a file written by 'ygan train' or 'ygan distill'") from None
    kinds = {TEACHER: "teacher", STUDENT: "student"}
    if tag not in kinds:
        raise YganError(f"'{path}' is not a ygan-mobile checkpoint (format tag {tag!r}): pass a file written by 'ygan train' or 'ygan distill'")
    return kinds[tag]


def _resolve(path: Path) -> Path:
    if path.is_dir():
        for name in (STUDENT_FILE, TEACHER_FILE):
            if (path / name).is_file():
                return path / name
        raise YganError(f"'{path}' holds no {STUDENT_FILE} or {TEACHER_FILE}: pass a run directory of 'ygan train' or 'ygan distill'")
    if not path.is_file():
        raise YganError(f"checkpoint '{path}' not found: pass a run directory or its .safetensors file")
    return path


def load_networks(path: str | Path, source: str = "auto") -> Networks:
    """The eval-mode networks of a checkpoint; `source` forces a kind and fails if it doesn't match."""
    path = _resolve(Path(path))
    kind = checkpoint_kind(path)
    if source not in ("auto", kind):
        raise YganError(f"--source {source} but '{path}' is a {kind} checkpoint: drop --source or pass a {source} checkpoint")
    digest = file_sha256(path)
    if kind == "teacher":
        from ygan_mobile.checkpoint import load_model

        model, ckpt = load_model(path)
        cfg = ckpt.config
        return Networks("teacher", cfg.model.patch, cfg.model.latent, model.encoder, dict(model.generators),
                        digest, cfg.train.seed, cfg.data.holdout, cfg.data.data_a, cfg.data.degradation, cfg.model.residual,
                        model.colour)
    from distill.checkpoint import load_student

    models, ckpt = load_student(path)
    teacher = ckpt.teacher.get("config", {})
    data = teacher.get("data", {})
    # the teacher's seed and holdout define the train / held-out split the student was distilled on
    seed = int(teacher.get("train", {}).get("seed", ckpt.config.train.seed))
    return Networks("student", ckpt.student.patch, ckpt.student.latent, models.encoder, dict(models.generators),
                    digest, seed, float(data.get("holdout", 0.25)), str(data.get("data_a", "")), _degradation(data),
                    ckpt.student.residual, models.colour)


def _degradation(data: dict) -> Degradation | None:
    """The teacher's restoration task, read back from the config a student checkpoint keeps."""
    known = {f.name for f in dataclasses.fields(DataConfig)}
    return DataConfig(**{k: v for k, v in data.items() if k in known}).degradation
