"""`python -m reference_runtime verify|report|serve|render`: the runtime's verbs without torch or tensorflow.

`ygan verify`, `ygan report` and `ygan serve` call the same functions, and `ygan render --bundle`
calls `render.render`. Exit codes: 0 every check passed (or belongs to a backend skipped with
--skip-backend) or the render was written, 1 a check failed or could not run, 2 a bundle that must
not run or bad arguments (nothing written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reference_runtime.backends import BackendError
from reference_runtime.defaults import DEFAULT_THREADS
from reference_runtime.manifest import ManifestError
from reference_runtime.multiscale import Multiscale
from reference_runtime.pipeline import BLENDS, DEFAULT_BLEND
from reference_runtime.render import DEFAULT_PRECISION, FORMATS, SAMPLINGS


def parse_thresholds(pairs: list[str]) -> dict[str, float]:
    """`fp16=70` pairs into {precision: dB}; a malformed pair is an argparse error."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not key.strip():
            raise argparse.ArgumentTypeError(f"--threshold '{pair}': expected PRECISION=DB, e.g. int8-full=35")
    return out


def add_verify_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("bundle", help="bundle directory (with manifest.json)")
    p.add_argument("--threshold", action="append", default=[], metavar="PRECISION=DB",
                   help="override a parity threshold, e.g. --threshold int8-full=35 (repeatable)")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS, help=f"runtime threads, at least 1 (default: {DEFAULT_THREADS})")
    p.add_argument("--skip-backend", action="append", default=[], metavar="FORMAT",
                   help="do not check the artifacts of this format (onnx, tflite or coreml), e.g. where its "
                        "runtime is not installed; recorded in parity.json (repeatable)")
    p.add_argument("-o", "--out", help="where to write parity.json (default: BUNDLE/parity.json)")
    p.add_argument("--no-write", action="store_true",
                   help="only check: write no parity.json, leave the bundle as it is (not with -o)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary and the failures")
    p.add_argument("--arch", choices=["aarch64"],
                   help="run the checks on this instruction set, under qemu-user with a phone core's CPU model "
                        "(install: scripts/install.sh --aarch64); Core ML artifacts are not run there")


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("bundle", help="bundle directory (runs verify first when parity.json is missing or stale)")
    p.add_argument("-o", "--out", help="report folder (default: BUNDLE/report)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines: print only the report's path and errors")


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("bundle", help="bundle directory (with manifest.json and onnx/)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1; 0.0.0.0 for a phone on the same network, see docs/web.md)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    p.add_argument("--web-dir", type=Path, default=None, help="the page's folder (default: web_demo/ of this checkout)")
    p.add_argument("--cert", type=Path, help="PEM certificate: serve https (a phone needs it for the camera and WebCrypto)")
    p.add_argument("--key", type=Path, help="PEM private key of --cert")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the URL line (no hint for phones)")


def add_render_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="an image or a video file")
    p.add_argument("-o", "--out", required=True, help="output image or video (format from the extension)")
    add_bundle_arguments(p, required=True)
    p.add_argument("--theme", action="append",
                   help="theme(s) to use, repeatable or comma-separated (default: all in the bundle); "
                        "several themes split the frame by luminance bands, darkest → first")
    p.add_argument("--stride", type=int, help="grid stride, 1 ≤ S ≤ patch (default: the patch size, as the apps render)")
    p.add_argument("--blend", choices=BLENDS, help=f"how overlapping patches combine (default: {DEFAULT_BLEND})")
    p.add_argument("--sampling", choices=SAMPLINGS, default=SAMPLINGS[0],
                   help="grid (spec v1), the salient patches only (the others keep the input), or multiscale "
                        "(spec v2: cells from --largest-cell down to --smallest-cell, split where the photograph has detail)")
    p.add_argument("--coverage", type=float, default=0.8, help="salient: fraction of patches transformed (default: 0.8)")
    add_multiscale_arguments(p)
    p.add_argument("--size", type=int, help="processing size: the frame's longer side in pixels")
    p.add_argument("--fps", type=float, help="video: output frame rate (frames resampled by time)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


# Copied from ygan_mobile.render.command.add_multiscale_arguments with MultiscaleOptions->Multiscale
def add_multiscale_arguments(p: argparse.ArgumentParser) -> None:
    """Spec v2's settings (docs/pipeline.md); None leaves the spec's default."""
    o = Multiscale()
    p.add_argument("--budget", type=int, help=f"multiscale: at most N cells (model inputs) per frame (default: {o.budget})")
    p.add_argument("--threshold", type=int,
                   help=f"multiscale: a cell splits where its luma variance (levels²) is above this (default: {o.threshold})")
    p.add_argument("--hysteresis", type=int,
                   help=f"multiscale, video: split cells stay split down to threshold − H, new ones need threshold + H (default: {o.hysteresis})")
    p.add_argument("--largest-cell", type=int, help="multiscale: largest cell in pixels, the patch times a power of two (default: 4·patch)")
    p.add_argument("--smallest-cell", type=int, help="multiscale: smallest cell in pixels, the patch over a power of two (default: patch/2)")


def add_bundle_arguments(p: argparse.ArgumentParser, required: bool) -> None:
    """Which artifacts render: `python -m reference_runtime render` and `ygan render --bundle`."""
    p.add_argument("--bundle", required=required, metavar="BUNDLE", help="bundle directory (with manifest.json): render with its artifacts")
    p.add_argument("--precision", default=DEFAULT_PRECISION, metavar="P",
                   help=f"the patch models' precision, e.g. fp32 or int8-qdq (default: {DEFAULT_PRECISION})")
    p.add_argument("--format", metavar="F", help=f"the patch models' format (default: the first of {', '.join(FORMATS)} with that precision)")
    p.add_argument("--threads", type=int, metavar="N", help=f"runtime threads, at least 1 (default: {DEFAULT_THREADS})")


def summary(doc: dict) -> str:
    counts = {s: 0 for s in ("pass", "fail", "not verified")}  # not verified: a backend skipped by name
    for row in [*doc["models"], *doc["pipeline"], *doc["stand_ins"]]:
        counts[row["status"]] += 1
    return (f"{len(doc['models'])} artifacts, {len(doc['pipeline'])} pipeline frames, {len(doc['stand_ins'])} stand-in "
            f"cases: {counts['pass']} pass, {counts['fail']} fail, {counts['not verified']} not verified")


def run_verify(args: argparse.Namespace) -> int:
    from reference_runtime.bundle_files import PARITY
    from reference_runtime.verify import OptionError, failures, verify_bundle

    try:
        thresholds = parse_thresholds(args.threshold)
    except argparse.ArgumentTypeError as exc:
        print(f"verify: error: {exc}", file=sys.stderr)
        return 2
    log = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    verify = verify_bundle
    if args.arch:  # the same checks, run by the emulated aarch64 Python
        from reference_runtime.emulate import verify_aarch64 as verify
    try:
        doc = verify(Path(args.bundle), thresholds, threads=args.threads, out=args.out, log=log,
                            skip=tuple(args.skip_backend), write=not args.no_write)
    except (ManifestError, BackendError, OptionError) as exc:
        print(f"verify: error: {exc}", file=sys.stderr)
        return 2
    for line in failures(doc):
        print(f"FAIL {line}")
    print(summary(doc))
    if not args.no_write:
        print(f"parity: {Path(args.out) if args.out else Path(args.bundle) / PARITY}")
    return 0 if doc["ok"] else 1


def run_report(args: argparse.Namespace) -> int:
    from reference_runtime.report import ReportError, write_report

    try:
        index = write_report(Path(args.bundle), Path(args.out) if args.out else None,
                             log=(lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr)))
    except (ManifestError, BackendError, ReportError) as exc:
        print(f"report: error: {exc}", file=sys.stderr)
        return 2
    print(index)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    import threading

    from reference_runtime.manifest import read_manifest
    from reference_runtime.serve import WEB_DIR, ServeError, check_web_dir, start

    web = args.web_dir or WEB_DIR
    try:
        if (args.cert is None) != (args.key is None):
            raise ServeError("--cert and --key go together (a PEM certificate and its private key)")
        read_manifest(Path(args.bundle))
        check_web_dir(web)
        server, url = start(Path(args.bundle), web, args.host, args.port, args.cert, args.key)
    except (ManifestError, ServeError, OSError) as exc:
        print(f"serve: error: {exc}", file=sys.stderr)
        return 2
    print(f"serving {args.bundle} at {url} (Ctrl-C stops)", flush=True)
    if args.host == "0.0.0.0" and not args.quiet:
        print("on a phone on the same network: the same port at this machine's address (docs/web.md)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
    return 0


def run_render(args: argparse.Namespace) -> int:
    from reference_runtime.render import ERRORS, render

    try:
        print(render(args))
    except ERRORS as exc:
        print(f"render: error: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    from reference_runtime.version import __version__

    parser = argparse.ArgumentParser(prog="python -m reference_runtime",
                                     description="Run a ygan-mobile bundle as a phone would: parity, report, page, render.")
    parser.add_argument("--version", action="version", version=f"reference_runtime (ygan-mobile) {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    add_verify_arguments(verbs.add_parser("verify", help="check per-model and pipeline parity; write parity.json"))
    add_report_arguments(verbs.add_parser("report", help="write the static HTML report of a bundle"))
    add_serve_arguments(verbs.add_parser("serve", help="serve the web page and the bundle on localhost (web_demo/)"))
    add_render_arguments(verbs.add_parser("render", help="an image or a video through the bundle's artifacts"))
    args = parser.parse_args(argv)
    return {"verify": run_verify, "report": run_report, "serve": run_serve, "render": run_render}[args.verb](args)
