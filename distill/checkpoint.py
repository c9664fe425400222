"""Student checkpoints: one safetensors file with weights, adapters, optimiser state and a JSON header.

Same rules and helpers as the teacher's (ygan_mobile.checkpoint): nothing is unpickled and the write is atomic.
Its own format tag, so a teacher checkpoint is never mistaken for a student one (or the reverse).
The header carries everything a later stage needs without torch.load: the student's shape, themes,
the distillation config, the teacher it came from, and the measured MACs/parameters of both.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ygan_mobile.checkpoint import (damaged, optimizer_tensors, prefixed, read_file, read_step, restore_optimizer,
                                    state_tensors, write_file)

from distill.config import DistillConfig
from distill.students import StudentConfig, StudentModels

FORMAT = "ygan-mobile/student"
FILENAME = "student.safetensors"


@dataclass
class StudentCheckpoint:
    student: StudentConfig
    themes: list[str]
    config: DistillConfig
    step: int
    cost: dict[str, Any]  # {"teacher": {macs, params}, "student": {macs, params}, "mac_ratio", "param_ratio"}
    teacher: dict[str, Any]  # {"path": str, "step": int, "config": the teacher's Config as a dict}
    meta: dict[str, Any]
    tensors: dict[str, torch.Tensor]


def resolve(path: str | Path) -> Path:
    """Accept either the checkpoint file or the distill run directory holding it."""
    path = Path(path)
    return path / FILENAME if path.is_dir() else path


def save(path: str | Path, models: StudentModels, adapters: nn.Module, optimizer: torch.optim.Optimizer, step: int,
         config: DistillConfig, cost: dict[str, Any], teacher: dict[str, Any], meta: dict[str, Any]) -> Path:
    tensors: dict[str, torch.Tensor] = {}
    for name, module in models.modules().items():
        tensors.update(state_tensors(f"model.{name}.", module.state_dict()))
    tensors.update(state_tensors("adapters.", adapters.state_dict()))
    slots, groups = optimizer_tensors("optim.", optimizer)
    tensors.update(slots)
    header = {
        "format": FORMAT,
        "student": json.dumps(asdict(models.cfg)),
        "themes": json.dumps(list(models.generators)),
        "config": json.dumps(config.to_dict()),
        "step": str(step),
        "cost": json.dumps(cost),
        "teacher": json.dumps(teacher),
        "param_groups": json.dumps(groups),
        "meta": json.dumps(meta),
    }
    return write_file(resolve(path), tensors, header)


def load(path: str | Path) -> StudentCheckpoint:
    path = resolve(path)
    tensors, header = read_file(path, FORMAT, "student checkpoint", f"pass a directory written by 'ygan distill' or its {FILENAME}",
                                "rerun 'ygan distill'", "'{path}' is not a student checkpoint ({found}): point at the output of 'ygan distill'")
    with damaged(path, "its header is damaged", "rerun 'ygan distill'"):
        meta = json.loads(header["meta"])
        meta["param_groups"] = json.loads(header["param_groups"])
        return StudentCheckpoint(
            student=StudentConfig(**json.loads(header["student"])),
            themes=json.loads(header["themes"]),
            config=DistillConfig.from_dict(json.loads(header["config"])),
            step=read_step(header),
            cost=json.loads(header["cost"]),
            teacher=json.loads(header["teacher"]),
            meta=meta,
            tensors=tensors,
        )


def restore(ckpt: StudentCheckpoint, models: StudentModels, adapters: nn.Module | None = None,
            optimizer: torch.optim.Optimizer | None = None) -> None:
    """Load weights (and adapters/optimiser state if given) into freshly built objects."""
    for name, module in models.modules().items():
        module.load_state_dict(prefixed(ckpt.tensors, f"model.{name}."))
    if adapters is not None:
        adapters.load_state_dict(prefixed(ckpt.tensors, "adapters."))
    if optimizer is not None:
        restore_optimizer(optimizer, ckpt.tensors, "optim.", ckpt.meta["param_groups"])


def load_student(path: str | Path) -> tuple[StudentModels, StudentCheckpoint]:
    """The distilled student in eval mode, ready for rendering or export, and its checkpoint
    (`.student` shape, `.themes`, `.cost` MACs/params, `.teacher` provenance, `.config`)."""
    ckpt = load(path)
    with damaged(resolve(path), "its weights do not fit its config", "rerun 'ygan distill'"):
        models = StudentModels.create(ckpt.student, ckpt.themes)
        restore(ckpt, models)
    return models.eval(), ckpt
