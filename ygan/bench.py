"""`ygan bench BUNDLE`: frame time of every backend through the patch-render pipeline (DESIGN §9).

Writes BUNDLE/bench.json (rows, ratios, machine), BUNDLE/bench.md (the table) and BUNDLE/bench.png.
The stride defaults to the patch size (no overlap: the frame-rate target), not the manifest's
parity stride; `--stride` changes it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ygan_mobile.errors import YganError

if TYPE_CHECKING:
    from reference_runtime.manifest import Bundle
    from ygan.bench_runners import Setup

DEFAULT_FRAMES = "256,512,1280x720"
PLOT, TABLE = "bench.png", "bench.md"  # beside BUNDLE/bench.json


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="bundle directory (ygan build or ygan convert output)")
    parser.add_argument("--frames", default=DEFAULT_FRAMES, help=f"frame sizes, N or WxH, comma separated (default: {DEFAULT_FRAMES})")
    parser.add_argument("--repeats", type=int, default=10, help="timed frames per row, each after an untimed settling frame (default: 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed frames per row first (default: 2)")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma separated (default: 1,2)")
    parser.add_argument("--stride", type=int, default=0, help="pipeline stride (default: the patch size, no overlap)")
    parser.add_argument("--theme", help="theme whose patch model is timed (default: the bundle's first)")
    parser.add_argument("--budget", type=int, default=None,
                        help="spec v2 rows (multi-scale cells): at most N cells per frame (default: the spec's default)")
    parser.add_argument("--teacher", help="teacher run directory (default: BUNDLE/checkpoints/teacher)")
    parser.add_argument("--student", help="student run directory (default: BUNDLE/checkpoints/student)")
    parser.add_argument("--no-torch", action="store_true",
                        help="leave out the PyTorch teacher and student rows (a restoration teacher at stride 1 takes "
                             "seconds a frame)")
    parser.add_argument("--without-amx", action="store_true",
                        help="deny this process the AMX tile permission first, so XNNPACK uses its AVX-512 VNNI int8 "
                             "kernels: a diagnosis on CPUs with AMX, recorded in bench.json (Linux x86-64)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def parse_frames(text: str) -> list[tuple[int, int]]:
    """'256,512,1280x720' -> [(256, 256), (512, 512), (1280, 720)] as (width, height)."""
    out = []
    for item in (t.strip() for t in text.split(",")):
        w, _, h = item.lower().partition("x")
        try:
            size = (int(w), int(h or w))
        except ValueError:
            raise YganError(f"--frames item '{item}' is not N or WxH (e.g. 512 or 1280x720)") from None
        if min(size) < 1 or max(size) > 8192:
            raise YganError(f"--frames item '{item}': sides must be between 1 and 8192 pixels")
        out.append(size)
    if not out:
        raise YganError("--frames is empty: give e.g. 256,512,1280x720")
    return out


def parse_threads(text: str) -> list[int]:
    try:
        threads = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise YganError(f"--threads '{text}' is not a comma list of integers (e.g. 1,2)") from None
    if not threads or min(threads) < 1:
        raise YganError(f"--threads '{text}': give one or more thread counts ≥ 1")
    return list(dict.fromkeys(threads))


def open_bench_bundle(bundle: Path) -> Bundle:
    """The bundle opened through the runtime's API, as a phone opens it: every sha256 checked."""
    from reference_runtime.api import open_bundle
    from reference_runtime.bundle_files import MANIFEST
    from reference_runtime.manifest import ManifestError

    if not (bundle / MANIFEST).is_file():
        raise YganError(f"'{bundle}' has no manifest.json: pass a bundle written by 'ygan build' or 'ygan convert'")
    try:
        return open_bundle(bundle)
    except ManifestError as exc:
        raise YganError(str(exc)) from None


def _run_dir(given: str | None, default: Path, name: str, notes: list[str]) -> Path | None:
    path = Path(given) if given else default
    if path.exists():
        return path
    if given:
        raise YganError(f"--{name} '{given}' not found: pass a run directory of 'ygan {'train' if name == 'teacher' else 'distill'}'")
    notes.append(f"no PyTorch {name} row: {default} does not exist (pass --{name} DIR)")
    return None


def test_frame(bundle: Bundle, width: int, height: int) -> np.ndarray:
    """A held-out photo crop from the bundle's golden frames, resized (content barely matters for
    timing, but a real picture keeps int8 activations in their calibrated range)."""
    from PIL import Image

    entry = bundle.golden("frames")
    if entry is None:
        raise YganError(f"bundle '{bundle.root}' has no golden frames to time with: rebuild it with 'ygan convert'")
    with np.load(bundle.path(entry), allow_pickle=False) as data:
        frame = data["frame.0"]
    return np.asarray(Image.fromarray(frame).resize((width, height), Image.BILINEAR))


def cpu_snapshot() -> tuple[float, float, float] | None:
    """(wall s, busy CPU s of the whole machine, CPU s of this process), or None off Linux."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    except (OSError, ValueError, IndexError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    own = os.times()
    return time.monotonic(), (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK"), own.user + own.system


def others_cores(start: tuple | None, end: tuple | None) -> float | None:
    """Cores' worth of CPU that other processes used while we measured: the machine's busy time
    minus our own, per second. The load average can't tell, because it counts the benchmark itself."""
    if start is None or end is None or end[0] <= start[0]:
        return None
    return max(0.0, (end[1] - start[1]) - (end[2] - start[2])) / (end[0] - start[0])


def xnnpack_amx(isa: list[str], denied: bool) -> str:
    """Whether XNNPACK's AMX int8 kernels could run: 'denied' (--without-amx), 'available' (the CPU
    has AMX-INT8, and XNNPACK then picks those kernels for every int8 convolution) or 'absent'."""
    return "denied" if denied else "available" if "amx_int8" in isa else "absent"


def machine_info(without_amx: bool = False) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    from reference_runtime.cpu import cpu_description

    described = cpu_description()
    versions = {}
    for package in ("torch", "numpy", "onnxruntime", "ai-edge-litert", "onnx2tf", "tensorflow"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {"cpu": described["model"], "isa": described["isa"], "xnnpack_amx": xnnpack_amx(described["isa"], without_amx), "cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "packages": versions, "load_before": os.getloadavg()[0],
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}


def run_bench(args: argparse.Namespace) -> int:
    if args.without_amx:  # before any library of this process asks for AMX or starts XNNPACK
        _deny_amx()
    from ygan.bench_runners import load_torch
    from ygan.bench_table import ratios

    frames, threads = parse_frames(args.frames), parse_threads(args.threads)
    if args.repeats < 1 or args.warmup < 0:
        raise YganError("--repeats must be ≥ 1 and --warmup ≥ 0")
    setup, notes = bench_setup(args)
    models = load_torch(setup)
    machine = machine_info(args.without_amx)
    inputs = {f"{w}x{h}": test_frame(setup.bundle, w, h) for w, h in frames}
    began = cpu_snapshot()
    rows = time_rows(setup, models, inputs, threads, args)
    machine["load_after"] = os.getloadavg()[0]
    machine["others_cores"] = others_cores(began, cpu_snapshot())
    notes += machine_notes(machine, args.without_amx)
    names = list(inputs)
    doc = {"format": "ygan-mobile/bench", "version": 1, "bundle": str(setup.bundle.root.resolve()), "theme": setup.theme,
           "patch": setup.patch, "stride": setup.stride, "blend": setup.blend, "batch": setup.batch, "warmup": args.warmup,
           "repeats": args.repeats, "frames": names, "threads": threads, "machine": machine, "rows": rows,
           "ratios": ratios(rows, names, threads), "plot": PLOT, "notes": notes}
    write_bench(doc, setup.bundle.root)
    print_summary(doc, setup.bundle.root)
    return 0


def _deny_amx() -> None:
    from reference_runtime.cpu import deny_amx

    try:
        deny_amx()
    except RuntimeError as exc:
        raise YganError(f"--without-amx: {exc}") from None


def bench_setup(args: argparse.Namespace) -> tuple[Setup, list[str]]:
    """The bundle opened and what is timed in it: the theme, the stride (the patch size unless
    --stride) and the PyTorch run directories, with a note for each one missing."""
    from reference_runtime.api import grid_stride
    from ygan.bench_runners import Setup
    from ygan.bundle_paths import STUDENT, TEACHER

    bundle = open_bench_bundle(Path(args.bundle))
    patch = bundle.pipeline["patch"]
    stride = grid_stride(patch, args.stride)
    if not 1 <= stride <= patch:
        raise YganError(f"--stride {stride} must be between 1 and the patch size {patch}")
    theme = args.theme or bundle.themes[0]
    if theme not in bundle.themes:
        raise YganError(f"--theme {theme} is not in the bundle: it has {', '.join(bundle.themes)}")
    notes: list[str] = []
    if args.no_torch:
        if args.teacher or args.student:
            raise YganError("--no-torch times no PyTorch model: leave out --teacher and --student")
        notes.append("no PyTorch teacher or student row (--no-torch)")
        runs = (None, None)
    else:
        runs = (_run_dir(args.teacher, bundle.root / TEACHER, "teacher", notes),
                _run_dir(args.student, bundle.root / STUDENT, "student", notes))
    return Setup(bundle, theme, stride, *runs, multiscale_settings(args.budget, patch, theme, notes)), notes


def multiscale_settings(budget: int | None, patch: int, theme: str, notes: list[str]):
    """Spec v2's default settings, with --budget; refused in one line if spec v2 cannot run them. A
    restoration bundle gets none: its models correct pixels where they are, which resampling cells
    would undo, so its renders stay on the grid."""
    from reference_runtime.multiscale import Multiscale
    from ygan_mobile.data.degrade import TASKS

    if theme in TASKS:
        if budget is not None:
            raise YganError(f"--budget times spec v2's multi-scale cells, which a restoration bundle ('{theme}') does not use")
        notes.append(f"no spec v2 rows: '{theme}' is a restoration task, rendered on the grid")
        return None
    settings = Multiscale() if budget is None else Multiscale(budget=budget)
    try:
        settings.sizes(patch)
    except ValueError as exc:
        raise YganError(f"--budget {budget}: {exc}") from None
    return settings


def time_rows(setup: Setup, models, inputs: dict[str, np.ndarray], threads: list[int],
              args: argparse.Namespace) -> list[dict[str, Any]]:
    """One row per contender, frame size and thread count (interleaved timing: bench_timing.measure),
    torch's thread count set for each and put back after; a progress bar on a terminal only."""
    import torch
    from tqdm import tqdm

    from ygan.bench_runners import contenders
    from ygan.bench_timing import measure, summarise

    rows: list[dict[str, Any]] = []
    saved_threads = torch.get_num_threads()
    bar = None
    try:
        for t in threads:
            torch.set_num_threads(t)
            group = contenders(setup, models, t)
            bar = bar or tqdm(total=len(threads) * len(inputs) * len(group), desc="bench", unit="row",
                              disable=args.quiet or not sys.stderr.isatty(), dynamic_ncols=True)
            for name, frame in inputs.items():
                bar.set_postfix_str(f"{name}, {t} thread{'s' * (t > 1)}")
                samples = measure(group, frame, args.warmup, args.repeats)
                for c in group:
                    rows.append({"key": f"{c.key}/{name}", "frame": name, "width": frame.shape[1], "height": frame.shape[0],
                                 "patches": _patches(c, frame.shape, setup), **c.info,
                                 **summarise(samples[c.key]), "times_ms": [round(s * 1e3, 3) for s in samples[c.key].frame]})
                    bar.update(1)
    finally:
        torch.set_num_threads(saved_threads)
        if bar is not None:
            bar.close()
    return rows


def machine_notes(machine: dict[str, Any], without_amx: bool) -> list[str]:
    """What a reader must know about the machine before reading the times."""
    notes = []
    busy = machine["others_cores"] if machine["others_cores"] is not None else machine["load_before"]
    if busy > 0.25:
        notes.append(f"the machine was shared: other processes used {busy:.2f} of its {machine['cores']} cores on average "
                     "while this ran; read the ratios, not the absolute times")
    if without_amx:
        notes.append("XNNPACK ran without its AMX kernels (--without-amx): a diagnosis of this CPU, not what an app on it gets")
    return notes


def write_bench(doc: dict[str, Any], bundle: Path) -> None:
    """bench.png, bench.md, then bench.json (each atomically)."""
    from reference_runtime.bundle_files import BENCH
    from ygan.bench_table import markdown, plot
    from ygan_mobile.atomic import atomic_path, write_text

    with atomic_path(bundle / PLOT) as tmp:
        plot(doc, tmp)
    write_text(bundle / TABLE, markdown(doc))
    write_text(bundle / BENCH, json.dumps(doc, indent=2) + "\n")


def _patches(contender, shape: tuple[int, ...], setup: Setup) -> int:
    """Model inputs per frame: the grid's patches, or the cells of the last frame a spec v2 row drew."""
    if contender.info.get("sampling") == "multiscale":
        return len(contender.workspace.previous_layout.cells())
    return _patch_count(shape, setup.patch, setup.stride)


def _patch_count(shape: tuple[int, ...], patch: int, stride: int) -> int:
    from reference_runtime.pipeline import positions

    h, w = max(shape[0], patch), max(shape[1], patch)
    return len(positions(h, patch, stride)) * len(positions(w, patch, stride))


def print_summary(doc: dict[str, Any], bundle: Path) -> None:
    from ygan.bench_table import is_share, label, reference_point

    frame, t = reference_point(doc["frames"], doc["threads"])
    print(f"\n{frame}, {t} threads (median of {doc['repeats']} frames; full table in bench.md)")
    print(f"  {'backend':<12}{'model':<10}{'precision':<30}{'ms':>9}{'fps':>8}{'outside model':>15}{'tiling+blend':>14}")
    for r in doc["rows"]:
        if r["frame"] == frame and r["threads"] == t:
            tiling = "—" if r["tiling_share"] is None else f"{100 * r['tiling_share']:.0f}%"
            print(f"  {r['backend']:<12}{r['model']:<10}{label(r):<30}{r['median_ms']:>9.1f}{r['fps']:>8.1f}"
                  f"{100 * r['overhead_share']:>14.0f}%{tiling:>14}")
    for name, r in doc["ratios"].items():
        value = f"{100 * r['value']:.0f}%" if is_share(name) else f"{r['value']:.2f}×"
        print(f"  {name:<48}{value:>8}")
    for note in doc["notes"]:
        print(f"  note: {note}")
    print(f"bench: {(bundle / 'bench.json').resolve()}  {(bundle / 'bench.md').resolve()}  {(bundle / 'bench.png').resolve()}")
