"""Distillation: train the student E′ and every theme's G′ to reproduce the frozen teacher.

Mirrors ygan_mobile.train: each step is a pure function of (weights, optimiser state, step) — the
batch comes from `data.a.train.batch(step, n)` and the learning rate is a closed-form cosine of the
step — so a resumed run repeats an uninterrupted one. The loop around the steps (stop, log,
checkpoint) is the teacher's, ygan_mobile.loop.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ygan_mobile.atomic import write_text
from ygan_mobile.checkpoint import load_model
from ygan_mobile.config import Config
from ygan_mobile.distributed import World, join, leave
from ygan_mobile.errors import YganError
from ygan_mobile.loop import Schedule, cosine_decay, run_steps
from ygan_mobile.models import YGan, channels_last
from ygan_mobile.train import METRICS, SUMMARY  # the same file names as the teacher's run

from distill import checkpoint
from distill.ahead import one_ahead
from distill.config import DistillConfig
from distill.evaluate import evaluate
from distill.losses import Targets, Weights, distill_loss, make_adapters, teacher_targets
from distill.macs import patch_cost
from distill.students import StudentConfig, StudentModels


def student_config(teacher_cfg: Config, cfg: DistillConfig) -> StudentConfig:
    """Patch, latent and the skip (smoothed or not) are the teacher's; the rest of the shape comes from
    the preset. The student's generator learns the teacher's G output, which with the skip is the correction."""
    m = teacher_cfg.model
    if m.residual and cfg.student.colour_block:
        raise YganError("[student] colour_block is for art students: a restoration teacher's student keeps the input "
                        "skip, so set colour_block = 0")
    if cfg.student.colour_block and m.patch % cfg.student.colour_block:
        raise YganError(f"[student] colour_block = {cfg.student.colour_block} must divide the teacher's patch ({m.patch})")
    return StudentConfig(patch=m.patch, latent=m.latent, residual=m.residual, skip_sigma=m.skip_sigma, **asdict(cfg.student))


def load_inputs(teacher_cfg: Config):
    """Domain-A patches split exactly as the teacher's were (same seed, holdout and source), so the
    held-out patches used to judge the student were never seen by the teacher or the student."""
    from ygan_mobile.data import domain_a

    return domain_a(teacher_cfg.model.patch, teacher_cfg.train.seed, teacher_cfg.data.holdout,
                    path=teacher_cfg.data.data_a or None, degradation=teacher_cfg.data.degradation)


def paired_targets(teacher_cfg: Config):
    """The clean patches of a restoration teacher's task, drawn like its inputs: batch k of this split is
    the ground truth of batch k of load_inputs' (the same seed, split and crops)."""
    from ygan_mobile.data import restoration_target

    d = teacher_cfg.data.degradation
    if d is None:
        raise YganError("distill.train.paired needs a restoration teacher (its clean patches are the targets); "
                        "this teacher was trained for art themes: set distill.train.paired = 0")
    return restoration_target(teacher_cfg.model.patch, teacher_cfg.train.seed, teacher_cfg.data.holdout, d,
                              path=teacher_cfg.data.data_a or None)


def measure_cost(teacher: YGan, student: StudentModels) -> dict[str, Any]:
    """MACs and parameters of both fused patch models of the first theme (every theme's generator
    has the same shape)."""
    theme = next(iter(student.generators))
    t, s = patch_cost(teacher.patch_model(theme), teacher.cfg.patch), patch_cost(student.patch_model(theme), student.cfg.patch)
    return {"teacher": t.to_dict(), "student": s.to_dict(),
            "mac_ratio": t.macs / s.macs, "param_ratio": t.params / s.params}


def learning_rate(cfg: DistillConfig, step: int) -> float:
    return cfg.train.lr * cosine_decay(step, cfg.train.steps, cfg.train.lr_final)


def _check_resumable(saved: DistillConfig, wanted: DistillConfig, out: Path) -> None:
    """A resume may extend the run or change bookkeeping and evaluation, nothing that alters the math."""
    free = {"train": {"steps", "threads", "checkpoint_every", "log_every", "eval_patches"}}
    a, b = saved.to_dict(), wanted.to_dict()
    changed = [f"{s}.{k}" for s in a for k in a[s]
               if s != "eval" and a[s][k] != b[s][k] and k not in free.get(s, set())]
    if changed:
        raise YganError(f"cannot resume '{out}': the student was distilled with other values of {', '.join(changed)}; "
                        "rerun with the original preset and overrides, or start a new --out")


class Objective(nn.Module):
    """The student, its adapters and the distillation loss as one module, so that under torchrun a
    single DistributedDataParallel wrapper averages every trainable gradient. The frozen teacher is
    held outside the module tree: it has nothing to synchronise."""

    def __init__(self, student: StudentModels, adapters: nn.ModuleDict, teacher: YGan, weights: Weights):
        super().__init__()
        self.networks = nn.ModuleDict({k.replace(".", "/"): m for k, m in student.modules().items()})
        self.adapters = adapters
        self.student, self.weights = student, weights
        self.teacher = [teacher]  # a list keeps the teacher out of the registered submodules

    def forward(self, x: torch.Tensor, clean: torch.Tensor | None = None,
                targets: Targets | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        return distill_loss(self.student, self.adapters, self.teacher[0], x, self.weights, targets, clean=clean)


@dataclass
class DistillResult:
    out: Path
    step: int
    interrupted: bool
    metrics: dict
    seconds: float  # wall time of the optimisation steps in this invocation
    main: bool = True  # False on torchrun ranks other than 0, which write nothing


def distill(teacher_path: str | Path, cfg: DistillConfig, out: str | Path, resume: bool = False,
            progress: bool = True, data=None) -> DistillResult:
    """Distil the teacher checkpoint at `teacher_path` into a student in `out`.

    `data` is a PatchSplit (train/heldout samplers); by default the teacher's own domain-A split.
    Under torchrun every rank distils its shard of each batch and rank 0 alone writes
    (docs/distributed.md).
    """
    world = join(cfg.train.batch)
    result = _distill(Path(teacher_path), cfg, Path(out), resume, progress, data, world)
    leave(world)
    return result


def _distill(teacher_path: Path, cfg: DistillConfig, out: Path, resume: bool, progress: bool, data, world: World) -> DistillResult:
    try:
        teacher, tckpt = load_model(teacher_path)
    except RuntimeError as exc:  # load_state_dict: the file's tensors don't fit today's teacher networks
        first = str(exc).splitlines()[0]
        raise YganError(f"teacher '{teacher_path}' does not fit this version's teacher networks ({first}): "
                        "retrain it with 'ygan train'") from None
    for module in teacher.modules().values():
        module.requires_grad_(False)
    clean = paired_targets(tckpt.config) if cfg.train.paired > 0 else None  # refused before anything is written
    if world.main:
        out.mkdir(parents=True, exist_ok=True)
    threads = world.threads(cfg.train.threads)
    split = threads >= 2  # the teacher's forward one step ahead on half the cores, the student on the other half (distill.ahead)
    torch.set_num_threads(threads // 2 if split else threads)
    # Adam's second moments and small feature differences drift into subnormal floats, which x86
    # CPUs process up to 100× slower: measured as minutes-long stalls mid-run. Flush them to zero.
    torch.set_flush_denormal(True)
    data = data if data is not None else load_inputs(tckpt.config)
    torch.manual_seed(cfg.train.seed)
    student = StudentModels.create(student_config(tckpt.config, cfg), list(teacher.generators))
    adapters = make_adapters(student, teacher)
    channels_last(*teacher.modules().values(), *student.modules().values(), adapters)
    params = [p for m in student.modules().values() for p in m.parameters()] + list(adapters.parameters())
    opt = torch.optim.Adam(params, lr=cfg.train.lr)
    cost = measure_cost(teacher, student)
    provenance = {"path": str(Path(teacher_path).resolve()), "step": tckpt.step, "config": tckpt.config.to_dict()}
    start, meta = 0, {}
    if resume:
        ckpt = checkpoint.load(out)
        _check_resumable(ckpt.config, cfg, out)
        checkpoint.restore(ckpt, student, adapters, opt)
        start, meta = ckpt.step, {k: v for k, v in ckpt.meta.items() if k != "param_groups"}
    student.train()
    weights = Weights(**{f.name: getattr(cfg.train, f.name) for f in fields(Weights) if hasattr(cfg.train, f.name)},
                      paired_form=tckpt.config.train.paired_form, paired_floor=tckpt.config.train.paired_floor)
    objective = world.wrap(Objective(student, adapters, teacher, weights))

    themes = list(student.generators) if weights.imitates else []

    def inputs(step: int) -> tuple[torch.Tensor, torch.Tensor | None, Targets]:
        x = world.shard(data.train.batch(step, cfg.train.batch))
        y = world.shard(clean.train.batch(step, cfg.train.batch)) if clean is not None else None
        return x, y, teacher_targets(teacher, x, themes)

    def save(at: int) -> None:
        checkpoint.save(out, student, adapters, opt, at, cfg, cost, provenance, meta)

    with one_ahead(inputs, cfg.train.steps, enabled=split) as batch:
        def step_fn(step: int) -> dict[str, float]:
            for group in opt.param_groups:
                group["lr"] = learning_rate(cfg, step)
            loss, parts = objective(*batch(step))
            opt.zero_grad()
            loss.backward()
            opt.step()
            return parts

        end = run_steps(step_fn, save, start=start, schedule=Schedule(cfg.train.steps, cfg.train.log_every, cfg.train.checkpoint_every),
                        log_path=out / METRICS, world=world, desc="distill", headline="loss", progress=progress)
    torch.set_num_threads(threads)  # the evaluation below has every core again
    step, seconds = end.step, end.seconds
    student.eval()
    interrupted = step < cfg.train.steps
    if not world.main:
        return DistillResult(out, step, interrupted, {}, seconds, main=False)
    meta["distill_seconds"] = meta.get("distill_seconds", 0.0) + seconds
    save(step)
    metrics = {"step": step, "interrupted": interrupted, "distill_seconds": meta["distill_seconds"], "cost": cost}
    if not interrupted:
        truth = clean if clean is not None or tckpt.config.data.degradation is None else paired_targets(tckpt.config)
        metrics.update(evaluate(teacher, student, data, cfg, out, clean=truth))
        meta["evaluation"] = {k: v for k, v in metrics.items() if k not in ("cost",)}
        save(step)
    write_text(out / SUMMARY, json.dumps(metrics, indent=2) + "\n")
    write_text(out / "student.json", json.dumps({"student": asdict(student.cfg), "themes": list(student.generators),
                                                 "cost": cost, "teacher": {k: v for k, v in provenance.items() if k != "config"}},
                                                indent=2) + "\n")
    return DistillResult(out, step, interrupted, metrics, seconds)
