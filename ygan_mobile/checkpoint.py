"""Checkpoints as one safetensors file: weights, optimiser state and the JSON config in its header.

safetensors holds only tensors and a str→str header, so loading never unpickles anything. The file
is written atomically, so an interrupted save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ygan_mobile.atomic import atomic_path
from ygan_mobile.config import Config
from ygan_mobile.errors import YganError
from ygan_mobile.models import YGan

FORMAT = "ygan-mobile/checkpoint"
FILENAME = "checkpoint.safetensors"


@dataclass
class Checkpoint:
    config: Config
    step: int
    tensors: dict[str, torch.Tensor]
    meta: dict[str, Any]


def resolve(path: str | Path) -> Path:
    """Accept either the checkpoint file or the run directory holding it."""
    path = Path(path)
    return path / FILENAME if path.is_dir() else path


def save(path: str | Path, model: YGan, optimizers: dict[str, torch.optim.Optimizer], step: int,
         config: Config, meta: dict[str, Any]) -> Path:
    tensors: dict[str, torch.Tensor] = {}
    groups: dict[str, Any] = {}
    for name, module in model.modules().items():
        for key, value in module.state_dict().items():
            tensors[f"model.{name}.{key}"] = value.detach().contiguous()
    for name, opt in optimizers.items():
        state = opt.state_dict()
        groups[name] = state["param_groups"]
        for index, slots in state["state"].items():
            for slot, value in slots.items():
                tensors[f"optim.{name}.{index}.{slot}"] = value.detach().contiguous()
    header = {
        "format": FORMAT,
        "config": json.dumps(config.to_dict()),
        "step": str(step),
        "param_groups": json.dumps(groups),
        "meta": json.dumps(meta),
    }
    path = resolve(path)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=header)
    return path


def load(path: str | Path) -> Checkpoint:
    path = resolve(path)
    if not path.is_file():
        raise YganError(f"checkpoint '{path}' not found: pass a run directory or its {FILENAME}")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), "pt") as handle:
            header = handle.metadata() or {}
    except (SafetensorError, OSError) as exc:
        raise YganError(f"checkpoint '{path}' is not a readable safetensors file ({exc}): point at a file written by 'ygan train'") from None
    if header.get("format") != FORMAT:
        raise YganError(f"'{path}' is a safetensors file but not a ygan-mobile checkpoint: point at a file written by 'ygan train'")
    with damaged(path, "its header is damaged", "point at a checkpoint written by 'ygan train'"):
        meta = json.loads(header["meta"])
        meta["param_groups"] = json.loads(header["param_groups"])
        return Checkpoint(Config.from_dict(json.loads(header["config"])), read_step(header), tensors, meta)


def read_step(header: dict[str, str]) -> int:
    step = int(header["step"])
    if step < 0:
        raise ValueError(f"step {step} is negative")
    return step


@contextlib.contextmanager
def damaged(path: Path, what: str, fix: str):
    """A checkpoint's header or weights that cannot be what its writer wrote (missing or mistyped
    keys, JSON that is not JSON, a config its tensors do not fit) as one YganError line."""
    try:
        yield
    except YganError as exc:
        if str(path) in str(exc):
            raise
        raise YganError(f"checkpoint '{path}': {what} ({exc}): {fix}") from None
    except (KeyError, ValueError, TypeError, AttributeError, RuntimeError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise YganError(f"checkpoint '{path}': {what} ({type(exc).__name__}: {reason[:200]}): {fix}") from None


def restore(ckpt: Checkpoint, model: YGan, optimizers: dict[str, torch.optim.Optimizer] | None = None) -> None:
    """Load weights (and optimiser state if given) into freshly built objects of the same config."""
    for name, module in model.modules().items():
        prefix = f"model.{name}."
        module.load_state_dict({k[len(prefix):]: v for k, v in ckpt.tensors.items() if k.startswith(prefix)})
    for name, opt in (optimizers or {}).items():
        prefix = f"optim.{name}."
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in ckpt.tensors.items():
            if key.startswith(prefix):
                index, slot = key[len(prefix):].split(".", 1)
                state.setdefault(int(index), {})[slot] = value
        opt.load_state_dict({"state": state, "param_groups": ckpt.meta["param_groups"][name]})


def load_model(path: str | Path) -> tuple[YGan, Checkpoint]:
    """The trained networks in eval mode, ready for rendering, distillation or export."""
    ckpt = load(path)
    with damaged(resolve(path), "its weights do not fit its config", "point at a checkpoint written by 'ygan train'"):
        model = YGan.create(ckpt.config.model, list(ckpt.config.data.themes))
        restore(ckpt, model)
    for module in model.modules().values():
        module.eval()
    return model, ckpt


def load_patch_models(path: str | Path, themes: list[str] | None = None) -> tuple[dict[str, Any], int]:
    """Per-theme fused patch models G_t(E(x)) as no-grad callables, plus the patch size."""
    model, ckpt = load_model(path)
    known = list(model.generators)
    wanted = themes or known
    missing = [t for t in wanted if t not in known]
    if missing:
        raise YganError(f"theme(s) {missing} not in checkpoint '{path}': it has {known}")

    def wrap(theme: str):
        fused = model.patch_model(theme)

        @torch.no_grad()
        def run(x: torch.Tensor) -> torch.Tensor:
            return fused(x)

        return run

    return {t: wrap(t) for t in wanted}, ckpt.config.model.patch
