"""What `ygan eval` writes into BUNDLE/eval: eval.json, eval.md and side-by-side pictures."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ygan.restore_eval import Evaluation, finite
from ygan_mobile.atomic import write_bytes, write_text

PICTURE_KINDS = ("input", "baseline", "teacher", "student")
CROP = 96  # pixels of each image shown, enlarged ×2 so single pixels stay visible


def to_json(e: Evaluation) -> dict:
    def clean(row: dict) -> dict:
        return {k: (finite(v) if isinstance(v, float) else v) for k, v in row.items() if k != "per_image"} | (
            {"per_image": {n: {k: finite(v) for k, v in s.items()} for n, s in row["per_image"].items()}}
            if "per_image" in row else {})
    return {"task": e.task, "degradation": e.degradation, "images": e.images, "rows": [clean(r) for r in e.rows]}


def _cell(x: float | None, digits: int) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isinf(x)) else f"{x:.{digits}f}"


def markdown(e: Evaluation) -> str:
    colour = e.task == "colorize"
    head = "| method | kind | PSNR dB | SSIM |" + (" colourfulness |" if colour else "") + " Δ PSNR vs student | size |"
    lines = [f"# ygan eval — {e.task}", "",
             f"Degradation {json.dumps(e.degradation)}; {len(e.images)} held-out images ({', '.join(e.images)}), "
             "means over images; uint8 outputs against the clean originals.", "", head,
             "|" + "---|" * (head.count("|") - 1)]
    for r in e.rows:
        cells = [r["method"], r["kind"], _cell(r["psnr"], 2), _cell(r["ssim"], 4)]
        if colour:
            cells.append(_cell(r.get("colourfulness"), 1))
        cells.append(_cell(r.get("psnr_vs_student"), 2) if r["kind"] == "artifact" else "")
        cells.append(f"{r['bytes'] / 1000:.0f} kB" if r.get("bytes") else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _label(img: np.ndarray, text: str) -> Image.Image:
    tile = Image.new("RGB", (img.shape[1], img.shape[0] + 14), "white")
    tile.paste(Image.fromarray(img), (0, 14))
    ascii_text = text.replace("σ", "sigma").replace("×", "x")  # Pillow's built-in font is ASCII only
    ImageDraw.Draw(tile).text((2, 1), ascii_text[:32], fill="black")
    return tile


def picture(e: Evaluation, index: int, artifact: str | None) -> bytes:
    """One image's centre crop: clean, then each input/baseline/teacher/student row and one artifact."""
    pair = e.pairs[index]
    h, w = pair.clean.shape[:2]
    top, left = max(0, (h - CROP) // 2), max(0, (w - CROP) // 2)

    def crop(img: np.ndarray) -> np.ndarray:
        part = img[top:top + CROP, left:left + CROP]
        return part.repeat(2, axis=0).repeat(2, axis=1)

    shown = [r for r in e.rows if r["kind"] in PICTURE_KINDS or r["method"] == artifact]
    titles = [f"{r['format']} {r['precision']}" if r["kind"] == "artifact" else r["method"] for r in shown]
    tiles = [_label(crop(pair.clean), "ground truth")] + [
        _label(crop(e.outputs[r["method"]][index]), title) for r, title in zip(shown, titles)]
    sheet = Image.new("RGB", (sum(t.width for t in tiles) + 4 * (len(tiles) - 1), tiles[0].height), "white")
    x = 0
    for t in tiles:
        sheet.paste(t, (x, 0))
        x += t.width + 4
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()


def write(e: Evaluation, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    int8 = next((r["method"] for r in e.rows if r.get("precision") == "int8-full"), None)
    written = [folder / "eval.json", folder / "eval.md"]
    write_text(written[0], json.dumps(to_json(e), indent=2) + "\n")
    write_text(written[1], markdown(e))
    for i in range(min(2, len(e.pairs))):
        path = folder / f"{e.task}_{i}.png"
        write_bytes(path, picture(e, i, int8))
        written.append(path)
    return written
