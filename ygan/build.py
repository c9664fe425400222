"""`ygan build`: train → distill → convert → verify → quality → report into one bundle, skipping what is current.

Layout: BUNDLE/checkpoints/teacher (the train run), BUNDLE/checkpoints/student (the distill run),
onnx/ tflite/ coreml/ golden/ manifest.json (convert), parity.json (verify), quality.json and
quality/ (quality: mosaic quality, DESIGN §11; restoration bundles skip it), report/ (report) and
build.json (this file's state: see build_state.py). Exit codes: 0 built and verified, 1 verify
failed (the report is still written), 130 interrupted (rerun the same command to continue), 2 bad
input.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from ygan import build_state
from ygan.build_config import flag_overrides, resolve
from ygan.build_stages import STAGES, Context
from ygan.build_state import StageRecord


def build(args: argparse.Namespace) -> int:
    from ygan.build_summary import print_summary
    from ygan_mobile import __version__

    flags = flag_overrides(args.theme, args.data_a, args.data_b, args.seed)
    cfg = resolve(args.preset, list(args.overrides), flags)
    check_sources(cfg)
    bundle = Path(args.out)
    bundle.mkdir(parents=True, exist_ok=True)
    state = build_state.load(bundle)
    state.meta = {"tool_version": __version__, "preset": cfg.preset, "overrides": list(cfg.overrides)}
    state.last_run = {}
    ctx = Context(bundle, cfg, state, progress=not args.quiet)
    began = time.monotonic()
    code = run_stages(ctx, __version__)
    if code == 0 and args.android_dir:
        from ygan.build_android import copy_to_android

        print(f"android assets: {copy_to_android(bundle, Path(args.android_dir))}")
    if code == 0 and args.web_dir:
        from ygan.build_web import copy_to_web

        print(f"web page bundle: {copy_to_web(bundle, Path(args.web_dir))}")
    print_summary(ctx, time.monotonic() - began)
    return code


def check_sources(cfg) -> None:
    """A user's --data-a / --data-b folder, video or image is read once before anything is written, so a
    missing, empty or unreadable one is refused with one line and leaves no build.json or empty folders."""
    from ygan_mobile.data import load_source

    d = cfg.teacher.data
    for path in (d.data_a, d.data_b):
        if path:
            load_source(path, cfg.teacher.model.patch)


def _terminate(signum, frame):
    raise KeyboardInterrupt


def run_stages(ctx: Context, tool_version: str) -> int:
    """Run or skip each stage in order; stop at an interruption. 1 if verify failed, else 0.

    SIGTERM is treated like Ctrl-C, so convert/verify/report clean up their staging folders too
    (train and distill install their own handler while they step)."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        for k, stage in enumerate(STAGES, 1):
            if not _run_stage(ctx, stage, tool_version, f"[{k}/{len(STAGES)}] {stage.name}"):
                return 130
    except KeyboardInterrupt:  # between stages (hashing, state writes): nothing half-done to record
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        if ctx.judges is not None:  # started beside convert for a quality stage that did not run
            ctx.judges.cancel()
    return 0 if ctx.state.stages["verify"].numbers.get("ok") else 1


def _say(ctx: Context, text: str) -> None:
    """Stage headers go where the stages' own progress bars go (stderr), between them."""
    if ctx.progress:
        print(text, file=sys.stderr, flush=True)


def _run_stage(ctx: Context, stage, tool_version: str, title: str) -> bool:
    """Skip, resume or run one stage and record it; False when it was interrupted."""
    state, bundle = ctx.state, ctx.bundle
    inputs = build_state.digest({"stage": stage.name, "tool_version": tool_version, **stage.inputs(ctx)})
    ctx.inputs_sha256[stage.name] = inputs
    record = state.stages.get(stage.name)
    reason = stage.skip(ctx) if stage.skip is not None else ""
    if reason:  # nothing to do for this kind of bundle: done, with no outputs, whatever was there
        state.stages[stage.name] = StageRecord(inputs, "done", numbers={"skipped": reason})
        state.last_run[stage.name] = {"status": "skipped", "seconds": 0.0, "reason": reason}
        build_state.save(bundle, state)
        _say(ctx, f"{title}: skipped ({reason})")
        return True
    if build_state.up_to_date(bundle, record, inputs):
        state.last_run[stage.name] = {"status": "skipped", "seconds": 0.0}
        build_state.save(bundle, state)
        _say(ctx, f"{title}: skipped (inputs and outputs unchanged)")
        return True
    resume = stage.checkpoint is not None and build_state.resumable(record, inputs, bundle / stage.checkpoint)
    _say(ctx, f"{title}: {'resuming the interrupted run' if resume else 'running'}")
    before = record.seconds if resume else 0.0
    state.stages[stage.name] = StageRecord(inputs, "running", seconds=before)
    build_state.save(bundle, state)
    began = time.monotonic()
    status = "resumed" if resume else "ran"
    try:
        ran = stage.run(ctx, resume)
    except KeyboardInterrupt:
        ran = None
    except BaseException:
        _finish(ctx, stage.name, "failed", began)
        raise
    if ran is None or ran.interrupted:
        state.stages[stage.name].status = "interrupted"
        state.stages[stage.name].seconds = before + time.monotonic() - began
        _finish(ctx, stage.name, "interrupted", began)
        return False
    rec = state.stages[stage.name]
    rec.outputs = build_state.hash_outputs(bundle, ran.outputs)
    rec.numbers = stage.numbers(bundle)
    rec.seconds = before + time.monotonic() - began
    rec.status = "done"
    _finish(ctx, stage.name, status, began)
    return True


def _finish(ctx: Context, name: str, status: str, began: float) -> None:
    ctx.state.last_run[name] = {"status": status, "seconds": round(time.monotonic() - began, 3)}
    build_state.save(ctx.bundle, ctx.state)
