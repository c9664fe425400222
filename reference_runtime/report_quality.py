"""The report's first section, "Mosaic quality": what the quality stage measured (quality.json) and
its pictures, shown as they are — this module runs no model and reads no checkpoint.

quality.json names the sha256 of the int8-full artifacts it scored; when the manifest now lists other
bytes for them (a convert rerun without a quality rerun), the section says its numbers are stale
instead of silently attributing them to artifacts they were not measured on.
"""

from __future__ import annotations

import json
import shutil
from html import escape
from pathlib import Path

from reference_runtime.bundle_files import QUALITY
from reference_runtime.report_html import Figure, _img, _num

SCHEMA = "ygan-mobile/quality"
MODELS = {"teacher": "teacher (PyTorch)", "student": "student (PyTorch)", "int8-full": "int8 student (TFLite int8-full)"}


def load_quality(bundle: Path) -> dict | None:
    """BUNDLE/quality.json, or None when there is none (older bundles, restoration bundles) or it is
    not a quality document this report understands."""
    path = bundle / QUALITY
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(doc.get("models"), dict):
        return None
    return doc


def stale(doc: dict, manifest: dict) -> list[str]:
    """The scored int8-full artifacts whose bytes the manifest no longer lists."""
    by_id = {a["id"]: a for a in manifest["artifacts"]}
    scored = doc.get("sources", {}).get("int8-full", {})
    return [s["id"] for s in scored.values() if by_id.get(s["id"], {}).get("sha256") != s.get("sha256")]


def copy_pictures(bundle: Path, doc: dict, folder: Path) -> dict[str, Figure]:
    """Each theme's picture copied into the report folder (so it stands alone)."""
    from PIL import Image

    out = {}
    for theme, rel in (doc.get("pictures") or {}).items():
        source = (bundle / rel).resolve()
        if not source.is_relative_to(bundle.resolve()) or not source.is_file():
            continue
        folder.mkdir(exist_ok=True)
        target = folder / f"mosaic_{theme}.png"
        shutil.copyfile(source, target)
        with Image.open(target) as image:
            width, height = image.size
        out[theme] = Figure(f"{folder.name}/{target.name}", width, height,
                            f"theme {theme}: input | teacher | int8 student, held-out photograph(s) {doc.get('picture_frame', '?')}")
    return out


def _pct(value: float | None) -> str:
    return _num(value, "—" if value is None else f"{100 * value:.0f}%")


def _r(value: float | None) -> str:
    return _num(value, "—" if value is None else f"{value:.2f}")


def _span(s: dict) -> str:
    lo, hi = s.get("recognisability_min"), s.get("recognisability_max")
    return _num(None, "—") if lo is None or hi is None else _num(lo, f"{100 * lo:.0f}–{100 * hi:.0f}%")


def section(doc: dict, figures: dict[str, Figure], stale_ids: list[str]) -> str:
    judge = doc["judge"]
    acc = judge["accuracy"]
    frames = doc.get("frames", [])
    settings = doc.get("settings", {})
    parts = [f'<p class="note">Held-out photographs never trained on ({len(frames)}: '
             + escape(", ".join(f"{f['name']} {f['width']}×{f['height']}" for f in frames))
             + f"), rendered on the stride-P grid (P = {escape(str(settings.get('patch', '?')))}) by each model"
             + (f", preset <b>{escape(doc['preset'])}</b>" if doc.get("preset") else "") + ". "
             "Recognisable: share of output patches a luminance-only judge calls the theme, the mean over "
             f"{escape(str(settings.get('judges', 1)))} judge(s) trained alike but for their seed (the lowest and the "
             "highest single judge beside it). Variety: spread of the output patches over that of "
             "real theme patches (0 = one stamp everywhere, 1 = as varied as the theme). The picture, each a Pearson r "
             "against the input: picture r of the luminance low-passed with σ = 3 px; detail r of each cell's luminance "
             "pooled to 8×8 blocks minus the cell's mean (a stamp scores ≈ 0); colour r of the two opponent chroma "
             "channels, σ = 3 px, on the photographs that have colour; structure r of the luminance low-passed with "
             "σ = P. The judges' baselines are the input patches and the input tinted to the output's mean colour: the "
             "judge must call them the theme rarely. The rows marked baseline are mosaics without a network, scored alike: "
             "one fixed theme element per cell shifted to the cell's light, and the classical photomosaic (each cell the "
             "theme's training tile with the nearest 8×8 luminance layout, shifted to the cell's mean colour).</p>"]
    verdict = "counts" if judge.get("counts") else "does NOT count (below the minimum)"
    parts.append(f'<p id="judge" data-counts="{str(bool(judge.get("counts"))).lower()}">Judge accuracy on real held-out patches: '
                 + ", ".join(f"{escape(k)} {100 * v:.0f}%" for k, v in acc.items())
                 + f" — minimum {100 * judge.get('min_accuracy', 0.9):.0f}%: the score {verdict}.</p>")
    for w in doc.get("warnings", []):
        parts.append(f'<p class="note warning"><b>Warning:</b> {escape(w)}</p>')
    for n in doc.get("notes", []):
        parts.append(f'<p class="note">{escape(n)}</p>')
    if stale_ids:
        parts.append(f'<p class="note warning"><b>Stale:</b> measured on other bytes of {escape(", ".join(stale_ids))} '
                     "than the manifest lists now: rerun the build (or ygan eval).</p>")
    for theme, fig in figures.items():
        parts.append(f'<h3 id="mosaic-{escape(theme)}">Theme {escape(theme)}</h3>{_img(fig)}')
    head = "".join(f"<th>{c}</th>" for c in ("theme", "model", "recognisable", "judges: lowest–highest", "variety", "picture r",
                                               "detail r", "colour r", "structure r", "judges on the input",
                                               "judges on the colour-filtered input", "patches"))
    rows = []
    themes = list(dict.fromkeys(t for per in doc["models"].values() for t in per))
    named = {**{m: (m, MODELS.get(m, m)) for m in doc["models"]},
             **{f"baseline: {b}": (f"baseline:{b}", f"baseline: {b}") for b in doc.get("baselines", {})}}
    every = {**doc["models"], **{f"baseline: {b}": v for b, v in doc.get("baselines", {}).items()}}
    for theme in themes:
        for model, per in every.items():
            s = per.get(theme)
            if s is None:
                continue
            key, label = named[model]
            rows.append(f'<tr data-model="{escape(key)}" data-theme="{escape(theme)}"><td>{escape(theme)}</td>'
                        f"<td>{escape(label)}</td>" + _pct(s["recognisability"]) + _span(s)
                        + _num(s["variety"], f"{s['variety']:.2f}") + _r(s.get("picture_r")) + _r(s.get("detail_r"))
                        + _r(s.get("colour_r")) + _r(s["structure_r"])
                        + _pct(s["baseline_input"]) + _pct(s["baseline_colour"]) + _num(s.get("patches"), str(s.get("patches", "—")))
                        + "</tr>")
    parts.append(f'<div class="scroll"><table id="quality"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')
    return "".join(parts)
