"""The web page (web_demo/): its JavaScript pipeline core under node against a bundle's golden vectors,
`ygan serve`'s headers and routes, the --web-dir copy, and the page itself in Debian's Chromium,
headless, rendering a golden frame with onnxruntime-web: fp32 within one uint8 level of the PyTorch
frame, int8 QDQ above its parity threshold, and with the multiscale sampling (spec v2) within one
level of the PyTorch v2 frame; a hash mismatch and a missing manifest show one error.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import tiny_student
from convert.bundle import convert
from convert.options import Options
from convert.samples import FRAME_SIZES
from reference_runtime import metrics
from reference_runtime.manifest import file_sha256, load_npz
from reference_runtime.serve import check_web_dir, start
from ygan.build_web import copy_to_web

WEB = Path(__file__).resolve().parents[2] / "web_demo"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("web") / "bundle"
    convert(tiny_student(), out, Options(targets=["onnx"], precisions=["fp32", "int8-qdq"], batch=2, calibration=16, golden=4))
    return out


@pytest.fixture
def served(request):
    """`ygan serve`'s server on an ephemeral port of 127.0.0.1, stopped after the test."""
    servers = []

    def serve(bundle: Path) -> str:
        server, url = start(bundle, WEB, "127.0.0.1", 0)
        servers.append(server)
        return url

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def page(url: str, *args: str) -> dict:
    done = subprocess.run(["node", "test/browser/page.mjs", url, *args], cwd=WEB, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_pipeline_core_matches_the_golden_vectors_under_node(bundle):
    golden = {g["kind"]: g for g in json.loads((bundle / "manifest.json").read_text())["golden"]}
    v1_cases, v2_cases = len(golden["pipeline"]["cases"]), len(golden["multiscale"]["stand_ins"])
    done = subprocess.run(["npm", "test", "--silent"], cwd=WEB, env={**os.environ, "YGAN_BUNDLE": str(bundle)},
                          capture_output=True, text=True, timeout=300)
    counts = dict(re.findall(r"^# (pass|fail|skipped) (\d+)$", done.stdout, re.M))
    expected = v1_cases + 5 + v2_cases + 2 + 10  # golden cases, their coverage checks, v2 cells of the real frames, hand-computed tests
    assert done.returncode == 0 and counts == {"pass": str(expected), "fail": "0", "skipped": "0"}, done.stdout[-3000:]


def test_serve_isolates_the_page_and_serves_the_bundle_under_bundle(bundle, served):
    check_web_dir(WEB)
    url = served(bundle)
    with urllib.request.urlopen(url + "bundle/manifest.json") as response:
        assert json.loads(response.read())["schema"] == "ygan-mobile/manifest"
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    with urllib.request.urlopen(url + "node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm") as response:
        assert response.headers["Content-Type"] == "application/wasm"
    with urllib.request.urlopen(url + "app.js?x=1") as response:
        assert response.headers["Content-Type"] == "text/javascript" and b"renderFrame" in response.read()


def test_web_dir_gets_manifest_onnx_and_golden(bundle, tmp_path):
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html>")
    target = copy_to_web(bundle, web)
    assert target == web / "bundle" and sorted(p.name for p in target.iterdir()) == ["golden", "manifest.json", "onnx"]
    manifest = json.loads((target / "manifest.json").read_text())
    for entry in [*manifest["artifacts"], *manifest["golden"]]:
        assert file_sha256(target / entry["path"]) == entry["sha256"]


def render_golden_frame(bundle: Path, url: str, tmp_path: Path, precision: str, goldens: str, query: str = "",
                        ) -> tuple[dict, np.ndarray, np.ndarray]:
    """Golden frame 0 of `goldens` through the page in Chromium: the page's answer, its frame, and the
    PyTorch frame, which it must match within one level (fp32) or above the int8 QDQ threshold."""
    arrays = load_npz(bundle / "golden" / goldens)
    image = tmp_path / "frame.png"
    Image.fromarray(arrays["frame.0"]).save(image)
    shot = tmp_path / f"web-{precision}.png"
    out = page(f"{url}?ep=wasm&threads=2&theme=flowers&precision={precision}{query}", "--image", str(image), "--screenshot", str(shot))
    assert out["status"] == "rendered", out
    o = out["output"]
    got = np.frombuffer(base64.b64decode(o["rgb"]), np.uint8).reshape(o["height"], o["width"], 3)
    want = arrays["torch_u8.flowers.0"]
    assert got.shape == want.shape
    if precision == "fp32":
        assert np.abs(got.astype(np.int16) - want).max() <= 1
    else:
        limit = json.loads((bundle / "manifest.json").read_text())["thresholds_db"]["int8-qdq"]
        assert metrics.psnr(got, want, data_range=255.0) >= limit
    assert Image.open(shot).size[0] >= 800
    return out, got, want


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp32", "int8-qdq"])
def test_the_page_in_chromium_renders_the_pytorch_golden_frame(bundle, served, tmp_path, precision):
    out, got, _ = render_golden_frame(bundle, served(bundle), tmp_path, precision, "frames.npz")
    assert out["crossOriginIsolated"], out
    assert f"onnx/patch_model.flowers{'' if precision == 'fp32' else '.int8-qdq'} · WASM, 2 thread(s)" in out["line"]
    assert got.shape == (*FRAME_SIZES[0], 3)


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp32", "int8-qdq"])
def test_the_page_in_chromium_renders_the_pytorch_v2_golden_frame(bundle, served, tmp_path, precision):
    """The sampling option multiscale (spec v2) on golden frame 0: fp32 within one level of the PyTorch
    v2 frame, int8 QDQ above its threshold, as the grid's test requires."""
    _, got, _ = render_golden_frame(bundle, served(bundle), tmp_path, precision, "multiscale.npz", "&sampling=multiscale")
    if precision == "fp32":
        grid = load_npz(bundle / "golden" / "frames.npz")["torch_u8.flowers.0"]
        assert np.abs(got.astype(np.int16) - grid).max() > 1  # the v2 frame, not the grid's


@pytest.mark.slow
def test_a_changed_model_or_a_missing_manifest_shows_one_error(bundle, served, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(bundle, bad)
    with open(bad / "onnx" / "patch_model.flowers.onnx", "ab") as handle:
        handle.write(b"\0")
    out = page(f"{served(bad)}?ep=wasm")
    assert out["status"] == "error" and out["error"].startswith("onnx/patch_model.flowers.onnx: sha256 "), out
    assert "does not match the manifest's" in out["error"]
    out = page(f"{served(tmp_path / 'empty')}?ep=wasm")
    assert out["status"] == "error" and "manifest.json: not found (HTTP 404)" in out["error"], out



def test_serve_refuses_a_bad_bundle_or_half_a_certificate_with_one_line(bundle, tmp_path, capsys):
    from reference_runtime.cli import main

    assert main(["serve", str(tmp_path / "nowhere"), "--port", "0"]) == 2
    assert "manifest.json: not found" in capsys.readouterr().err
    assert main(["serve", str(bundle), "--port", "0", "--cert", str(tmp_path / "c.pem")]) == 2
    assert "--cert and --key go together" in capsys.readouterr().err
