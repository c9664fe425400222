"""Run under torchrun by tests/ygan_mobile/test_distributed.py: k training or distillation steps, then every
rank's weights.

Uses the training code's own pieces (World, Nets, train_step; Objective for distillation) and
gathers each rank's flattened weights, so the test can check that DDP kept the ranks identical.
Rank 0 writes the result.

    ddp_probe.py OUT.json STEPS train OVERRIDES…
    ddp_probe.py OUT.json STEPS distill TEACHER_DIR OVERRIDES…
"""

import json
import sys

import torch
import torch.distributed as dist

from ygan_mobile.config import Config, apply_overrides, load_preset
from ygan_mobile.distributed import World, join, leave


def train_weights(steps: int, overrides: list[str]) -> tuple[World, list[torch.Tensor]]:
    from ygan_mobile.models import YGan
    from ygan_mobile.train import Nets, load_data, make_optimizers, train_step

    cfg = Config.from_dict(apply_overrides(load_preset("quick"), overrides))
    world = join(cfg.train.batch)
    data = load_data(cfg)
    torch.manual_seed(cfg.train.seed)
    model = YGan.create(cfg.model, list(cfg.data.themes))
    opts = make_optimizers(model, cfg)
    nets = Nets.of(model, world)
    for step in range(steps):
        train_step(model, nets, opts, data, step, cfg, world)
    return world, [t for m in model.modules().values() for t in m.state_dict().values()]


def distill_weights(steps: int, teacher_dir: str, overrides: list[str]) -> tuple[World, list[torch.Tensor]]:
    from distill.config import build
    from distill.losses import Weights, make_adapters
    from distill.students import StudentModels
    from distill.train import Objective, load_inputs, student_config
    from ygan_mobile.checkpoint import load_model

    cfg = build("quick", overrides)
    world = join(cfg.train.batch)
    teacher, tckpt = load_model(teacher_dir)
    for module in teacher.modules().values():
        module.requires_grad_(False)
    data = load_inputs(tckpt.config)
    torch.manual_seed(cfg.train.seed)
    student = StudentModels.create(student_config(tckpt.config, cfg), list(teacher.generators))
    adapters = make_adapters(student, teacher)
    objective = Objective(student, adapters, teacher, Weights())
    opt = torch.optim.Adam(objective.parameters(), lr=cfg.train.lr)
    wrapped = world.wrap(objective)
    student.train()
    for step in range(steps):
        loss, _ = wrapped(world.shard(data.train.batch(step, cfg.train.batch)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return world, list(objective.parameters())  # BatchNorm running statistics are rank 0's: DDP broadcasts them


out, steps, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
torch.set_num_threads(1)
world, tensors = train_weights(steps, sys.argv[4:]) if mode == "train" else distill_weights(steps, sys.argv[4], sys.argv[5:])
flat = torch.cat([t.detach().double().flatten() for t in tensors])
gathered = [torch.zeros_like(flat) for _ in range(world.size)]
dist.all_gather(gathered, flat)
if world.main:
    spread = max(float((g - gathered[0]).abs().max()) for g in gathered)
    with open(out, "w") as handle:
        json.dump({"ranks": world.size, "spread": spread, "count": flat.numel()}, handle)
leave(world)
