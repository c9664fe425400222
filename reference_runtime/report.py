"""`ygan report`: a static HTML folder showing what a bundle's artifacts do and how close they are to PyTorch.

Reads the bundle through the verified manifest reader, opens with the mosaic quality the build
measured (quality.json and its pictures, when there are any), takes the parity numbers from
parity.json (running verify first when it is missing or was made for another manifest), and draws its pictures by running
each patch-model artifact through the numpy pipeline, the way a phone would. The folder is built
beside its destination and swapped in at the end, so a failed run never leaves half a report.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from reference_runtime import report_html as html
from reference_runtime.api import open_model
from reference_runtime.backends import BackendError
from reference_runtime.bundle_files import BENCH, MANIFEST, PARITY
from reference_runtime.defaults import DEFAULT_THREADS
from reference_runtime.manifest import Bundle, read_manifest
from reference_runtime.report_chart import Point, psnr_size_svg
from reference_runtime.report_data import ArtifactRow, artifact_rows, pipeline_entry, verdict
from reference_runtime.report_quality import copy_pictures, load_quality, section as quality_section, stale
from reference_runtime.report_images import PALETTE_STOPS, difference_levels, heatmap, save_png, scale_for
from reference_runtime.verify import SCHEMA as PARITY_SCHEMA, frame_outputs, unwritable, verify_bundle

AMPLIFY = 32.0  # heatmap gain: int8 errors of 1–2 levels become visible, 8+ levels saturate
FRAME = 0  # the golden frame pictured (the largest crop)

Log = Callable[[str], None]


class ReportError(Exception):
    """Bad input for the report (not the bundle itself: read_manifest raises ManifestError for that)."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_parity(bundle: Path, threads: int, log: Log) -> dict:
    """parity.json if it was made for this manifest; otherwise verify now (which rewrites it)."""
    path = bundle / PARITY
    if path.is_file():
        try:
            doc = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            doc = None
        if (isinstance(doc, dict) and doc.get("schema") == PARITY_SCHEMA
                and doc.get("bundle_manifest_sha256") == _sha256(bundle / MANIFEST)):
            return doc
        log("parity.json is stale or unreadable: running verify first")
    else:
        log("no parity.json yet: running verify first")
    return verify_bundle(bundle, threads=threads)


def load_bench(bundle: Path) -> dict | None:
    path = bundle / BENCH
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path} is not valid JSON ({exc}): run 'ygan bench' again or delete it") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list) or not all(isinstance(r, dict) for r in doc["rows"]):
        raise ReportError(f"{path} has no list of rows: run 'ygan bench' again or delete it")
    return doc


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _figure(image: np.ndarray, folder: Path, name: str, scale: int, caption: str) -> html.Figure:
    save_png(image, folder / name, scale)
    return html.Figure(f"{folder.name}/{name}", image.shape[1] * scale, image.shape[0] * scale, caption)


def _golden_frames(b: Bundle) -> dict[str, np.ndarray] | None:
    entry = next((g for g in b.data["golden"] if g["kind"] == "frames"), None)
    if entry is None:
        return None
    with np.load(b.root / entry["path"], allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def theme_pictures(b: Bundle, parity: dict, folder: Path, amplify: float, threads: int, log: Log) -> list[html.ThemeFigures]:
    """Per theme: golden frame, PyTorch output, then each patch-model artifact's output and difference."""
    frames = _golden_frames(b)
    if frames is None or f"frame.{FRAME}" not in frames:
        return []
    folder.mkdir()
    frame = frames[f"frame.{FRAME}"]
    scale = scale_for(frame.shape[1])
    out = []
    for theme in b.data["themes"]:
        torch_float, torch_u8 = frames[f"torch_float.{theme}.{FRAME}"], frames[f"torch_u8.{theme}.{FRAME}"]
        refs = [_figure(frame, folder, f"{_safe(theme)}.input.png", scale, "golden input"),
                _figure(torch_u8, folder, f"{_safe(theme)}.torch.png", scale, "PyTorch pipeline")]
        cards = []
        for a in b.data["artifacts"]:
            if a["role"] != "patch_model" or a["theme"] != theme:
                continue
            log(f"pictures: {a['id']}")
            check = pipeline_entry(parity, a["id"], FRAME) or {}
            try:
                runner = open_model(b, a["id"], threads=threads)
            except BackendError as exc:  # verify has failed it for the same reason: the report shows why, not a traceback
                cards.append(html.ArtifactCard(a["id"], None, None, [f"not run: {exc}"]))
                continue
            y_float, y_u8 = frame_outputs(b, runner)[FRAME]
            stem = _safe(a["id"].replace("/", "."))
            lines = [f"max |Δ| {difference_levels(y_float, torch_float).max():.3g} levels"]
            if check:
                psnr = "∞ (identical)" if check.get("psnr_u8_db") is None else f"{check['psnr_u8_db']:.2f} dB"
                lines.append(f"frame PSNR {psnr}, SSIM {check['ssim']:.4f}, {check['status']}")
            cards.append(html.ArtifactCard(
                a["id"], _figure(y_u8, folder, f"{stem}.out.png", scale, "artifact, numpy pipeline"),
                _figure(heatmap(y_float, torch_float, amplify), folder, f"{stem}.diff.png", scale, f"|Δ| ×{amplify:g}"), lines))
        out.append(html.ThemeFigures(theme, f"frame.{FRAME} ({frame.shape[0]}×{frame.shape[1]})", scale, refs, cards))
    return out


def bench_plot(bundle: Path, bench: dict, folder: Path) -> tuple[html.Figure | None, str]:
    """Copy bench.json's plot into the report (re-encoded as PNG) so the folder stands alone."""
    name = bench.get("plot")
    if not isinstance(name, str) or not name:
        return None, ""
    source = (bundle / name).resolve()
    if not source.is_relative_to(bundle.resolve()):
        return None, f"bench.json names a plot outside the bundle ({name}): not shown"
    try:
        with Image.open(source) as image:
            image = image.convert("RGB")
    except (OSError, Image.DecompressionBombError):
        return None, f"bench.json names the plot {name}, which is missing or not an image"
    image.save(folder / "bench.png", format="PNG")
    return html.Figure("bench.png", image.width, image.height, f"ygan bench plot ({name})"), ""


def chart_points(rows: list[ArtifactRow]) -> list[Point]:
    return [Point(r.id, r.format, r.precision, r.size, r.psnr_db, r.threshold_db, r.status == "fail")
            for r in rows if r.measured]


def render(b: Bundle, parity: dict, bench: dict | None, folder: Path, amplify: float, threads: int, log: Log) -> str:
    rows = artifact_rows(b.data, parity)
    themes = theme_pictures(b, parity, folder / "img", amplify, threads, log)
    points = chart_points(rows)
    skipped = len(rows) - len(points)
    chart = psnr_size_svg(points) + (f'<p class="note">{skipped} artifact(s) without a measured PSNR are not plotted.</p>'
                                     if skipped else "")
    stand_in_golden = next((g for g in b.data["golden"] if g["kind"] == "pipeline"), {})
    cases = {c["key"]: c for c in stand_in_golden.get("cases", [])}
    sections = []
    quality = load_quality(b.root)
    if quality is not None:  # first: whether the output is worth computing, before whether it is computed right
        figures = copy_pictures(b.root, quality, folder / "mosaic")
        sections.append(("quality", "Mosaic quality", quality_section(quality, figures, stale(quality, b.data))))
    sections += [("artifacts", "Artifacts", html.artifact_table(rows)),
                ("chart", "PSNR against file size", chart),
                ("pictures", "Pictures", html.pictures(themes, amplify, html.legend_svg(amplify, PALETTE_STOPS))),
                ("stand-ins", "Pipeline stand-in checks", html.stand_in_table(parity.get("stand_ins", []), cases))]
    if bench is not None:
        plot, note = bench_plot(b.root, bench, folder)
        sections.append(("bench", "Benchmark (bench.json)", html.bench_section(bench, plot, note)))
    top = html.header(b.data, parity) + html.verdict_box(verdict(rows, parity))
    return html.page(sections, top)


def _swap(built: Path, target: Path) -> None:
    """Replace `target` by `built`; the old report is moved aside first and restored if the move fails."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rmdir(old)
        os.replace(target, old)
    try:
        os.replace(built, target)
    except OSError:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old)


def write_report(bundle: Path, out: Path | None = None, *, threads: int = DEFAULT_THREADS, amplify: float = AMPLIFY,
                 log: Log = lambda message: None) -> Path:
    """Write <bundle>/report/index.html (or <out>/index.html) and its images; returns the index path."""
    if amplify <= 0:
        raise ReportError(f"the heatmap gain must be positive, got {amplify}")
    bundle = Path(bundle)
    b = read_manifest(bundle)
    target = Path(out) if out is not None else bundle / "report"
    problem = "is a file, not a folder" if target.exists() and not target.is_dir() else \
        unwritable(target.parent / f".{target.name}.new")
    if problem:  # before verify runs, not after
        raise ReportError(f"{target}: {problem}: choose a writable folder with -o")
    parity = load_parity(bundle, threads, log)
    bench = load_bench(bundle)
    target.parent.mkdir(parents=True, exist_ok=True)
    built = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    built.chmod(0o755)  # mkdtemp makes it private; the report is meant to be shared
    try:
        (built / "index.html").write_text(render(b, parity, bench, built, amplify, threads, log), encoding="utf-8")
        _swap(built, target)
    finally:
        shutil.rmtree(built, ignore_errors=True)
    return target / "index.html"
