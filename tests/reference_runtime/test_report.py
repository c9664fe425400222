"""`ygan report`: the page states the parity numbers of every artifact, its pictures are real PNGs showing
what the numpy pipeline computes, and a headless Chromium renders it with every image loaded.

The HTML is read with html.parser (never regexes on markup); numeric cells carry their exact value in
`data-value`, which is compared with parity.json and the manifest.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, Page
from reference_runtime import report_chart, report_data, report_images

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOAD_CHECK = ("<script>window.addEventListener('load', function () { var n = 0, all = document.images;"
              " for (var i = 0; i < all.length; i++) { if (all[i].complete && all[i].naturalWidth > 0) n++; }"
              " document.body.setAttribute('data-images-loaded', n + '/' + all.length); });</script>")


def _read_page(index: Path) -> Page:
    return Page(index.read_text(encoding="utf-8"))


def _value(cell: dict) -> float:
    return float(cell["attrs"]["data-value"])


@pytest.fixture(scope="module")
def bundle(tiny_bundle, tmp_path_factory) -> Path:
    """A copy of the session's tiny bundle: the report (and the verify it runs) writes into it."""
    out = tmp_path_factory.mktemp("report") / "bundle"
    shutil.copytree(tiny_bundle, out)
    return out


@pytest.fixture(scope="module")
def index(bundle) -> Path:
    from reference_runtime.report import write_report

    assert not (bundle / "parity.json").exists()
    return write_report(bundle)


def _copy(bundle: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    return copy


# --- pure helpers (fast) ---

def test_palette_gets_brighter_and_heatmap_amplifies():
    lut = report_images.palette()
    luma = lut.astype(float) @ [0.299, 0.587, 0.114]
    assert lut.shape == (256, 3) and np.all(np.diff(luma) > 0)
    a = np.zeros((2, 2, 3), np.float32)
    b = a.copy()
    b[0, 0, 1] = 2 / 127.5  # two 8-bit levels on one channel
    b[1, 1, 0] = 1.0  # far beyond saturation
    heat = report_images.heatmap(b, a, amplify=16)
    assert (heat[0, 0] == lut[32]).all() and (heat[1, 1] == lut[255]).all() and (heat[0, 1] == lut[0]).all()


def test_worst_status_wins_and_unknown_words_never_pass():
    assert report_data.worst(["pass", "pass"]) == "pass"
    assert report_data.worst(["pass", "not verified"]) == "not verified"
    assert report_data.worst(["not verified", "fail", "pass"]) == "fail"
    assert report_data.worst(["pass", "weird"]) == "weird"
    partial = report_data.Verdict(ok=True, artifacts=5, failed=[], not_verified=["coreml/x"], stand_ins=3, stand_ins_failed=[])
    assert partial.tone == "partial" and partial.headline.startswith("No failures: 4 of 5 artifacts pass, 1 not verified")
    failing = report_data.Verdict(ok=False, artifacts=5, failed=["a"], not_verified=[], stand_ins=3, stand_ins_failed=["case.1"])
    assert failing.tone == "fail" and failing.headline == "2 fail"


def test_chart_puts_markers_by_size_and_psnr():
    points = [report_chart.Point("a", "onnx", "fp32", 10_000, 140.0, 100.0, False),
              report_chart.Point("b", "tflite", "int8-full", 100_000, 30.0, 32.0, True),
              report_chart.Point("c", "tflite", "fp32", 10_000, None, 100.0, False)]
    svg = report_chart.psnr_size_svg(points)
    markers = {m["data-id"]: m for m in Page(svg).markers}
    assert set(markers) == {"a", "b", "c"}
    assert float(markers["b"]["cx"]) > float(markers["a"]["cx"]) == float(markers["c"]["cx"])
    assert float(markers["c"]["cy"]) < float(markers["a"]["cy"]) < float(markers["b"]["cy"])  # bit-exact on top
    assert markers["a"]["fill"] == report_chart.FORMAT_COLOURS["onnx"] and markers["b"]["stroke"] == "#c53030"


# --- the report of a real tiny bundle ---

@pytest.mark.slow
def test_one_row_per_artifact_with_the_parity_numbers(bundle, index):
    manifest = json.loads((bundle / "manifest.json").read_text())
    parity = json.loads((bundle / "parity.json").read_text())
    models = {m["id"]: m for m in parity["models"]}
    rows = _read_page(index).rows("artifacts")
    assert sorted(r["id"]["text"] for r in rows) == sorted(a["id"] for a in manifest["artifacts"])
    by_id = {r["id"]["text"]: r for r in rows}
    for a in manifest["artifacts"]:
        row, model = by_id[a["id"]], models[a["id"]]
        assert [row[c]["text"] for c in ("format", "precision", "role")] == [a["format"], a["precision"], a["role"]]
        assert row["theme"]["text"] == (a["theme"] or "—")
        assert _value(row["size"]) == a["size"] and _value(row["MACs"]) == a["macs"]
        assert _value(row["max abs"]) == model["max_abs"]
        psnr = model["psnr_db"] if model["psnr_db"] is not None else math.inf
        assert _value(row["PSNR dB"]) == psnr
        if math.isfinite(psnr):
            assert row["PSNR dB"]["text"] == f"{psnr:.2f}"
        frames = [p for p in parity["pipeline"] if p["id"] == a["id"]]
        if frames:
            assert _value(row["frame SSIM"]) == min(p["ssim"] for p in frames)
        assert row["status"]["attrs"]["data-status"] == report_data.worst([model["status"]] + [p["status"] for p in frames])
    assert any(p["role"] == "patch_model" for p in parity["models"]) and parity["pipeline"]


@pytest.mark.slow
def test_verdict_chart_and_stand_ins(bundle, index):
    parity = json.loads((bundle / "parity.json").read_text())
    page = _read_page(index)
    assert parity["ok"] is True
    assert page.verdict["attrs"]["data-ok"] == "true" and page.verdict["text"].startswith("All pass")
    measured = [m for m in parity["models"] if m["psnr_db"] is not None or m["max_abs"] == 0]
    assert sorted(m["data-id"] for m in page.markers) == sorted(m["id"] for m in measured)
    for marker in page.markers:
        assert marker["fill"] == report_chart.FORMAT_COLOURS[marker["data-id"].split("/")[0]]
    stand_ins = page.rows("stand-ins")
    assert [r["case"]["text"] for r in stand_ins] == [s["key"] for s in parity["stand_ins"]]
    assert [_value(r["max u8 diff"]) for r in stand_ins] == [s["max_u8_diff"] for s in parity["stand_ins"]]


@pytest.mark.slow
def test_pictures_are_pngs_of_what_the_pipeline_computes(bundle, index):
    from reference_runtime.api import open_model
    from reference_runtime.manifest import read_manifest
    from reference_runtime.report import AMPLIFY
    from reference_runtime.verify import frame_outputs

    page = _read_page(index)
    folder = index.parent
    for src in page.images:
        assert not Path(src).is_absolute() and ".." not in Path(src).parts
        with Image.open(folder / src) as image:
            assert image.format == "PNG"
            image.verify()
    b = read_manifest(bundle)
    patch_models = [a for a in b.data["artifacts"] if a["role"] == "patch_model"]
    assert len(page.images) == len(b.data["themes"]) * 2 + 2 * len(patch_models)
    frames = np.load(bundle / "golden" / "frames.npz", allow_pickle=False)
    for a in patch_models:
        stem = a["id"].replace("/", ".")
        y_float, y_u8 = frame_outputs(b, open_model(b, a["id"], threads=1))[0]
        shown = np.asarray(Image.open(folder / "img" / f"{stem}.out.png"))
        scale = shown.shape[1] // y_u8.shape[1]
        assert shown.shape[:2] == (y_u8.shape[0] * scale, y_u8.shape[1] * scale)
        assert np.array_equal(shown[::scale, ::scale], y_u8)
        heat = np.asarray(Image.open(folder / "img" / f"{stem}.diff.png"))[::scale, ::scale]
        expected = report_images.heatmap(y_float, frames[f"torch_float.{a['theme']}.0"], AMPLIFY)
        assert np.array_equal(heat, expected)
        if a["precision"] == "int8-full":
            assert len(np.unique(heat.reshape(-1, 3), axis=0)) > 1  # quantisation error is visible


@pytest.mark.slow
def test_stale_parity_is_verified_again(bundle, index, tmp_path):
    from reference_runtime.report import write_report

    copy = _copy(bundle, tmp_path)
    stale = json.loads((copy / "parity.json").read_text())
    stale["bundle_manifest_sha256"] = "0" * 64
    for m in stale["models"]:
        m["status"] = "fail"
    (copy / "parity.json").write_text(json.dumps(stale))
    page = _read_page(write_report(copy))
    fresh = json.loads((copy / "parity.json").read_text())
    assert fresh["bundle_manifest_sha256"] == json.loads((bundle / "parity.json").read_text())["bundle_manifest_sha256"]
    assert page.verdict["attrs"]["data-ok"] == "true"


@pytest.mark.slow
def test_a_failing_artifact_and_the_bench_table_are_shown(bundle, index, tmp_path):
    from reference_runtime.report import write_report

    copy = _copy(bundle, tmp_path)
    parity = json.loads((copy / "parity.json").read_text())
    victim = next(m for m in parity["models"] if m["precision"] == "int8-full" and m["role"] == "patch_model")
    victim["status"], parity["ok"] = "fail", False
    (copy / "parity.json").write_text(json.dumps(parity))
    Image.new("RGB", (60, 30), (40, 90, 160)).save(copy / "bench.png")
    rows = [{"key": "litert/int8-full/256x256", "fps": 12.5, "threads": 2, "times_ms": [1.0, 2.0]},
            {"key": "onnxruntime/fp32/256x256", "fps": 7.25, "threads": 2, "times_ms": [3.0]}]
    (copy / "bench.json").write_text(json.dumps({"rows": rows, "plot": "bench.png", "notes": ["busy machine"]}))
    index = write_report(copy)
    page = _read_page(index)
    assert page.verdict["attrs"]["data-ok"] == "false" and page.verdict["text"].startswith("1 fail")
    status = {r["id"]["text"]: r["status"]["attrs"]["data-status"] for r in page.rows("artifacts")}
    assert status[victim["id"]] == "fail" and list(status.values()).count("fail") == 1
    bench = page.rows("bench")
    assert [r["key"]["text"] for r in bench] == [r["key"] for r in rows]
    assert [_value(r["fps"]) for r in bench] == [12.5, 7.25] and "times_ms" not in page.tables["bench"]["head"]
    assert "bench.png" in page.images and np.asarray(Image.open(index.parent / "bench.png"))[0, 0].tolist() == [40, 90, 160]


def test_an_artifact_the_runtime_cannot_load_is_shown_with_the_reason_not_a_traceback(bundle, index, tmp_path, monkeypatch):
    """A student whose units died gives an int8-full file XNNPACK refuses to prepare: verify fails it, and
    the report still writes every other picture and says why that one has none."""
    from reference_runtime import report
    from reference_runtime.backends import BackendError

    copy = _copy(bundle, tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text())
    victim = next(a["id"] for a in manifest["artifacts"] if a["precision"] == "int8-full" and a["role"] == "patch_model")
    opened = report.open_model

    def open_model(b, artifact_id, **kw):
        if artifact_id == victim:
            raise BackendError(f"{artifact_id}: LiteRT cannot load it: failed to prepare")
        return opened(b, artifact_id, **kw)

    monkeypatch.setattr(report, "open_model", open_model)
    page_text = report.write_report(copy).read_text(encoding="utf-8")
    assert f"not run: {victim}: LiteRT cannot load it: failed to prepare" in page_text
    pictures = {p.name for p in (copy / "report" / "img").iterdir()}
    stem = victim.replace("/", ".")
    assert f"{stem}.out.png" not in pictures
    others = [a["id"] for a in manifest["artifacts"] if a["role"] == "patch_model" and a["id"] != victim]
    assert others and all(f"{a.replace('/', '.')}.out.png" in pictures for a in others)


@pytest.mark.slow
def test_bad_input_keeps_the_previous_report(bundle, index, tmp_path):
    from reference_runtime.report import ReportError, write_report

    copy = _copy(bundle, tmp_path)
    before = (copy / "report" / "index.html").read_bytes()
    (copy / "bench.json").write_text("{")
    with pytest.raises(ReportError, match="bench.json"):
        write_report(copy)
    assert (copy / "report" / "index.html").read_bytes() == before
    assert sorted(p.name for p in copy.iterdir() if p.name.startswith(".")) == []


@pytest.mark.slow
def test_cli_prints_the_index_and_refuses_a_missing_bundle(bundle, index, tmp_path, capsys):
    from ygan.cli import main

    copy = _copy(bundle, tmp_path)
    assert main(["report", str(copy)]) == 0
    assert Path(capsys.readouterr().out.strip()) == copy / "report" / "index.html"
    assert main(["report", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nothing" in err[0]
    assert not (tmp_path / "nothing").exists()


@pytest.mark.slow
def test_report_runs_without_torch_or_tensorflow(bundle, index, tmp_path):
    code = ("import sys; from pathlib import Path; from reference_runtime.report import write_report; "
            f"write_report(Path({str(bundle)!r}), Path({str(tmp_path / 'out')!r})); "
            "bad = [m for m in ('torch', 'tensorflow', 'ygan_mobile', 'distill', 'convert') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out" / "index.html").is_file()


# --- headless Chromium ---

def _chromium(tmp_path: Path, *args: str) -> str:
    done = subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _images_loaded(report: Path, tmp_path: Path) -> tuple[int, int]:
    """Open a copy of index.html with a load-time script that counts the images the browser decoded."""
    probe = report / "_load_check.html"
    probe.write_text(report.joinpath("index.html").read_text(encoding="utf-8").replace("</body>", LOAD_CHECK + "</body>"),
                     encoding="utf-8")
    try:
        dom = _chromium(tmp_path, "--dump-dom", probe.as_uri())
    finally:
        probe.unlink()

    class Body(HTMLParser):
        loaded = None

        def handle_starttag(self, tag, attrs):
            if tag == "body":
                Body.loaded = dict(attrs).get("data-images-loaded")

    Body().feed(dom)
    assert Body.loaded, "the load-check script did not run"
    n, total = (int(v) for v in Body.loaded.split("/"))
    return n, total


@pytest.mark.slow
def test_chromium_renders_the_page_with_every_image(bundle, index, tmp_path):
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", index.as_uri())
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(np.int16)
    assert pixels.shape == (2000, 1280, 3) and pixels.std() > 20
    assert (pixels.min(axis=2) < 200).mean() > 0.05  # text, tables, pictures: not a blank page
    green = np.abs(pixels - (198, 246, 213)).max(axis=2) <= 3  # the verdict box's CSS background
    assert green.sum() > 5000
    n, total = _images_loaded(index.parent, tmp_path)
    assert total == len(_read_page(index).images) and n == total

    broken = tmp_path / "broken"
    shutil.copytree(index.parent, broken)
    next((broken / "img").glob("*.diff.png")).unlink()
    n, total = _images_loaded(broken, tmp_path)
    assert n == total - 1


# --- mosaic quality (quality.json, written by ygan build's quality stage) ---

def _quality_doc() -> dict:
    s = {"recognisability": 0.75, "recognisability_min": 0.6, "recognisability_max": 0.9, "baseline_input": 0.02,
         "baseline_colour": 0.04, "structure_r": 0.61, "variety": 0.5, "picture_r": 0.82, "detail_r": 0.44,
         "colour_r": None, "patches": 48}
    return {"schema": "ygan-mobile/quality", "version": 1, "preset": "full", "settings": {"patch": 16, "judges": 3},
            "judge": {"accuracy": {"photo": 0.97, "stars": 0.93, "mean": 0.95}, "min_accuracy": 0.9, "counts": True},
            "frames": [{"name": "camera", "width": 64, "height": 64}], "picture_frame": "camera",
            "models": {m: {"stars": dict(s)} for m in ("teacher", "student", "int8-full")},
            "baselines": {"classical photomosaic": {"stars": dict(s, detail_r=0.6, colour_r=0.9)}},
            "sources": {"int8-full": {"stars": {"id": "tflite/patch_model/stars/int8-full", "sha256": "0" * 64}}},
            "pictures": {"stars": "quality/mosaic_stars.png"}, "warnings": ["a warning"], "notes": []}


def test_quality_section_has_a_row_per_model_the_judge_and_warnings(tmp_path):
    from reference_runtime.report_quality import load_quality, section, stale

    assert load_quality(tmp_path) is None
    (tmp_path / "quality.json").write_text('{"schema": "something else"}')
    assert load_quality(tmp_path) is None
    doc = _quality_doc()
    (tmp_path / "quality.json").write_text(json.dumps(doc))
    assert load_quality(tmp_path) == doc
    manifest = {"artifacts": [{"id": "tflite/patch_model/stars/int8-full", "sha256": "1" * 64}]}
    assert stale(doc, manifest) == ["tflite/patch_model/stars/int8-full"]
    page = Page("<html><body>" + section(doc, {}, stale(doc, manifest)) + "</body></html>")
    rows = page.rows("quality")
    assert [r["model"]["text"] for r in rows] == ["teacher (PyTorch)", "student (PyTorch)", "int8 student (TFLite int8-full)",
                                                  "baseline: classical photomosaic"]
    assert _value(rows[2]["recognisable"]) == 0.75 and rows[2]["recognisable"]["text"] == "75%"
    assert rows[2]["picture r"]["text"] == "0.82" and rows[2]["colour r"]["text"] == "—" and rows[3]["detail r"]["text"] == "0.60"
    assert rows[2]["judges: lowest–highest"]["text"] == "60–90%" and "the mean over 3 judge(s)" in section(doc, {}, [])
    text = section(doc, {}, [])
    assert "a warning" in text and 'data-counts="true"' in text and "preset <b>full</b>" in text and "Stale" not in text


@pytest.mark.slow
def test_quality_is_the_first_section_when_the_bundle_has_it(bundle, index, tmp_path):
    from reference_runtime.report import write_report

    assert '<section id="quality"' not in index.read_text()  # a bundle without quality.json: no section
    copy = _copy(bundle, tmp_path)
    (copy / "quality").mkdir()
    Image.new("RGB", (40, 20), (200, 10, 10)).save(copy / "quality" / "mosaic_stars.png")
    (copy / "quality.json").write_text(json.dumps(_quality_doc()))
    text = write_report(copy).read_text()
    assert text.index("<section id=") == text.index('<section id="quality"') < text.index('<section id="artifacts"')
    assert "mosaic/mosaic_stars.png" in Page(text).images
    assert Image.open(copy / "report" / "mosaic" / "mosaic_stars.png").size == (40, 20)
