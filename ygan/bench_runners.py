"""The contenders of `ygan bench`: every way this bundle can render a frame, behind one interface.

PyTorch teacher and student run through the torch pipeline (ygan_mobile.render.torch_pipeline, the original);
ONNX and TFLite artifacts are opened and rendered through the reference runtime's API, i.e. what the
phone-side code does (a full-integer artifact is fed bytes through its tables). Two
identity-model rows (one per pipeline) time the pipeline alone, a cross-check of the overhead
measured inside the real rows. Spec v2 (multi-scale cells, `sampling: multiscale`) adds a row for
the int8-full TFLite artifact the apps ship and one for the identity model, at the bench's budget.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ygan.bench_timing import CallTimer, Contender

if TYPE_CHECKING:
    from reference_runtime.backends import Runner
    from reference_runtime.manifest import Bundle

TFLITE_ORDER = ("fp32", "fp16", "int8-dynamic", "int8-full")


@dataclass(frozen=True)
class Setup:
    bundle: Bundle  # opened through the runtime's API: every sha256 checked
    theme: str
    stride: int
    teacher: Path | None  # run directories; None when the bundle has no such checkpoint
    student: Path | None
    multiscale: Any = None  # reference_runtime.multiscale.Multiscale of the spec v2 rows

    @property
    def patch(self) -> int:
        return self.bundle.pipeline["patch"]

    @property
    def blend(self) -> str:
        return self.bundle.pipeline["blend"]

    @property
    def batch(self) -> int:
        return self.bundle.pipeline["batch"]


@dataclass
class TorchModels:
    """Loaded once, shared by every thread count: the fused patch models and their cost."""
    teacher: Any = None
    student: Any = None
    cost: dict[str, dict[str, int]] | None = None


def load_torch(setup: Setup) -> TorchModels:
    from distill.macs import patch_cost

    out = TorchModels(cost={})
    if setup.teacher is not None:
        from ygan_mobile.checkpoint import load_model

        model, _ = load_model(setup.teacher)
        out.teacher = model.patch_model(setup.theme).eval()
        out.cost["teacher"] = patch_cost(out.teacher, setup.patch).to_dict()
    if setup.student is not None:
        from distill.checkpoint import load_student

        models, _ = load_student(setup.student)
        out.student = models.patch_model(setup.theme).eval()
        out.cost["student"] = patch_cost(out.student, setup.patch).to_dict()
    return out


def patch_artifacts(artifacts: list[dict[str, Any]], theme: str) -> list[dict[str, Any]]:
    """The theme's fused patch-model artifacts this machine can run: ONNX fp32, then TFLite by precision."""
    mine = [a for a in artifacts if a["role"] == "patch_model" and a["theme"] == theme]
    onnx = [a for a in mine if a["format"] == "onnx"]
    tflite = sorted((a for a in mine if a["format"] == "tflite" and a["precision"] in TFLITE_ORDER),
                    key=lambda a: TFLITE_ORDER.index(a["precision"]))
    return onnx + tflite


class TimedRunner:
    """A runner whose every model call adds to `timer`, which `api.render_frame` drives as it drives
    the runner itself: a full-integer model fed bytes through its tables (the interpreter alone
    timed), any other in the artifact's own layout through `run_native`."""

    def __init__(self, runner: Runner):
        self.artifact = runner.artifact
        self.timer = CallTimer(runner.run_native)
        integer = runner.integer_model() if hasattr(runner, "integer_model") else None
        self._integer = None if integer is None else dataclasses.replace(
            integer, run=functools.partial(self.timer.time, runner.run_integer), as_float=self.timer)

    def run_native(self, x):
        return self.timer(x)

    def integer_model(self):
        return self._integer


def contenders(setup: Setup, models: TorchModels, threads: int) -> list[Contender]:
    """Every row for one thread count (torch's own thread count is set by the caller)."""
    from reference_runtime.api import open_model
    from ygan_mobile.render import torch_pipeline

    p, s, blend, batch = setup.patch, setup.stride, setup.blend, setup.batch

    def torch_render(frame, model):
        return torch_pipeline.render_frame(frame, [model], patch=p, stride=s, blend=blend, batch=batch)

    def torch_row(name: str, precision: str, module, cost: dict[str, int]) -> Contender:
        return _row(threads, "pytorch", name, precision, torch_render, CallTimer(module), macs=cost["macs"],
                    params=cost["params"], size_bytes=None, artifact=None)

    rows = []
    for name in ("teacher", "student"):
        module = getattr(models, name)
        if module is not None:
            rows.append(torch_row(name, "fp32", module, models.cost[name]))
    rows.append(torch_row("identity", "-", lambda x: x, {"macs": 0, "params": 0}))
    for artifact in patch_artifacts(setup.bundle.artifacts, setup.theme):
        runner = TimedRunner(open_model(setup.bundle, artifact["id"], threads=threads))
        backend = "onnxruntime" if artifact["format"] == "onnx" else "litert"
        info = {"macs": artifact.get("macs"), "params": artifact.get("params"), "size_bytes": artifact["size"],
                "artifact": artifact["path"]}
        rows.append(_numpy_row(threads, backend, setup.bundle.data["source"]["kind"], artifact["precision"], runner,
                               runner.timer, s, blend, {}, info))
    identity = CallTimer(lambda x: x)
    rows.append(_numpy_row(threads, "numpy", "identity", "-", identity, identity, s, blend, {"patch": p, "batch": batch},
                           {"macs": 0, "params": 0, "size_bytes": None, "artifact": None}))
    if setup.multiscale is not None:
        rows += multiscale_rows(setup, threads)
    return rows


def multiscale_rows(setup: Setup, threads: int) -> list[Contender]:
    """Spec v2 with the int8-full TFLite patch model (fed bytes, as the apps run it) and with the
    identity model, at the setup's budget: what multi-scale cells cost a phone."""
    from reference_runtime.api import open_model

    rows = []
    int8 = [a for a in patch_artifacts(setup.bundle.artifacts, setup.theme) if a["format"] == "tflite"
            and a["precision"] == "int8-full"]
    for artifact in int8:
        runner = TimedRunner(open_model(setup.bundle, artifact["id"], threads=threads))
        info = {"macs": artifact.get("macs"), "params": artifact.get("params"), "size_bytes": artifact["size"],
                "artifact": artifact["path"]}
        rows.append(_multiscale_row(threads, "litert", setup.bundle.data["source"]["kind"], artifact["precision"], runner,
                                    runner.timer, setup.multiscale, {}, info))
    identity = CallTimer(lambda x: x)
    rows.append(_multiscale_row(threads, "numpy", "identity", "-", identity, identity, setup.multiscale,
                                {"patch": setup.patch, "batch": setup.batch},
                                {"macs": 0, "params": 0, "size_bytes": None, "artifact": None}))
    return rows


def _multiscale_row(threads: int, backend: str, model_name: str, precision: str, model, timer: CallTimer, settings,
                    grid: dict[str, int], info: dict[str, Any]) -> Contender:
    """A spec v2 row through the runtime's API, its workspace (buffers and layout) kept from frame to
    frame as in a camera feed."""
    from reference_runtime import api, pipeline

    ws = pipeline.Workspace()

    def render(frame, _timed):
        return api.render_frame(frame, model, multiscale=settings, workspace=ws, **grid)

    return Contender(f"{backend}/{model_name}/{precision}/multiscale/t{threads}", render, timer,
                     {"backend": backend, "model": model_name, "precision": precision, "threads": threads,
                      "sampling": "multiscale", "budget": settings.budget, **info}, ws)


def _row(threads: int, backend: str, model: str, precision: str, render, timer: CallTimer, workspace=None,
         **info) -> Contender:
    return Contender(f"{backend}/{model}/{precision}/t{threads}", render, timer,
                     {"backend": backend, "model": model, "precision": precision, "threads": threads, "sampling": "grid",
                      **info}, workspace)


def _numpy_row(threads: int, backend: str, model_name: str, precision: str, model, timer: CallTimer, stride: int,
               blend: str, grid: dict[str, int], info: dict[str, Any]) -> Contender:
    """A row through the runtime's API, keeping its buffers from frame to frame as an app rendering a
    camera feed would. `model` is a TimedRunner (patch size and batch from its artifact) or a plain
    callable with `grid` = its patch size and batch."""
    from reference_runtime import api, pipeline

    ws = pipeline.Workspace()

    def render(frame, _timed):
        return api.render_frame(frame, model, stride=stride, blend=blend, workspace=ws, **grid)

    return _row(threads, backend, model_name, precision, render, timer, ws, **info)
