"""Mosaic quality of a bundle (DESIGN §11): the teacher, the student and the int8-full TFLite patch
models scored by one judge on the same held-out photographs, written to BUNDLE/quality.json with one
picture per theme in BUNDLE/quality/.

Why here and not in ygan_mobile/mosaic: this is the part that knows where a bundle keeps its
teacher, its student and its artifacts and how each is run (torch pipeline for the checkpoints, the
reference runtime's API with LiteRT for the artifact, bytes in and out as a phone feeds a
full-integer model); mosaic/ stays torch + numpy. Every renderer uses the stride-P grid, so each
output patch is one model call on one input patch and the judge sees exactly what the model drew.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

from reference_runtime.bundle_files import MANIFEST, PARITY, QUALITY as FILENAME
from reference_runtime.report_quality import SCHEMA
from ygan_mobile.errors import YganError

if TYPE_CHECKING:
    from reference_runtime.manifest import Bundle

VERSION = 1
PICTURES = "quality"  # BUNDLE/quality/mosaic_<theme>.png
MODELS = ("teacher", "student", "int8-full")
MAX_BASELINE = 0.2  # a baseline the judge calls the theme more often than this: the judge is fooled
TORCH_BATCH = 64
MIN_COLUMN = 384  # narrower renders are enlarged in the pictures so their labels fit

Log = Callable[[str], None]


class NotMeasurable(YganError):
    """The bundle's data leaves nothing to score or to teach the judge with (e.g. a --data-b folder so
    small that too few tiles are held out): the build records why and goes on; `ygan eval` refuses."""


@dataclass
class Measured:
    doc: dict[str, Any]  # what quality.json holds (without the picture paths)
    pictures: dict[str, np.ndarray] = field(default_factory=dict)  # theme → uint8 panel


def teacher_config(bundle: Path):
    from ygan.bundle_paths import TEACHER_CKPT
    from ygan_mobile.checkpoint import load

    path = bundle / TEACHER_CKPT
    if not path.is_file():
        raise YganError(f"'{bundle}' has no {TEACHER_CKPT}: pass a bundle made by 'ygan build'")
    return load(path.parent).config


def int8_full_artifacts(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per theme, the int8-full TFLite patch model the apps ship, if the bundle has one."""
    return {a["theme"]: a for a in manifest.get("artifacts", [])
            if a["role"] == "patch_model" and a["format"] == "tflite" and a["precision"] == "int8-full"}


def _torch_renderer(models: dict[str, Any], patch: int) -> Callable[[np.ndarray, str], np.ndarray]:
    from ygan_mobile.render.torch_pipeline import render_frame

    return lambda frame, theme: render_frame(frame, [models[theme]], patch=patch, stride=patch, batch=TORCH_BATCH)


def teacher_renderer(bundle: Path, patch: int):
    from ygan.bundle_paths import TEACHER_CKPT
    from ygan_mobile.checkpoint import load_patch_models

    models, _ = load_patch_models(bundle / TEACHER_CKPT)
    return _torch_renderer(models, patch)


def student_renderer(bundle: Path, patch: int, themes: list[str]):
    import torch

    from distill.checkpoint import load_student
    from ygan.bundle_paths import STUDENT_CKPT

    student, _ = load_student(bundle / STUDENT_CKPT)

    def wrap(module):
        @torch.no_grad()
        def run(x):
            return module(x)
        return run

    return _torch_renderer({t: wrap(student.patch_model(t).eval()) for t in themes}, patch)


def artifact_renderer(bundle: Bundle, artifacts: dict[str, dict[str, Any]], threads: int):
    """Each theme's artifact opened and driven by the runtime's API on its stride-P grid (its default):
    a full-integer model is fed bytes through its tables, as the apps do (the same path as `ygan bench`)."""
    from reference_runtime.api import open_model, render_frame
    from reference_runtime.backends import BackendError

    models = {}
    for theme, a in artifacts.items():
        try:
            models[theme] = open_model(bundle, a["id"], threads=threads)
        except BackendError as exc:
            raise YganError(f"cannot run {a['path']} for the quality stage: {exc}") from None
    return lambda frame, theme: render_frame(frame, models[theme])


def _round(scores: dict[str, float]) -> dict[str, Any]:
    return {k: (v if v is None or isinstance(v, int) else round(float(v), 4)) for k, v in scores.items()}


TARGETS = (("recognisability", "min_recognisability", "recognisable"), ("variety", "min_variety", "variety"),
           ("picture_r", "min_picture_r", "picture r"), ("detail_r", "min_detail_r", "detail r"),
           ("colour_r", "min_colour_r", "colour r"))  # (score key, target key, words)


def below_targets(doc: dict[str, Any]) -> list[str]:
    """One line per model and theme whose theme or picture numbers miss the targets of doc["targets"]."""
    targets, out = doc.get("targets", {}), []
    for model, themes in doc["models"].items():
        for theme, s in themes.items():
            missed = [f"{words} {s[key]:.3f} < {targets[limit]:.2f}" for key, limit, words in TARGETS
                      if limit in targets and s.get(key) is not None and s[key] < targets[limit]]
            if missed:
                out.append(f"{model}/{theme} below target: " + ", ".join(missed))
    return out


def weak_classes(accuracy: dict[str, float], floor: float) -> str:
    """The judge's classes (and mean) below `floor`, as "flowers 86%, …"; "" when none is: the one test of
    whether the judge's scores count, shared by the refit, quality.json and its warnings."""
    return ", ".join(f"{k} {100 * v:.0f}%" for k, v in accuracy.items() if v < floor)


def warnings(doc: dict[str, Any]) -> list[str]:
    """Why a set of numbers must not be trusted or shipped: a weak judge, a model below a target (the theme
    or the picture), or a baseline the judge calls the theme."""
    out = []
    floor = doc["judge"]["min_accuracy"]
    low = weak_classes(doc["judge"]["accuracy"], floor)
    if low:
        out.append(f"judge accuracy below {100 * floor:.0f}% ({low}): its recognisability numbers do not count")
    out += below_targets(doc)
    for model, themes in doc["models"].items():
        for theme, s in themes.items():
            for base in ("baseline_input", "baseline_colour"):
                if s[base] > MAX_BASELINE:
                    out.append(f"{model}/{theme}: {base} {100 * s[base]:.0f}% > {100 * MAX_BASELINE:.0f}%: "
                               "the judge calls unstyled patches the theme, so recognisability overstates it")
    return out


def preset_label(preset: str, overrides: list[str] | tuple[str, ...]) -> str:
    """What the pictures say made the bundle: the preset, and whether `--set` changed it."""
    if not preset:
        return ""
    return f"{preset} + {len(overrides)} override(s)" if overrides else preset


def pick_frames(frames: list) -> list[int]:
    """The photographs of every theme's picture: the held-out portrait first (a face shows at once whether
    the photograph is kept), then the largest other scored photograph (the first of equals)."""
    portraits = [i for i, f in enumerate(frames) if f.held][:1]
    others = [i for i in range(len(frames)) if i not in portraits]
    largest = max(others, key=lambda i: (frames[i].pixels.shape[0] * frames[i].pixels.shape[1], -i), default=None)
    return portraits + ([largest] if largest is not None else [])


def retry_note(accuracy: dict[str, float], steps: int, retry_steps: int) -> str:
    """Why judges fitted at `steps` are fitted again from scratch at `retry_steps`, or "" when they are
    not: only when a class (or the mean) is below MIN_JUDGE_ACCURACY and retry_steps is more than steps.
    Some held-out photographs need longer training before the judge can be trusted; a longer fit for
    every build would cost `make demo` a minute it does not have."""
    from ygan_mobile.mosaic.score import MIN_JUDGE_ACCURACY

    before = weak_classes(accuracy, MIN_JUDGE_ACCURACY)
    if not before or retry_steps <= steps:
        return ""
    return f"judges refitted at {retry_steps} steps: at {steps} they were below {100 * MIN_JUDGE_ACCURACY:.0f}% ({before})"


def measure(bundle: Path, job: Any, *, threads: int = 0, preset: str = "", targets: dict[str, float] | None = None,
            log: Log = lambda _: None) -> Measured:
    """Fit the judges on the teacher's held-out data, score every model of the bundle and the baselines,
    draw the pictures. targets: QualitySettings (ygan/build_config.py), the one source of its defaults.

    `job`: the ygan.build_judges.JudgeJob fitting the judges in a child process on one core, which the
    build starts beside convert and `ygan eval` just before; measure adds its second child (the build
    has at verify), for the judges the first has not begun. Its settings (steps, count, side, retry_steps) are the ones measured
    with, and quality.json records the steps the judges were fitted with. measure collects the job, or
    cancels it if anything fails. The renders run meanwhile on `threads` (0: one fewer than the cores,
    at least one)."""
    from ygan_mobile.mosaic.score import baseline_renderers, input_classes, input_views, judge_numbers, picture_numbers, render_all

    judged = job.settings
    try:
        job.add_worker()
        cfg, opened = art_bundle(bundle)
        p, themes = cfg.model.patch, list(cfg.data.themes)
        threads = threads or render_threads()
        with torch_threads(threads):
            held = job.held  # drawn by the job, as its children's judges were fitted on
            log(f"{judged.count} judge(s) ({judged.steps} steps each) fitted on one core while every model renders on {threads}")
            renderers, artifacts, notes = model_renderers(bundle, opened, p, themes, threads)
            baselines = baseline_renderers(held)
            rendered, pictured, seen = {}, {}, input_views(held, p)
            for name, render in {**renderers, **baselines}.items():
                log(f"rendering and measuring the picture of {name if name in renderers else f'the baseline {name!r}'}")
                rendered[name] = render_all(render, themes, held)
                pictured[name] = picture_numbers(rendered[name], held, p, seen)
            log("waiting for the judges")
            fitted = job.result()
    finally:
        job.cancel()
    log("judging every model's patches")
    notes = ([fitted.note] if fitted.note else []) + notes
    classes = input_classes(held, fitted.judges, p)
    scored = {name: {t: _round({**judged, **pictured[name][t]})
                     for t, judged in judge_numbers(out, held, fitted.judges, p, classes).items()}
              for name, out in rendered.items()}
    models = {name: scored[name] for name in renderers}
    shown = pick_frames(held.frames)
    pictures = {t: panel([(held.frames[k].name, held.frames[k].pixels, {n: rendered[n][t][k] for n in ("teacher", "int8-full") if n in renderers})
                          for k in shown], models, t, preset)
                for t in themes}
    settings = {"steps": fitted.steps, "judges": judged.count, "side": judged.side, "retry_steps": judged.retry_steps}
    doc = _document(bundle, cfg, held, fitted.accuracy, models, {name: scored[name] for name in baselines},
                    artifacts if "int8-full" in renderers else None, [held.frames[k] for k in shown], notes, preset,
                    settings, targets)
    return Measured(doc, pictures)


def render_threads() -> int:
    """The renders' threads while the judges' child takes one core: the rest, at least one."""
    return max(1, len(os.sched_getaffinity(0)) - 1)


def art_bundle(bundle: Path):
    """The teacher's config and the opened bundle (every sha256 checked); a restoration bundle is
    measured by `ygan eval TASK` instead."""
    from reference_runtime.manifest import ManifestError, read_manifest

    cfg = teacher_config(bundle)
    if cfg.data.task:
        raise YganError(f"'{bundle}' is a restoration bundle ({cfg.data.task}): measure it with 'ygan eval {cfg.data.task} {bundle}'")
    try:
        return cfg, read_manifest(bundle)
    except ManifestError as exc:
        raise YganError(str(exc)) from None


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """torch's thread count set to `count` (0: left as it is) for the block, then put back."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(count or previous)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def heldout_of(cfg, side: int, log: Log = lambda _: None):
    """The teacher's held-out photographs and theme tiles; NotMeasurable when they leave nothing to score."""
    from ygan_mobile.mosaic.heldout import heldout

    d = cfg.data
    log("held-out photographs and theme tiles")
    try:
        held = heldout(cfg.model.patch, cfg.train.seed, d.holdout, list(d.themes), d.theme_tiles, side=side,
                       data_a=d.data_a, data_b=d.data_b)
    except YganError as exc:
        raise NotMeasurable(str(exc)) from None
    if not held.frames:
        raise NotMeasurable("the teacher's split holds out no photographs to score: raise data.holdout or add photographs")
    return held


def model_renderers(bundle: Path, opened: Bundle, patch: int, themes: list[str], threads: int):
    """{model name: renderer} for the teacher, the student and, when every theme has one, the int8-full
    artifacts; those artifacts by theme; and a note when they are not scored."""
    renderers = {"teacher": teacher_renderer(bundle, patch), "student": student_renderer(bundle, patch, themes)}
    artifacts = int8_full_artifacts(opened.data)
    if not set(themes) <= set(artifacts):
        return renderers, artifacts, ["no int8-full TFLite patch model for every theme in this bundle: the shipped artifact is not scored"]
    renderers["int8-full"] = artifact_renderer(opened, artifacts, threads)
    return renderers, artifacts, []


def _document(bundle: Path, cfg, held, accuracy: dict[str, float], models: dict, baselines: dict,
              artifacts: dict[str, dict[str, Any]] | None, shown: list, notes: list[str], preset: str,
              settings: dict[str, int], targets: dict[str, float] | None) -> dict[str, Any]:
    """What quality.json holds: settings, what was scored (sha256 of each source), the judge, the
    numbers and the warnings they raise."""
    from reference_runtime.manifest import file_sha256
    from ygan.bundle_paths import STUDENT_CKPT, TEACHER_CKPT
    from ygan_mobile.mosaic.score import MIN_JUDGE_ACCURACY

    p = cfg.model.patch
    doc = {
        "schema": SCHEMA, "version": VERSION,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "preset": preset,
        "settings": {**settings, "patch": p, "stride": p, "seed": cfg.train.seed},
        "sources": {"teacher": file_sha256(bundle / TEACHER_CKPT), "student": file_sha256(bundle / STUDENT_CKPT),
                    **({"int8-full": {t: {"id": a["id"], "path": a["path"], "sha256": a["sha256"]} for t, a in artifacts.items()}}
                       if artifacts is not None else {})},
        "judge": {"accuracy": _round(accuracy), "min_accuracy": MIN_JUDGE_ACCURACY,
                  "counts": not weak_classes(accuracy, MIN_JUDGE_ACCURACY),
                  "real_patches": {t: int(len(v)) for t, v in held.test_themes.items()}},
        "frames": [{"name": f.name, "width": int(f.pixels.shape[1]), "height": int(f.pixels.shape[0])} for f in held.frames],
        "picture_frame": " and ".join(f.name for f in shown),
        "models": models,
        "baselines": baselines,
        "targets": dict(targets or {}),
        "notes": notes,
    }
    doc["warnings"] = warnings(doc)
    return doc


def spread_text(s: dict[str, Any]) -> str:
    """' (judges 80-92%)' when several judges disagree; '' for one judge or a quality.json from before."""
    lo, hi = s.get("recognisability_min"), s.get("recognisability_max")
    return "" if lo is None or hi is None or lo == hi else f" (judges {100 * lo:.0f}-{100 * hi:.0f}%)"


def _r(s: dict[str, Any], key: str) -> str:
    return "-" if s.get(key) is None else f"{s[key]:.2f}"


def numbers_lines(s: dict[str, Any]) -> list[str]:
    return [f"recognisable {100 * s['recognisability']:.0f}%{spread_text(s)}, variety {s['variety']:.2f}",
            f"picture r {_r(s, 'picture_r')}, detail r {_r(s, 'detail_r')}, colour r {_r(s, 'colour_r')}"]


def panel(rows: list[tuple[str, np.ndarray, dict[str, np.ndarray]]], models: dict, theme: str, preset: str) -> np.ndarray:
    """One row per photograph (name, input, {model: render}): input | teacher | int8 student side by side,
    every row at one column width (enlarged with nearest neighbour in tiny test builds), a title above each
    row and, under the last, each model's numbers over every scored photograph. ASCII only: Pillow's
    built-in font has no more."""
    from PIL import Image, ImageDraw, ImageFont

    w = max(MIN_COLUMN, max(inp.shape[1] for _, inp, _ in rows))
    size = max(14, w // 30)
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        font, size = ImageFont.load_default(), 11
    names = ["input (held-out photograph)"] + [("int8 student (TFLite int8-full)" if n == "int8-full" else "teacher (PyTorch)")
                                                for n in rows[0][2]]
    gap, line = 12, size + 6
    heights = [round(inp.shape[0] * w / inp.shape[1]) for _, inp, _ in rows]
    bottom = 3 * line + gap
    canvas = Image.new("RGB", (len(names) * w + (len(names) + 1) * gap, sum(heights) + len(rows) * (line + gap) + bottom),
                       (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    y = 0
    for (frame, inp, outputs), h in zip(rows, heights):
        label = f"theme {theme} - held-out photo '{frame}' {inp.shape[1]}x{inp.shape[0]}" + (f" - preset {preset}" if preset else "")
        draw.text((gap, y + gap // 2), _ascii(label), fill=(0, 0, 0), font=font)
        y += line + gap
        for i, img in enumerate([inp, *outputs.values()]):
            image = Image.fromarray(np.ascontiguousarray(img))
            resample = Image.Resampling.NEAREST if w >= inp.shape[1] else Image.Resampling.LANCZOS
            canvas.paste(image.resize((w, h), resample) if (w, h) != image.size else image, (gap + i * (w + gap), y))
        y += h
    scores = [None] + [models[n][theme] for n in rows[0][2]]
    for i, (name, s) in enumerate(zip(names, scores)):
        for k, text in enumerate([name, *(numbers_lines(s) if s is not None else [])]):
            draw.text((gap + i * (w + gap), y + 4 + k * line), _ascii(text), fill=(0, 0, 0) if k == 0 else (50, 50, 50), font=font)
    return np.asarray(canvas)


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


def write_unavailable(folder: Path, reason: str) -> Path:
    """quality.json saying why nothing was measured (the report then leaves its section out)."""
    from ygan_mobile.atomic import write_text

    path = folder / FILENAME
    write_text(path, json.dumps({"schema": SCHEMA, "version": VERSION, "unavailable": reason}, indent=2) + "\n")
    return path


def write(measured: Measured, folder: Path) -> list[Path]:
    """quality.json and quality/mosaic_<theme>.png into `folder` (the pictures first, the JSON last)."""
    from ygan_mobile.atomic import write_text
    from ygan_mobile.ingest import save_image

    pics = folder / PICTURES
    pics.mkdir(parents=True, exist_ok=True)
    for old in pics.glob("mosaic_*.png"):
        if old.stem.removeprefix("mosaic_") not in measured.pictures:
            old.unlink()
    written, doc = [], dict(measured.doc)
    doc["pictures"] = {}
    for theme, image in measured.pictures.items():
        path = pics / f"mosaic_{theme}.png"
        save_image(path, image)
        doc["pictures"][theme] = f"{PICTURES}/{path.name}"
        written.append(path)
    write_text(folder / FILENAME, json.dumps(doc, indent=2, allow_nan=False) + "\n")
    return [folder / FILENAME, *written]


SHORT = {"one stamp per cell": "stamp", "classical photomosaic": "photomosaic"}  # the baselines' names in the table


def table(doc: dict[str, Any]) -> list[str]:
    """Plain-text lines: per theme, each model and each baseline with the theme's numbers (recognisable,
    the judges' range, variety) and the picture's (picture, detail, colour and structure r), then the
    judges' score of the input and of the colour-filtered input."""
    acc = doc["judge"]["accuracy"]
    count = doc.get("settings", {}).get("judges", 1)
    lines = [f"judge accuracy on real held-out patches{f' (mean of {count} judges)' if count > 1 else ''}: mean {100 * acc['mean']:.0f}% ("
             + ", ".join(f"{k} {100 * v:.0f}%" for k, v in acc.items() if k != "mean") + ")"
             + ("" if doc["judge"]["counts"] else "  -- below 90%: recognisability does not count")]
    lines.append(f"{'theme':<9} {'model':<21} {'recognisable':>12} {'judges':>8} {'variety':>7} {'picture r':>9} {'detail r':>8} "
                 f"{'colour r':>8} {'struct r':>8} {'base in':>7} {'base col':>8}")
    rows = {**doc["models"], **{f"baseline: {SHORT.get(k, k)}": v for k, v in doc.get("baselines", {}).items()}}
    themes = list(next(iter(doc["models"].values()), {}))
    for theme in themes:
        for model, per in rows.items():
            s = per[theme]
            span = f"{100 * s.get('recognisability_min', s['recognisability']):.0f}-{100 * s.get('recognisability_max', s['recognisability']):.0f}%"
            lines.append(f"{theme:<9} {model:<21} {100 * s['recognisability']:>11.0f}% {span:>8} "
                         f"{s['variety']:>7.2f} {_r(s, 'picture_r'):>9} {_r(s, 'detail_r'):>8} {_r(s, 'colour_r'):>8} "
                         f"{s['structure_r']:>8.2f} {100 * s['baseline_input']:>6.0f}% {100 * s['baseline_colour']:>7.0f}%")
    lines += [f"note: {n}" for n in doc.get("notes", [])]
    lines += [f"WARNING: {w}" for w in doc.get("warnings", [])]
    return lines


SUMMARY_KEYS = ("recognisability", "variety", "picture_r", "detail_r", "colour_r", "structure_r", "baseline_input",
                "baseline_colour")


def manifest_summary(doc: dict[str, Any]) -> dict[str, Any]:
    """The manifest's `quality` object: the judge, and the theme's and the picture's numbers (plus both
    judge baselines) per model, baseline and theme; quality.json keeps the rest (frames, sources, settings, warnings)."""
    def keep(rows: dict) -> dict:
        return {m: {t: {k: s.get(k) for k in SUMMARY_KEYS} for t, s in themes.items()} for m, themes in rows.items()}
    return {"file": FILENAME, "judge_accuracy": doc["judge"]["accuracy"], "judge_counts": doc["judge"]["counts"],
            "models": keep(doc["models"]), "baselines": keep(doc.get("baselines", {}))}


def stamp_manifest(bundle: Path, doc: dict[str, Any]) -> tuple[str, str]:
    """Write the summary into manifest.json as its `quality` object; returns its sha256 before and after.

    parity.json pins the manifest's sha256 (DESIGN §6). Adding `quality` changes no artifact, golden
    file, pipeline parameter or threshold — nothing verify read — so a parity.json made for the
    manifest just before is re-pinned to the new bytes, with the verified sha256 kept beside it
    (`verified_manifest_sha256`); one made for any other manifest is left alone (it is stale either way)."""
    from convert.manifest import write as write_manifest
    from reference_runtime.manifest import file_sha256
    from reference_runtime.verify import write_json

    path = bundle / MANIFEST
    before = file_sha256(path)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["quality"] = manifest_summary(doc)
    write_manifest(bundle, manifest)
    after = file_sha256(path)
    parity_path = bundle / PARITY
    if parity_path.is_file():
        parity = json.loads(parity_path.read_text(encoding="utf-8"))
        if parity.get("bundle_manifest_sha256") == before and before != after:
            parity.setdefault("verified_manifest_sha256", before)
            parity["bundle_manifest_sha256"] = after
            parity["manifest_quality_added"] = True
            write_json(parity_path, parity)
    return before, after


def core_sha256(manifest: dict[str, Any]) -> str:
    """sha256 of a manifest without its `quality` object (canonical JSON): what verify depends on."""
    import hashlib

    core = {k: v for k, v in manifest.items() if k != "quality"}
    return hashlib.sha256(json.dumps(core, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()
