"""One convert run: export → op check → goldens → TFLite → Core ML → parity → manifest → install.

Everything is written into a staging directory beside the bundle and moved in at the end (see
install.py). The ONNX graphs are needed for TFLite even when ONNX isn't a requested target; they are
then kept in a scratch folder outside the bundle.
"""

from __future__ import annotations

import functools
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import onnx
import torch

from convert import (calibration, coreml, equalise, export_onnx, golden, manifest, model_card, onnx_quant, opsupport, parity,
                     pixel_io, tflite, tflite_io)
from convert.coreml_estimate import palettized_outputs
from convert.describe import describe
from convert.install import install, staging_dir
from convert.options import Options
from convert.plan import LAYOUT, Job, jobs, precisions_for
from convert.samples import Samples, embedded_samples
from convert.source import Networks
from distill.macs import count_macs, count_params
from reference_runtime.multiscale import Multiscale
from ygan_mobile.errors import YganError
from ygan_mobile.render.multiscale import MultiscaleOptions
from ygan_mobile.render.torch_pipeline import default_stride


@dataclass
class Result:
    out: Path
    manifest: dict
    seconds: dict[str, float]

    @property
    def failed(self) -> list[dict]:
        return [a for a in self.manifest["artifacts"] if a["parity"]["status"] == "fail"]


Progress = Callable[[str], None]


def step_count(plan: dict[str, list[str]], n_jobs: int) -> int:
    """Progress steps of one run: an export per network, a conversion per network and target,
    an int8 QDQ quantisation per patch model (jobs are the encoder, then a generator and a patch
    model per theme), plus goldens and parity."""
    qdq = (n_jobs - 1) // 2 if onnx_quant.PRECISION in plan.get("onnx", []) else 0
    return n_jobs * (1 + ("tflite" in plan) + ("coreml" in plan)) + qdq + 2


@dataclass
class _Run:
    """One run's fixed choices and where it writes; `phase` times each phase into `seconds` for the summary."""
    net: Networks
    opts: Options
    plan: dict[str, list[str]]
    stride: int
    work: list[Job]
    staging: Path
    progress: Progress
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        clock = time.monotonic()
        yield
        self.seconds[name] = time.monotonic() - clock

    @property
    def pipeline(self) -> dict:
        """The pipeline parameters the manifest and every model card record."""
        return model_card.pipeline_params(self.net.patch, self.stride, self.opts.blend, self.opts.batch)

    def card(self, fmt: str, precision: str, *, job: Job) -> model_card.ModelCard:
        """The model card of one artifact of this run."""
        net, opts = self.net, self.opts
        return model_card.card(role=job.role, theme=job.theme, key=job.key, fmt=fmt, precision=precision,
                               layout=LAYOUT[fmt], batch=opts.batch, latent=net.latent, input_name=job.input_name,
                               output_name=job.output_name, integer_io=fmt == "tflite" and precision == "int8-full",
                               pipeline=self.pipeline, source={"kind": net.kind, "checkpoint_sha256": net.checkpoint_sha256},
                               author=opts.author, license=opts.license)


def convert(net: Networks, out: Path, opts: Options, samples: Samples | None = None,
            progress: Progress = lambda label: None) -> Result:
    plan = precisions_for(opts.targets, opts.precisions)
    if opts.batch < 1:
        raise YganError(f"--batch must be ≥ 1, got {opts.batch}")
    stride = opts.stride or default_stride(net.patch)
    if not 1 <= stride <= net.patch:
        raise YganError(f"--stride {stride} must be between 1 and the patch size {net.patch}")
    out = Path(out)
    run = _Run(net, opts, plan, stride, jobs(net, opts.batch), staging_dir(out), progress)
    try:
        exported = _export(run)
        with run.phase("golden"):
            progress("golden vectors")
            samples = samples or embedded_samples(net, opts.calibration, opts.golden)
            goldens = golden.patch_goldens(net, samples.golden)
            golden_entries = _write_goldens(run.staging, net, samples, goldens, stride, opts)
        made = _convert_all(run, exported, samples)
        _stamp_cards(run, made)
        with run.phase("parity"):
            progress("parity")
            artifacts = _describe_all(run.staging, made, exported, goldens, opts.thresholds)
            shutil.rmtree(run.staging / ".scratch", ignore_errors=True)
        doc = manifest.build(kind=net.kind, checkpoint_sha256=net.checkpoint_sha256, seed=net.seed, patch=net.patch,
                             latent=net.latent, pipeline=run.pipeline,
                             themes=net.themes,
                             thresholds=opts.thresholds, golden=golden_entries, artifacts=artifacts)
        manifest.write(run.staging, doc)
        install(run.staging, out)
    finally:
        shutil.rmtree(run.staging, ignore_errors=True)
    return Result(out, doc, run.seconds)


def _export(run: _Run) -> dict:
    """Every network to ONNX, op-checked for the requested targets; in the bundle if ONNX is a target,
    else in scratch as TFLite's source."""
    onnx_dir = run.staging / "onnx" if "onnx" in run.plan else run.staging / ".scratch" / "onnx"
    exported = {}
    with run.phase("onnx"):
        for job in run.work:
            run.progress(f"onnx {job.key}")
            exported[job.key] = export_onnx.export(job.module, job.example, onnx_dir / f"{job.key}.onnx", job.key,
                                                   job.input_name, job.output_name)
            opsupport.check(onnx.load(str(exported[job.key].path)), job.key,
                            opsupport.targets_for(list(run.plan), run.plan.get("tflite", [])))
    return exported


def _convert_all(run: _Run, exported: dict, samples: Samples) -> list[tuple[str, str, Job, Path]]:
    """Every artifact of the plan: (format, precision, job, path), the fp32 ONNX export first."""
    plan, staging = run.plan, run.staging
    made: list[tuple[str, str, Job, Path]] = [("onnx", "fp32", j, exported[j.key].path) for j in run.work if "onnx" in plan]
    calibrate = {"x": samples.calibration, "z": calibration.latents(run.net.encoder, samples.calibration)}
    quantised = {k: e.path for k, e in exported.items()}
    if onnx_quant.PRECISION in plan.get("onnx", []) or any(p.startswith("int8") for p in plan.get("tflite", [])):
        with run.phase("equalise"):
            quantised = _equalised(staging, run.work, exported, calibrate, run.opts.batch, run.progress)
    if onnx_quant.PRECISION in plan.get("onnx", []):
        with run.phase("onnx-int8"):
            made += _onnx_int8(staging, run.work, quantised, samples, run.opts.batch, run.progress)
    if "tflite" in plan:
        with run.phase("tflite"):
            made += _tflite(staging, run.work, quantised, plan["tflite"], samples, calibrate, run.progress)
    if "coreml" in plan:
        with run.phase("coreml"):
            made += _coreml(run)
    return made


def _coreml(run: _Run) -> list[tuple[str, str, Job, Path]]:
    made = []
    for job in run.work:
        run.progress(f"coreml {job.key}")
        paths = coreml.convert(job.module, job.example, run.staging / "coreml", job.key, run.plan["coreml"],
                               job.input_name, job.output_name, job.key, card=functools.partial(run.card, "coreml", job=job))
        made += [("coreml", p, job, path) for p, path in paths.items()]
    return made


def _stamp_cards(run: _Run, made: list[tuple[str, str, Job, Path]]) -> None:
    """The model cards into the ONNX and TFLite files (Core ML writes its own), before hashing: the cards
    are part of the shipped bytes."""
    for fmt, precision, job, path in made:
        if fmt == "onnx":
            model_card.stamp_onnx(path, run.card(fmt, precision, job=job))
        elif fmt == "tflite":
            model_card.stamp_tflite(path, run.card(fmt, precision, job=job))


def _write_goldens(staging: Path, net: Networks, samples: Samples, goldens: dict, stride: int, opts: Options) -> list[dict]:
    folder = staging / "golden"
    golden.save_npz(folder / "patches.npz", goldens)
    golden.save_npz(folder / "frames.npz", golden.frame_goldens(net, samples.frames, stride, opts.batch, opts.blend))
    arrays, cases = golden.pipeline_goldens(samples.stand_in_frames, net.patch, opts.batch)
    golden.save_npz(folder / "pipeline.npz", arrays)
    settings = MultiscaleOptions()  # spec v2 at its defaults, recorded with the goldens
    recorded = Multiscale(settings.threshold, settings.hysteresis, settings.budget, settings.largest, settings.smallest)
    arrays, stand_ins = golden.multiscale_stand_ins(samples.stand_in_frames, net.patch, opts.batch, recorded)
    golden.save_npz(folder / "multiscale.npz",
                    {**golden.multiscale_goldens(net, samples.frames, settings, opts.batch), **arrays})
    return [
        {**manifest.file_entry(staging, "golden/patches.npz"), "kind": "patches"},
        {**manifest.file_entry(staging, "golden/frames.npz"), "kind": "frames", "stride": stride, "blend": opts.blend, "batch": opts.batch},
        {**manifest.file_entry(staging, "golden/pipeline.npz"), "kind": "pipeline", "cases": cases},
        {**manifest.file_entry(staging, "golden/multiscale.npz"), "kind": "multiscale", "batch": opts.batch,
         **recorded.record(net.patch), "stand_ins": stand_ins},
    ]


def _equalised(staging: Path, work: list[Job], exported: dict, calibrate: dict, batch: int,
               progress: Progress) -> dict[str, Path]:
    """Each exported graph with its activation ranges equalised (convert/equalise.py): the source of
    every file onnxruntime or onnx2tf quantises. The fp32 ONNX artifacts stay the plain export."""
    folder = staging / ".scratch" / "equalised"
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for job in work:
        progress(f"equalise {job.key}")
        model, _ = equalise.equalise(onnx.load(str(exported[job.key].path)), job.input_name, calibrate[job.input_name],
                                     batch, job.key)
        out[job.key] = folder / f"{job.key}.onnx"
        onnx.save(model, str(out[job.key]))
    return out


def _onnx_int8(staging: Path, work: list[Job], sources: dict[str, Path], samples: Samples, batch: int,
               progress: Progress) -> list[tuple[str, str, Job, Path]]:
    """The int8 QDQ patch models, calibrated on the TFLite int8 calibration patches."""
    made = []
    for job in (j for j in work if j.role == "patch_model"):
        progress(f"onnx int8 {job.key}")
        path = onnx_quant.quantize(sources[job.key], staging / "onnx" / f"{job.key}.{onnx_quant.PRECISION}.onnx",
                                   job.input_name, samples.calibration, batch, job.key)
        made.append(("onnx", onnx_quant.PRECISION, job, path))
    return made


def _tflite(staging: Path, work: list[Job], sources: dict[str, Path], precisions: list[str], samples: Samples,
            calibrate: dict, progress: Progress) -> list[tuple[str, str, Job, Path]]:
    scratch = staging / ".scratch" / "calibration"
    scratch.mkdir(parents=True, exist_ok=True)
    default = calibration.write_onnx2tf_default(scratch, samples.photos)
    files = {name: calibration.write_inputs(scratch, name, data) for name, data in calibrate.items()}
    made = []
    for job in work:
        progress(f"tflite {job.key}")
        paths = tflite.convert(sources[job.key], staging / "tflite", job.key, precisions, job.input_name,
                               files[job.input_name], default, job.key, staging / ".scratch")
        for precision, path in paths.items():  # same tensor names and signature in every precision
            tflite_io.set_contract(path, job.input_name, job.output_name)
            takes_input, takes_output = pixel_io.applies("tflite", precision, job.role, job.input_name)
            if takes_input:
                pixel_io.set_pixel_io(path, output=takes_output)
        made += [("tflite", p, job, path) for p, path in paths.items()]
    return made


@torch.no_grad()
def _describe_all(staging: Path, made, exported: dict, goldens: dict, thresholds: dict) -> list[dict]:
    costs: dict[str, tuple[int, int, list[int]]] = {}
    artifacts = []
    for fmt, precision, job, path in made:
        if job.key not in costs:
            one = job.example[:1]
            shape = list(job.module(job.example).shape)
            costs[job.key] = (count_macs(job.module, one), count_params(job.module), shape)
        macs, params, shape = costs[job.key]
        entry = describe(staging, fmt, precision, job, path, output_shape=shape, macs=macs, params=params,
                         opset=export_onnx.opset_of(onnx.load(str(path), load_external_data=False)) if fmt == "onnx" else None)
        entry["parity"] = parity.measure(staging, entry, goldens, thresholds)
        if fmt == "coreml" and precision.startswith("palettized") and entry["parity"]["status"] == "not verified":
            nbits = int(precision.removeprefix("palettized-").removesuffix("bit"))
            got = palettized_outputs(job.module, nbits, parity.golden_input(job.role, goldens), job.example.shape[0])
            entry["parity"] = parity.with_estimate(entry["parity"], job.role, got, goldens[f"out.{job.key}"],
                                                   "coremltools k-means weights in torch float32")
        artifacts.append(entry)
    return artifacts
