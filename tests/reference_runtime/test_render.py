"""`python -m reference_runtime render`: the CLI writes `api.render_frame`'s bytes for every precision
this machine runs, several themes and salient sampling split the frame as `ygan render` does, a
video keeps its frame count and size, and every bad request is one line, exit 2, nothing written."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import reference_runtime as rr
from conftest import tiny_student
from convert.bundle import Options, convert
from reference_runtime import media
from reference_runtime.backends import BackendUnavailable
from reference_runtime.api import render_multiscale
from reference_runtime.cli import main as runtime_main
from reference_runtime.multiscale import Multiscale
from reference_runtime.render import progress
from reference_runtime.theme_map import luminance_bands, salient_patches


def render(*args) -> int:
    return runtime_main(["render", *map(str, args)])


def patch_models(bundle: Path, theme: str = "flowers") -> list[dict]:
    return [a for a in rr.open_bundle(bundle).artifacts if a["role"] == "patch_model" and a["theme"] == theme]


@pytest.fixture(scope="module")
def two_themes(tmp_path_factory) -> Path:
    """The tiny student with two themes, ONNX fp32 only: enough to split a frame between them."""
    out = tmp_path_factory.mktemp("themes") / "bundle"
    convert(tiny_student(("flowers", "stars")), out, Options(targets=["onnx"], precisions=["fp32"], batch=2,
                                                              calibration=16, golden=4))
    return out


@pytest.mark.parametrize("extra", [[], ["--stride", "5", "--blend", "paste"], ["--stride", "8", "--size", "30"]])
def test_the_image_is_render_frames_for_every_precision_this_machine_runs(tiny_bundle, photo, tmp_path, extra):
    frame = media.load_image(photo)
    if "--size" in extra:
        frame = media.resize_to(frame, 30)
    stride = int(extra[1]) if extra else None
    ran = []
    for artifact in patch_models(tiny_bundle):
        try:
            model = rr.open_model(tiny_bundle, artifact["id"])
        except BackendUnavailable:
            continue
        out = tmp_path / f"{artifact['format']}.{artifact['precision']}.png"
        assert render(photo, "-o", out, "--bundle", tiny_bundle, "--precision", artifact["precision"],
                      "--format", artifact["format"], "-q", *extra) == 0
        blend = {"blend": "paste"} if "paste" in extra else {}
        want = rr.render_frame(frame, model, stride=stride, **blend)
        assert np.array_equal(media.load_image(out), want), artifact["id"]
        ran.append(artifact["id"])
    assert "tflite/patch_model.flowers.int8-full" in ran and len(ran) >= 3, ran


def test_several_themes_split_by_luminance_and_salient_keeps_the_rest(two_themes, photo, tmp_path):
    frame = media.load_image(photo)
    stars, flowers = (rr.open_model(two_themes, patch_models(two_themes, t)[0]["id"]) for t in ("stars", "flowers"))
    bands = luminance_bands(frame, 16, 8, 2)
    assert 0 < bands.sum() < bands.size  # the photo's patches fall in both bands
    assert render(photo, "-o", tmp_path / "mixed.png", "--bundle", two_themes, "--precision", "fp32",
                  "--theme", "stars", "--theme", "flowers", "--stride", "8") == 0
    want = rr.render_frame(frame, [stars, flowers], stride=8, theme_map=bands)
    assert np.array_equal(media.load_image(tmp_path / "mixed.png"), want)

    assert render(photo, "-o", tmp_path / "salient.png", "--bundle", two_themes, "--precision", "fp32",
                  "--theme", "stars", "--sampling", "salient", "--coverage", "0.3") == 0
    chosen = salient_patches(frame, 16, 16, 0.3)
    want = rr.render_frame(frame, [stars, lambda x: x], theme_map=np.where(chosen, 0, 1))
    assert np.array_equal(media.load_image(tmp_path / "salient.png"), want)


def test_multiscale_sampling_writes_spec_v2s_bytes_and_carries_the_layout_through_a_video(two_themes, photo, tmp_path, capsys):
    frame = media.load_image(photo)
    stars, flowers = (rr.open_model(two_themes, patch_models(two_themes, t)[0]["id"]) for t in ("stars", "flowers"))
    assert render(photo, "-o", tmp_path / "v2.png", "--bundle", two_themes, "--precision", "fp32", "--theme", "stars,flowers",
                  "--sampling", "multiscale", "--budget", "25", "--threshold", "20") == 0
    settings = Multiscale(budget=25, threshold=20)
    want = rr.render_frame(frame, [stars, flowers], multiscale=settings)
    assert np.array_equal(media.load_image(tmp_path / "v2.png"), want)
    cells = render_multiscale(frame, [stars, flowers], multiscale=settings).layout.cells()
    assert 1 < len(cells) <= 25 and len(set(cells[:, 2].tolist())) > 1

    src = tmp_path / "still.mp4"
    media.write_video(src, [frame[:32, :48]] * 4, fps=12.0)
    assert render(src, "-o", tmp_path / "still_out.mp4", "--bundle", two_themes, "--precision", "fp32",
                  "--sampling", "multiscale") == 0
    assert "4 frames" in capsys.readouterr().out


def test_a_video_keeps_its_frame_count_and_size(tiny_bundle, tmp_path, capsys):
    src = tmp_path / "clip.mp4"
    media.write_video(src, [np.full((32, 48, 3), (30 * i, 80, 255 - 30 * i), np.uint8) for i in range(7)], fps=12.0)
    assert render(src, "-o", tmp_path / "out.mp4", "--bundle", tiny_bundle) == 0
    assert "7 frames" in capsys.readouterr().out
    assert media.video_info(tmp_path / "out.mp4") == media.VideoInfo(12.0, 48, 32, 7)
    assert render(src, "-o", tmp_path / "small.webm", "--bundle", tiny_bundle, "--fps", "6", "--size", "24") == 0
    assert [f.shape for f in media.read_video_frames(tmp_path / "small.webm")] == [(16, 24, 3)] * 4


BAD = {  # case: (what replaces the good request's input, -o or --bundle; options added)
    "stride 0": ({}, ["--stride", "0"]),
    "stride over the patch": ({}, ["--stride", "17"]),
    "coverage 0": ({}, ["--coverage", "0"]),
    "size 0": ({}, ["--size", "0"]),
    "fps 0": ({}, ["--fps", "0"]),
    "threads 0": ({}, ["--threads", "0"]),
    "unknown theme": ({}, ["--theme", "nope"]),
    "precision the bundle lacks": ({}, ["--precision", "fp16"]),
    "format the bundle lacks": ({}, ["--format", "coreml"]),
    "frame over the pixel limit": ({}, ["--size", "100000"]),
    "no bundle": ({"--bundle": "{tmp}"}, []),
    "missing input": ({"input": "{tmp}/none.png"}, []),
    "unreadable input": ({"input": "{tmp}/text.png"}, []),
    "video output for an image": ({"-o": "{tmp}/out/x.mp4"}, []),
    "output without an extension": ({"-o": "{tmp}/out/x"}, []),
    "output is a folder": ({"-o": "{tmp}"}, []),
    "budget without multiscale": ({}, ["--budget", "9"]),
    "budget 0": ({}, ["--sampling", "multiscale", "--budget", "0"]),
    "hysteresis over the threshold": ({}, ["--sampling", "multiscale", "--threshold", "4", "--hysteresis", "5"]),
    "largest cell not the patch times a power of two": ({}, ["--sampling", "multiscale", "--largest-cell", "24"]),
    "smallest cell 1": ({}, ["--sampling", "multiscale", "--smallest-cell", "1"]),
    "stride with multiscale": ({}, ["--sampling", "multiscale", "--stride", "8"]),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_request_is_one_line_exit_2_and_writes_nothing(tiny_bundle, photo, tmp_path, capsys, case):
    (tmp_path / "text.png").write_text("hello, not a png")
    replaced, extra = BAD[case]
    request = {"input": photo, "-o": tmp_path / "out" / "x.png", "--bundle": tiny_bundle,
               **{k: v.format(tmp=tmp_path) for k, v in replaced.items()}}
    before = sorted(tmp_path.rglob("*"))
    assert render(request.pop("input"), *[x for pair in request.items() for x in pair], *extra) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("render: error: "), lines
    assert sorted(tmp_path.rglob("*")) == before


def test_the_progress_bar_is_drawn_on_a_terminal_only(monkeypatch):
    frames = [np.zeros((2, 2, 3), np.uint8)] * 3
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert progress(frames, 3, quiet=False) is frames
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert progress(frames, 3, quiet=True) is frames
    bar = progress(frames, 3, quiet=False)
    assert bar is not frames and len(list(bar)) == 3
    bar.close()
