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


def state_tensors(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A module's state dict as checkpoint tensors named `prefix` + key (teacher and student alike)."""
    return {f"{prefix}{key}": value.detach().contiguous() for key, value in state.items()}


def optimizer_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list]:
    """An optimiser's per-parameter slots as tensors named `prefix` + "index.slot", and its param
    groups (plain JSON, for the header)."""
    state = opt.state_dict()
    slots = {f"{index}.{slot}": value for index, named in state["state"].items() for slot, value in named.items()}
    return state_tensors(prefix, slots), state["param_groups"]


def prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def restore_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], prefix: str, groups: list) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in prefixed(tensors, prefix).items():
        index, slot = key.split(".", 1)
        state.setdefault(int(index), {})[slot] = value
    opt.load_state_dict({"state": state, "param_groups": groups})


def write_file(path: Path, tensors: dict[str, torch.Tensor], header: dict[str, str]) -> Path:
    """Atomically: an interrupted save leaves the previous checkpoint intact."""
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=header)
    return path


def read_file(path: Path, fmt: str, noun: str, missing: str, fix: str, foreign: str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Tensors and header of a checkpoint whose header says `fmt`; anything else is one YganError
    line: `missing` when there is no file, `fix` when it is no safetensors, `foreign` (with {path} and
    {found}) when its format tag is another's."""
    if not path.is_file():
        raise YganError(f"{noun} '{path}' not found: {missing}")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), "pt") as handle:
            header = handle.metadata() or {}
    except (SafetensorError, OSError) as exc:
        raise YganError(f"{noun} '{path}' is not a readable safetensors file ({exc}): {fix}") from None
    if header.get("format") != fmt:
        raise YganError(foreign.format(path=path, found=header.get("format", "no format tag")))
    return tensors, header


def save(path: str | Path, model: YGan, optimizers: dict[str, torch.optim.Optimizer], step: int,
         config: Config, meta: dict[str, Any]) -> Path:
    tensors: dict[str, torch.Tensor] = {}
    groups: dict[str, Any] = {}
    for name, module in model.modules().items():
        tensors.update(state_tensors(f"model.{name}.", module.state_dict()))
    for name, opt in optimizers.items():
        slots, groups[name] = optimizer_tensors(f"optim.{name}.", opt)
        tensors.update(slots)
    header = {
        "format": FORMAT,
        "config": json.dumps(config.to_dict()),
        "step": str(step),
        "param_groups": json.dumps(groups),
        "meta": json.dumps(meta),
    }
    return write_file(resolve(path), tensors, header)


def load(path: str | Path) -> Checkpoint:
    path = resolve(path)
    tensors, header = read_file(path, FORMAT, "checkpoint", f"pass a run directory or its {FILENAME}",
                                "point at a file written by 'ygan train'",
                                "'{path}' is a safetensors file but not a ygan-mobile checkpoint: point at a file written by 'ygan train'")
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
        module.load_state_dict(prefixed(ckpt.tensors, f"model.{name}."))
    for name, opt in (optimizers or {}).items():
        restore_optimizer(opt, ckpt.tensors, f"optim.{name}.", ckpt.meta["param_groups"][name])


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
