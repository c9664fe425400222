"""The six stages of `ygan build`, each as: what it depends on, how to run it, what it writes.

Why inputs are plain dicts: build.py hashes them (with the tool version) to decide whether a stage
can be skipped. Each stage's inputs include the sha256 of the upstream stage's output, so a rerun
upstream that changes bytes reruns everything after it, and one that doesn't (same seed, same
config) lets the rest be skipped. Key numbers are read back from the files a stage wrote, so a
skipped stage reports the same numbers as the run that produced it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from reference_runtime.bundle_files import BENCH, MANIFEST, PARITY, QUALITY
from reference_runtime.defaults import DEFAULT_THREADS
from ygan.bench import PLOT as BENCH_PLOT
from ygan.build_config import BuildConfig
from ygan.build_state import BuildState, path_sha256, tree_fingerprint
from ygan.bundle_paths import STUDENT, STUDENT_CKPT, STUDENT_SUMMARY, TEACHER, TEACHER_CKPT, TEACHER_SUMMARY
from ygan_mobile.errors import YganError


@dataclass
class Context:
    bundle: Path
    cfg: BuildConfig
    state: BuildState
    progress: bool
    inputs_sha256: dict[str, str] = field(default_factory=dict)  # filled as stages are planned
    verify_threads: int = DEFAULT_THREADS
    judges: Any = None  # ygan.build_judges.JudgeJob started beside convert for the quality stage, until it takes it


@dataclass
class Ran:
    outputs: list[str]  # bundle-relative paths to hash
    interrupted: bool = False


@dataclass(frozen=True)
class Stage:
    name: str
    inputs: Callable[[Context], dict[str, Any]]
    run: Callable[[Context, bool], Ran]  # (context, resume)
    numbers: Callable[[Path], dict[str, Any]]
    checkpoint: str | None = None  # resumable stages: the file a resume continues from
    skip: Callable[[Context], str] | None = None  # a reason this build has no use for the stage, or ""


def _upstream(ctx: Context, stage: str, rel: str) -> str:
    return ctx.state.stages[stage].outputs[rel]


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


# -- train ---------------------------------------------------------------------------------------

def train_inputs(ctx: Context) -> dict[str, Any]:
    data = ctx.cfg.teacher.data
    files = {name: tree_fingerprint(value) for name, value in (("data_a", data.data_a), ("data_b", data.data_b)) if value}
    return {"config": ctx.cfg.teacher.to_dict(), "data_files": files}


def train_run(ctx: Context, resume: bool) -> Ran:
    from ygan_mobile.train import train

    result = train(ctx.cfg.teacher, ctx.bundle / TEACHER, resume=resume, progress=ctx.progress)
    return Ran([TEACHER_CKPT, TEACHER_SUMMARY], result.interrupted)


def train_numbers(bundle: Path) -> dict[str, Any]:
    m = _json(bundle / TEACHER_SUMMARY)
    return {"step": m["step"], "psnr_auto": m["final"]["psnr_auto"], **({"spread_keys": m["spread_keys"]} if "spread_keys" in m else {})}


# -- distill -------------------------------------------------------------------------------------

def distill_inputs(ctx: Context) -> dict[str, Any]:
    return {"config": ctx.cfg.distill.to_dict(), "teacher_sha256": _upstream(ctx, "train", TEACHER_CKPT)}


def distill_run(ctx: Context, resume: bool) -> Ran:
    from distill.train import distill

    result = distill(ctx.bundle / TEACHER, ctx.cfg.distill, ctx.bundle / STUDENT, resume=resume, progress=ctx.progress)
    return Ran([STUDENT_CKPT, STUDENT_SUMMARY], result.interrupted)


def distill_numbers(bundle: Path) -> dict[str, Any]:
    m = _json(bundle / STUDENT_SUMMARY)
    out = {"step": m["step"], "mac_ratio": m["cost"]["mac_ratio"], "param_ratio": m["cost"]["param_ratio"]}
    if "patch_psnr_min" in m:
        out["patch_psnr_min"] = m["patch_psnr_min"]
    if "restoration" in m:
        out["student_gain_min"] = min(m["restoration"]["student_gain"].values())
        out["teacher_gain_min"] = min(m["restoration"]["teacher_gain"].values())
    return out


# -- convert -------------------------------------------------------------------------------------

def convert_inputs(ctx: Context) -> dict[str, Any]:
    return {"settings": ctx.cfg.convert.to_dict(), "student_sha256": _upstream(ctx, "distill", STUDENT_CKPT)}


def convert_run(ctx: Context, resume: bool) -> Ran:
    from convert.bundle import convert, step_count
    from convert.options import Options
    from convert.plan import jobs, precisions_for
    from convert.source import load_networks

    s = ctx.cfg.convert
    opts = Options(targets=list(s.targets), precisions=list(s.precisions) or None, batch=s.batch,
                   stride=s.stride, blend=s.blend, calibration=s.calibration, golden=s.golden)
    net = load_networks(ctx.bundle / STUDENT_CKPT, "student")
    _start_judges(ctx)
    bar = _bar(step_count(precisions_for(opts.targets, opts.precisions), len(jobs(net, 1))), "convert", ctx.progress)
    started: list[str] = []

    def progress(label: str) -> None:
        """Called as each step starts, so the bar counts the steps already finished."""
        bar.update(1 if started else 0)
        bar.set_postfix_str(label)
        started.append(label)

    try:
        result = convert(net, ctx.bundle, opts, progress=progress)
        bar.update(bar.total - bar.n)
    finally:
        bar.close()
    _add_build_record(ctx, result.manifest)
    paths = [a["path"] for a in result.manifest["artifacts"]] + [g["path"] for g in result.manifest["golden"]]
    return Ran([MANIFEST, *paths])


def _start_judges(ctx: Context) -> None:
    """Convert keeps one core busy: the quality stage's judges are fitted on the other meanwhile
    (ygan/build_judges.py). They depend on the teacher and the quality settings alone."""
    if not quality_skip(ctx) and ctx.judges is None:
        ctx.judges = _judge_job(ctx)


def _judge_job(ctx: Context):
    """A JudgeJob fitting the judges the quality settings ask for, on this bundle's teacher."""
    from ygan.build_judges import JudgeJob, JudgeSettings

    q = ctx.cfg.quality
    return JudgeJob(ctx.bundle, JudgeSettings(steps=q.steps, retry_steps=q.retry_steps, count=q.judges, side=q.side))


def _bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", disable=not (enabled and sys.stderr.isatty()), dynamic_ncols=True)


def _add_build_record(ctx: Context, manifest: dict[str, Any]) -> None:
    """The inputs every artifact was built from, in the manifest itself: a bundle copied away from
    its build.json still says which config, teacher and student made it."""
    from convert.manifest import write
    from ygan_mobile import __version__

    manifest["build"] = {
        "tool_version": __version__,
        "preset": ctx.cfg.preset,
        "overrides": list(ctx.cfg.overrides),
        "inputs_sha256": dict(ctx.inputs_sha256),
        "teacher_sha256": _upstream(ctx, "train", TEACHER_CKPT),
        "student_sha256": _upstream(ctx, "distill", STUDENT_CKPT),
    }
    write(ctx.bundle, manifest)


def convert_numbers(bundle: Path) -> dict[str, Any]:
    artifacts = _json(bundle / MANIFEST)["artifacts"]
    return {"artifacts": len(artifacts), "formats": sorted({a["format"] for a in artifacts})}


# -- verify --------------------------------------------------------------------------------------

def verify_inputs(ctx: Context) -> dict[str, Any]:
    """The manifest without the `quality` object the quality stage adds after verify (nothing verify reads)."""
    from ygan.build_quality import core_sha256

    return {"manifest_core_sha256": core_sha256(_json(ctx.bundle / MANIFEST))}


def verify_run(ctx: Context, resume: bool) -> Ran:
    try:
        from reference_runtime.verify import verify_bundle
    except ImportError as exc:
        raise YganError(f"the verify stage needs reference_runtime.verify, which this installation lacks ({exc})") from None
    if ctx.judges is not None:  # its held-out data drawn while verify runs, it fits judges from the quality stage's start
        ctx.judges.add_worker()
    verify_bundle(ctx.bundle, thresholds=None, threads=ctx.verify_threads)
    return Ran([PARITY])


def verify_numbers(bundle: Path) -> dict[str, Any]:
    """Per artifact the worst of its checks (model parity, pipeline frames); an unknown word is a fail."""
    doc = _json(bundle / PARITY)
    rank = {"pass": 0, "not verified": 1, "fail": 2}
    worst: dict[str, str] = {}
    for entry in [*doc.get("models", []), *doc.get("pipeline", [])]:
        status = entry.get("status") if entry.get("status") in rank else "fail"
        if rank[status] >= rank[worst.get(entry["id"], "pass")]:
            worst[entry["id"]] = status
    counts = {s: list(worst.values()).count(s) for s in rank}
    return {"ok": bool(doc.get("ok")), **counts}


# -- quality -------------------------------------------------------------------------------------

SKIP_RESTORATION = "a restoration bundle: its quality is 'ygan eval TASK BUNDLE' against ground truth"


def quality_skip(ctx: Context) -> str:
    return SKIP_RESTORATION if ctx.cfg.teacher.data.task else ""


def _int8_full(ctx: Context) -> dict[str, str]:
    """path → sha256 of each theme's int8-full TFLite patch model, as convert recorded them."""
    from ygan.build_quality import int8_full_artifacts

    manifest = _json(ctx.bundle / MANIFEST)
    return {a["path"]: a["sha256"] for a in int8_full_artifacts(manifest).values()}


def quality_inputs(ctx: Context) -> dict[str, Any]:
    """The mosaic settings, both checkpoints and the shipped int8-full models; the preset and overrides
    only label the pictures. Not the manifest: a convert rerun that leaves those models' bytes alone changes no number."""
    if quality_skip(ctx):
        return {"skipped": quality_skip(ctx)}
    return {"settings": ctx.cfg.quality.to_dict(), "preset": [ctx.cfg.preset, list(ctx.cfg.overrides)],
            "teacher_sha256": _upstream(ctx, "train", TEACHER_CKPT), "student_sha256": _upstream(ctx, "distill", STUDENT_CKPT),
            "int8_full_sha256": _int8_full(ctx)}


def quality_run(ctx: Context, resume: bool) -> Ran:
    from ygan.build_quality import NotMeasurable, measure, preset_label, stamp_manifest, write, write_unavailable

    q = ctx.cfg.quality
    log = (lambda text: print(f"  quality: {text}", file=sys.stderr, flush=True)) if ctx.progress else (lambda _: None)
    job, ctx.judges = ctx.judges or _judge_job(ctx), None  # measure() owns the job now and cancels it, whatever happens
    try:
        measured = measure(ctx.bundle, job, threads=q.threads, preset=preset_label(ctx.cfg.preset, ctx.cfg.overrides),
                           targets=q.targets(), log=log)
    except NotMeasurable as exc:  # too little held-out data is no reason to throw the bundle away
        return Ran([write_unavailable(ctx.bundle, str(exc)).relative_to(ctx.bundle).as_posix()])
    written = write(measured, ctx.bundle)
    _, after = stamp_manifest(ctx.bundle, measured.doc)
    # manifest.json (convert's output) now carries `quality`, and parity.json is re-pinned to it: record
    # their new bytes as the upstream stages' outputs, or the next build would take them for edits
    ctx.state.stages["convert"].outputs[MANIFEST] = after
    if PARITY in ctx.state.stages["verify"].outputs:
        ctx.state.stages["verify"].outputs[PARITY] = path_sha256(ctx.bundle / PARITY)
    return Ran([p.relative_to(ctx.bundle).as_posix() for p in written] + [MANIFEST])


def quality_numbers(bundle: Path) -> dict[str, Any]:
    doc = _json(bundle / QUALITY)
    if "unavailable" in doc:
        return {"skipped": f"not measured: {doc['unavailable']}"}
    keep = ("recognisability", "recognisability_min", "recognisability_max", "variety", "picture_r", "detail_r", "colour_r",
            "structure_r", "baseline_input", "baseline_colour")

    def rows(models: dict) -> dict:
        return {m: {t: {k: s[k] for k in keep if k in s} for t, s in themes.items()} for m, themes in models.items()}
    return {"judge_accuracy": doc["judge"]["accuracy"], "judge_counts": doc["judge"]["counts"],
            "judges": doc.get("settings", {}).get("judges", 1),
            "models": rows(doc["models"]), "baselines": rows(doc.get("baselines", {})),
            "warnings": doc.get("warnings", []), "notes": doc.get("notes", [])}


# -- report --------------------------------------------------------------------------------------

def report_inputs(ctx: Context) -> dict[str, Any]:
    """The report also shows bench.json (and its plot) when `ygan bench` has written one."""
    bench = {name: path_sha256(ctx.bundle / name) for name in (BENCH, BENCH_PLOT) if (ctx.bundle / name).is_file()}
    quality = ctx.state.stages.get("quality")
    return {"manifest_sha256": _upstream(ctx, "convert", MANIFEST),
            "parity_sha256": _upstream(ctx, "verify", PARITY), "bench_sha256": bench,
            "quality_sha256": dict(quality.outputs) if quality is not None else {}}


def report_run(ctx: Context, resume: bool) -> Ran:
    try:
        from reference_runtime.report import write_report
    except ImportError as exc:
        raise YganError(f"the report stage needs reference_runtime.report, which this installation lacks ({exc})") from None
    index = Path(write_report(ctx.bundle)).resolve()
    return Ran([index.parent.relative_to(ctx.bundle.resolve()).as_posix()])


def report_numbers(bundle: Path) -> dict[str, Any]:
    index = bundle / "report" / "index.html"
    if not index.is_file():
        raise YganError(f"the report stage wrote no {index}: rerun the build")
    return {"index": index.relative_to(bundle).as_posix()}


STAGES = (
    Stage("train", train_inputs, train_run, train_numbers, checkpoint=TEACHER_CKPT),
    Stage("distill", distill_inputs, distill_run, distill_numbers, checkpoint=STUDENT_CKPT),
    Stage("convert", convert_inputs, convert_run, convert_numbers),
    Stage("verify", verify_inputs, verify_run, verify_numbers),
    Stage("quality", quality_inputs, quality_run, quality_numbers, skip=quality_skip),
    Stage("report", report_inputs, report_run, report_numbers),
)
