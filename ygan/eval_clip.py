"""`ygan eval BUNDLE --clip VIDEO`: how much an art bundle's mosaic boils on a real clip (DESIGN §11's
flicker) for the teacher, the student and the int8-full TFLite patch models, each theme.

Why a clip and not the held-out photographs: flicker is a property of a video at its own rate (a still
camera must not make the mosaic boil), so the frames are the clip's, every one, resized as the
quality stage resizes a photograph (longer side --side, cropped to whole patches) and rendered by the
same renderers on the same stride-P grid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from ygan_mobile.errors import YganError

FILENAME = "flicker.json"
PICTURE = "flicker_{theme}.png"  # input and each model at the clip's first, middle and last frame
TARGET = 1.5  # issue 42: flicker ≤ 1.5 on a real clip of a face with the `make demo` bundle
VERSION = 1

Log = Callable[[str], None]


def clip_frames(path: Path, side: int, patch: int, limit: int = 0) -> Iterator[np.ndarray]:
    """The clip's frames at its own rate (the first `limit`, 0: all), each fitted to --side and whole
    patches, decoded one at a time so a long clip never sits in memory (a bad file is refused at once)."""
    from ygan_mobile.ingest import read_video_frames
    from ygan_mobile.mosaic.heldout import fit

    decoded = read_video_frames(path)

    def fitted() -> Iterator[np.ndarray]:
        for k, frame in enumerate(decoded):
            if limit and k == limit:
                return
            yield fit(frame, side, patch)

    return fitted()


def measure_clip(bundle: Path, clip: Path, *, side: int, limit: int = 0, threads: int = 0, log: Log = lambda _: None) -> dict[str, Any]:
    """flicker.json's document and, per theme, a picture: every model over every frame of the clip,
    frame by frame, summing the input's and each output's frame-to-frame change (flicker is their ratio)."""
    from ygan.build_quality import art_bundle, model_renderers, render_threads, torch_threads
    from ygan_mobile.ingest import video_info
    from ygan_mobile.mosaic.metrics import change_ratio, frame_change

    cfg, opened = art_bundle(bundle)
    p, themes = cfg.model.patch, list(cfg.data.themes)
    info = video_info(clip)
    middle = (min(limit, info.frames) if limit else info.frames) // 2
    threads = threads or render_threads()
    moved, drawn, shown, count = 0.0, {}, [], 0
    previous: tuple[np.ndarray, dict[tuple[str, str], np.ndarray]] | None = None
    with torch_threads(threads):
        renderers, _, notes = model_renderers(bundle, opened, p, themes, threads)
        for k, frame in enumerate(clip_frames(clip, side, p, limit)):
            outs = {(name, theme): render(frame, theme) for name, render in renderers.items() for theme in themes}
            if previous is None:
                log(f"frames of {frame.shape[1]}×{frame.shape[0]} px at {info.fps:.2f} fps through {len(outs)} model-theme pairs")
            else:
                moved += frame_change(previous[0], frame)
                for key, out in outs.items():
                    drawn[key] = drawn.get(key, 0.0) + frame_change(previous[1][key], out)
            if k in (0, middle):
                shown.append((frame, outs))
            previous, count = (frame, outs), k + 1
    if count < 2:
        raise YganError(f"{clip}: {count} frame(s): flicker needs a clip of two or more frames")
    if moved == 0:
        raise YganError(f"{clip}: every frame is the same, so the clip has no change to compare the mosaic's with")
    shown.append(previous)
    scores = {name: {t: round(change_ratio(moved, drawn[(name, t)]), 4) for t in themes} for name in renderers}
    size = previous[0].shape
    doc = {"version": VERSION, "clip": clip.name, "frames": count, "fps": round(info.fps, 3),
           "size": [int(size[1]), int(size[0])], "patch": p, "target": TARGET, "flicker": scores, "notes": notes,
           "above_target": [f"{m} {t}" for m, per in scores.items() for t, v in per.items() if v > TARGET]}
    pictures = {t: _strip({"input": [f for f, _ in shown], **{n: [o[(n, t)] for _, o in shown] for n in renderers}})
                for t in themes}
    return {"doc": doc, "pictures": pictures}


def _strip(rows: dict[str, list[np.ndarray]]) -> np.ndarray:
    """One row per source (the input, then each model), the chosen frames side by side, 4 px apart."""
    gap = 4
    lines = []
    for frames in rows.values():
        h = frames[0].shape[0]
        pad = np.full((h, gap, 3), 255, np.uint8)
        lines.append(np.concatenate([x for f in frames for x in (f, pad)][:-1], axis=1))
        lines.append(np.full((gap, lines[-1].shape[1], 3), 255, np.uint8))
    return np.concatenate(lines[:-1], axis=0)


def write(measured: dict[str, Any], folder: Path) -> list[Path]:
    """flicker.json and flicker_<theme>.png into `folder` (the pictures first, the JSON last)."""
    from ygan_mobile.atomic import write_text
    from ygan_mobile.ingest import save_image

    written = []
    for theme, image in measured["pictures"].items():
        path = folder / PICTURE.format(theme=theme)
        save_image(path, image)
        written.append(path)
    write_text(folder / FILENAME, json.dumps(measured["doc"], indent=2, allow_nan=False) + "\n")
    return [folder / FILENAME, *written]


def table(doc: dict[str, Any]) -> list[str]:
    """Plain-text lines: flicker per model (rows) and theme (columns), the target beside them."""
    themes = list(next(iter(doc["flicker"].values())))
    lines = [f"flicker on {doc['clip']} ({doc['frames']} frames, {doc['size'][0]}×{doc['size'][1]} px, {doc['fps']:g} fps; "
             f"target ≤ {doc['target']:g})",
             f"{'model':<10} " + " ".join(f"{t:>9}" for t in themes)]
    for model, per in doc["flicker"].items():
        lines.append(f"{model:<10} " + " ".join(f"{per[t]:>9.2f}" for t in themes))
    lines += [f"note: {n}" for n in doc["notes"]]
    if doc["above_target"]:
        lines.append(f"WARNING: flicker above {doc['target']:g}: {', '.join(doc['above_target'])}")
    return lines
