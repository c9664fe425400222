"""The `ygan` command: one entry point, one verb per stage (DESIGN §7).

Bad input raises YganError anywhere below; here it becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
import time
from pathlib import Path

from ygan_mobile.errors import YganError


def _config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="quick", help="quick, full, a restoration preset (colorize, denoise, superres2, superres4, deblur, "
                        "each also as NAME-full) or a path to a TOML preset (default: quick)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override any preset value, e.g. --set train.steps=200 (repeatable)")
    parser.add_argument("--theme", action="append", default=None,
                        help="theme(s) to train, e.g. --theme flowers --theme stars (default: the preset's)")
    parser.add_argument("--data-a", help="folder of images, a video or one image for input domain A (default: embedded photos)")
    parser.add_argument("--data-b", help="folder of images, a video or one image for the theme domain (needs exactly one --theme)")
    parser.add_argument("--seed", type=int, help="random seed (default: the preset's)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def build_config(args: argparse.Namespace):
    from ygan_mobile.config import Config, apply_overrides, load_preset, teacher_tables

    overrides = list(args.overrides)
    themes = [t for item in args.theme or [] for t in item.split(",") if t]
    if themes:
        overrides.append("data.themes=[" + ",".join(f'"{t}"' for t in themes) + "]")
    if args.data_b:
        if len(themes) != 1:
            raise YganError("--data-b names the images of one theme: pass exactly one --theme NAME with it")
        overrides.append(f'data.data_b="{Path(args.data_b).as_posix()}"')
    if args.data_a:
        overrides.append(f'data.data_a="{Path(args.data_a).as_posix()}"')
    if args.seed is not None:
        overrides.append(f"train.seed={args.seed}")
    return Config.from_dict(apply_overrides(teacher_tables(load_preset(args.preset)), overrides))


def cmd_train(args: argparse.Namespace) -> int:
    from ygan.train_summary import print_train_summary
    from ygan_mobile.train import train

    cfg = build_config(args)
    began = time.monotonic()
    result = train(cfg, args.out, resume=args.resume, progress=not args.quiet)
    if result.main:
        print_train_summary(result, time.monotonic() - began)
    return 130 if result.interrupted else 0


def cmd_build(args: argparse.Namespace) -> int:
    from ygan.build import build  # here, not at the top: its config imports torch, which verify, report and serve lack

    return build(args)


TRAINING_EXTRAS = 'pip install "ygan-mobile[convert]" (the runtime alone runs verify, report and serve)'


OUR_PACKAGES = ("ygan", "ygan_mobile", "distill", "convert", "reference_runtime")


def _ours(missing: str | None) -> bool:
    """A missing module of this project is a bug to show, not an extra to install."""
    return missing is None or missing.split(".")[0] in OUR_PACKAGES


def needs_extras(args: argparse.Namespace, missing: str) -> int:
    raise YganError(f"needs the training extras, and this environment has no '{missing}': {TRAINING_EXTRAS}")


def _verb(verbs, name: str, help_text: str, module: str, adder: str, runner: str) -> None:
    """A verb whose arguments (`adder`) and function (`runner`) live in `module`; where importing it
    needs a package this environment lacks (a runtime-only install has no torch), the verb is still
    listed and says so in one line."""
    try:
        loaded = importlib.import_module(module)
        add = getattr(loaded, adder)
    except ModuleNotFoundError as exc:
        if _ours(exc.name):
            raise
        p = verbs.add_parser(name, help=f"{help_text} [needs the training extras]", add_help=False)
        p.set_defaults(func=functools.partial(needs_extras, missing=exc.name), takes_anything=True)
        return
    p = verbs.add_parser(name, help=help_text)
    add(p)
    p.set_defaults(func=getattr(loaded, runner))


def make_parser() -> argparse.ArgumentParser:
    from ygan_mobile import __version__

    parser = argparse.ArgumentParser(prog="ygan", description="Train a patch yGAN, distil it, convert it for phones, prove parity.",
                                     epilog="verify, report and serve need only the runtime; the other verbs need the training "
                                            'extras: pip install "ygan-mobile[convert]".')
    parser.add_argument("--version", action="version", version=f"ygan-mobile {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    p = verbs.add_parser("train", help="train the full-size yGAN (teacher E, Dec, G and D per theme)")
    _config_arguments(p)
    p.add_argument("-o", "--out", default="runs/teacher", help="run directory (default: runs/teacher)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.set_defaults(func=cmd_train)

    _verb(verbs, "distill", "distil a small student encoder/generator from a trained teacher", "distill.command",
          "add_distill_arguments", "run_distill")
    _verb(verbs, "convert", "convert a model to ONNX, TFLite and Core ML artifacts with a manifest", "convert.command",
          "add_convert_arguments", "run_convert")

    from reference_runtime.cli import (add_report_arguments, add_serve_arguments, add_verify_arguments, run_report,
                                       run_serve, run_verify)

    p = verbs.add_parser("verify", help="check a bundle's per-model and pipeline parity; write parity.json")
    add_verify_arguments(p)
    p.set_defaults(func=run_verify)

    p = verbs.add_parser("report", help="write the HTML report of a bundle: parity table, pictures, PSNR/size chart")
    add_report_arguments(p)
    p.set_defaults(func=run_report)

    p = verbs.add_parser("serve", help="serve the web page (web_demo/) and a bundle: the bundle live in a (phone) browser")
    add_serve_arguments(p)
    p.set_defaults(func=run_serve)

    _verb(verbs, "render", "render an image or a video through a trained model's patch pipeline (or a bundle's artifacts)",
          "ygan.render", "add_render_arguments", "run_render")

    p = verbs.add_parser("build", help="all stages into one bundle: train → distill → convert → verify → quality → report",
                         epilog="--set routes by prefix: model./data./train. → the teacher (as in ygan train), "
                                "distill.SECTION.KEY → the distill preset (e.g. distill.train.steps=500), "
                                "convert.KEY → convert options (e.g. convert.batch=8). See docs/build.md.")
    _config_arguments(p)
    p.add_argument("-o", "--out", default="bundle", help="bundle directory (default: bundle)")
    p.add_argument("--android-dir", metavar="DIR",
                   help="also copy manifest.json, tflite/ and golden/ into DIR/app/src/main/assets/bundle")
    p.add_argument("--web-dir", metavar="DIR",
                   help="also copy manifest.json, onnx/ and golden/ into DIR/bundle (the web page, e.g. web_demo)")
    p.set_defaults(func=cmd_build)

    _verb(verbs, "bench", "frame time of every backend of a bundle through the patch-render pipeline", "ygan.bench",
          "add_bench_arguments", "run_bench")
    _verb(verbs, "eval", "quality on held-out images: an art bundle's mosaic quality (ygan eval BUNDLE), a restoration "
          "bundle against ground truth beside classical baselines (ygan eval PRESET BUNDLE)", "ygan.eval",
          "add_eval_arguments", "run_eval")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "takes_anything", False):  # a verb without its extras only says so
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        try:
            return args.func(args)
        except ModuleNotFoundError as exc:  # train and build import their packages only when they run
            if _ours(exc.name):
                raise
            needs_extras(args, exc.name)
    except YganError as exc:
        print(f"ygan {args.verb}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
