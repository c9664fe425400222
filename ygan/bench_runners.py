"""The contenders of `ygan bench`: every way this bundle can render a frame, behind one interface.

PyTorch teacher and student run through the torch pipeline (ygan_mobile.render.torch_pipeline, the original);
ONNX and TFLite artifacts run through the reference runtime's numpy pipeline with its backends,
i.e. what the phone-side code does (a full-integer artifact is fed bytes through its tables). Two
identity-model rows (one per pipeline) time the pipeline alone, a cross-check of the overhead
measured inside the real rows.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ygan.bench_timing import CallTimer, Contender

TFLITE_ORDER = ("fp32", "fp16", "int8-dynamic", "int8-full")


@dataclass(frozen=True)
class Setup:
    bundle: Path
    manifest: dict[str, Any]
    theme: str
    stride: int
    teacher: Path | None  # run directories; None when the bundle has no such checkpoint
    student: Path | None

    @property
    def patch(self) -> int:
        return self.manifest["pipeline"]["patch"]

    @property
    def blend(self) -> str:
        return self.manifest["pipeline"]["blend"]

    @property
    def batch(self) -> int:
        return self.manifest["pipeline"]["batch"]


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


def patch_artifacts(manifest: dict[str, Any], theme: str) -> list[dict[str, Any]]:
    """The theme's fused patch-model artifacts this machine can run: ONNX fp32, then TFLite by precision."""
    mine = [a for a in manifest["artifacts"] if a["role"] == "patch_model" and a["theme"] == theme]
    onnx = [a for a in mine if a["format"] == "onnx"]
    tflite = sorted((a for a in mine if a["format"] == "tflite" and a["precision"] in TFLITE_ORDER),
                    key=lambda a: TFLITE_ORDER.index(a["precision"]))
    return onnx + tflite


def _open(bundle: Path, artifact: dict[str, Any], threads: int):
    from reference_runtime.backends import open_artifact

    return open_artifact(bundle, artifact, threads)


def contenders(setup: Setup, models: TorchModels, threads: int) -> list[Contender]:
    """Every row for one thread count (torch's own thread count is set by the caller)."""
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
    for artifact in patch_artifacts(setup.manifest, setup.theme):
        runner = _open(setup.bundle, artifact, threads)
        backend = "onnxruntime" if artifact["format"] == "onnx" else "litert"
        info = {"macs": artifact.get("macs"), "params": artifact.get("params"), "size_bytes": artifact["size"],
                "artifact": artifact["path"]}
        integer = runner.integer_model() if hasattr(runner, "integer_model") else None
        if integer is None:
            timer = CallTimer(runner.run_native)
        else:  # bytes through the model's tables, as an app feeds a full-integer model
            timer = CallTimer(runner.run_integer)
            integer = dataclasses.replace(integer, run=timer, as_float=functools.partial(timer.time, runner.run_native))
        rows.append(_numpy_row(threads, backend, setup.manifest["source"]["kind"], artifact["precision"], timer,
                               p, s, blend, artifact["batch"], artifact["layout"], integer, info))
    rows.append(_numpy_row(threads, "numpy", "identity", "-", CallTimer(lambda x: x), p, s, blend, batch, "NCHW", None,
                           {"macs": 0, "params": 0, "size_bytes": None, "artifact": None}))
    return rows


def _row(threads: int, backend: str, model: str, precision: str, render, timer: CallTimer, workspace=None,
         **info) -> Contender:
    return Contender(f"{backend}/{model}/{precision}/t{threads}", render, timer,
                     {"backend": backend, "model": model, "precision": precision, "threads": threads, **info}, workspace)


def _numpy_row(threads: int, backend: str, model: str, precision: str, timer: CallTimer, patch: int, stride: int,
               blend: str, batch: int, layout: str, integer, info: dict[str, Any]) -> Contender:
    """A row through the numpy pipeline at the artifact's own batch and layout, keeping its buffers
    from frame to frame as an app rendering a camera feed would; an integer model is fed bytes."""
    from reference_runtime import fast_paths, pipeline as numpy_pipeline

    ws = numpy_pipeline.Workspace()

    def render(frame, model_call):
        return fast_paths.render_frame(frame, [integer if integer is not None else model_call], patch=patch,
                                       stride=stride, blend=blend, batch=batch, layout=layout, workspace=ws)

    return _row(threads, backend, model, precision, render, timer, ws, **info)
