"""The contenders of `ygan bench`: every way this bundle can render a frame, behind one interface.

PyTorch teacher and student run through the torch pipeline (ygan_mobile.render.spec, the original);
ONNX and TFLite artifacts run through the reference runtime's numpy pipeline with its backends,
i.e. what the phone-side code does. Two identity-model rows (one per pipeline) time the pipeline
alone, a cross-check of the overhead measured inside the real rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ygan_mobile.bench_timing import CallTimer, Contender

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
    from reference_runtime import pipeline as numpy_pipeline
    from ygan_mobile.render import spec as torch_pipeline

    p, s, blend, batch = setup.patch, setup.stride, setup.blend, setup.batch

    def torch_render(frame, model):
        return torch_pipeline.render_frame(frame, [model], patch=p, stride=s, blend=blend, batch=batch)

    def numpy_render(b: int, layout: str = "NCHW"):
        """The numpy pipeline at a fixed batch b and layout (an artifact's own, as an app would feed it)."""
        return lambda frame, model: numpy_pipeline.render_frame(frame, [model], patch=p, stride=s, blend=blend,
                                                                batch=b, layout=layout)

    def row(backend: str, model: str, precision: str, render, fn, **info) -> Contender:
        key = f"{backend}/{model}/{precision}/t{threads}"
        return Contender(key, render, CallTimer(fn), {"backend": backend, "model": model, "precision": precision,
                                                       "threads": threads, **info})

    rows = []
    for name in ("teacher", "student"):
        module = getattr(models, name)
        if module is not None:
            cost = models.cost[name]
            rows.append(row("pytorch", name, "fp32", torch_render, module, macs=cost["macs"], params=cost["params"],
                            size_bytes=None, artifact=None))
    rows.append(row("pytorch", "identity", "-", torch_render, lambda x: x, macs=0, params=0, size_bytes=None, artifact=None))
    for artifact in patch_artifacts(setup.manifest, setup.theme):
        runner = _open(setup.bundle, artifact, threads)
        backend = "onnxruntime" if artifact["format"] == "onnx" else "litert"
        rows.append(row(backend, setup.manifest["source"]["kind"], artifact["precision"],
                        numpy_render(artifact["batch"], artifact["layout"]), runner.run_native, macs=artifact.get("macs"), params=artifact.get("params"),
                        size_bytes=artifact["size"], artifact=artifact["path"]))
    rows.append(row("numpy", "identity", "-", numpy_render(batch), lambda x: x, macs=0, params=0, size_bytes=None,
                    artifact=None))
    return rows
