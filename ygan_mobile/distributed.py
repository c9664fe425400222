"""Running one training over several processes with torchrun, or as one plain process.

`torchrun` sets RANK, WORLD_SIZE, LOCAL_RANK and MASTER_ADDR/PORT; when WORLD_SIZE > 1 the process
group is created from them, with gloo for CPU training (nccl needs CUDA tensors, and training here
runs on the CPU). Each rank takes an equal slice of the preset's global batch, gradients are
averaged by DistributedDataParallel, and only rank 0 writes files or shows progress. A single
process gets the same object with world size 1, so the training code has one path.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ygan_mobile.errors import YganError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.size > 1

    def threads(self, asked: int) -> int:
        """Torch threads of this rank: `asked`, or 0 for the machine's cores shared evenly among the ranks."""
        return asked or max(1, (os.cpu_count() or 1) // self.size)

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's equal slice of a global batch (the whole batch in one process)."""
        if not self.active:
            return batch
        per = batch.shape[0] // self.size
        return batch[self.rank * per:(self.rank + 1) * per]

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """DDP around a module that trains on this rank's shard; the module itself in one process."""
        if not self.active:
            return module
        return torch.nn.parallel.DistributedDataParallel(module)

    def any(self, flag: bool) -> bool:
        """True on every rank if it is true on one (a stop request reaches all ranks at the same step)."""
        if not self.active:
            return flag
        t = torch.tensor([1.0 if flag else 0.0])
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Per-rank numbers averaged over ranks, for the log."""
        if not self.active or not values:
            return values
        keys = sorted(values)
        t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64)
        dist.all_reduce(t)
        return {k: v / self.size for k, v in zip(keys, t.tolist())}

    def global_mean(self, value: torch.Tensor) -> torch.Tensor:
        """The mean over ranks of a per-shard mean (equal shards): the whole batch's mean."""
        if not self.active:
            return value
        total = value.detach().clone()
        dist.all_reduce(total)
        return total / self.size


def backend(device: torch.device) -> str:
    """nccl for CUDA tensors, gloo for CPU tensors (the training device decides, not what is installed)."""
    return "nccl" if device.type == "cuda" else "gloo"


def join(batch: int, device: torch.device = torch.device("cpu")) -> World:
    """The world this process belongs to; creates the process group under torchrun."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    if batch % size:
        raise YganError(f"the batch of {batch} does not split evenly over {size} processes: "
                        f"set train.batch to a multiple of {size}")
    if not dist.is_initialized():
        dist.init_process_group(backend=backend(device))
    return World(dist.get_rank(), dist.get_world_size())


def leave(world: World) -> None:
    """Tear the process group down once every rank is done with it. The DDP wrappers of the run
    that just ended hold the group through reference cycles; collected only at interpreter exit,
    they took gloo's worker threads down with them and aborted the process (1 run in 5 here)."""
    if world.active and dist.is_initialized():
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()
