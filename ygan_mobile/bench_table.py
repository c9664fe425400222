"""What `ygan bench` writes: ratios computed from the measured rows, a markdown table and a plot.

Why ratios are derived here from the rows (never measured separately): every number in
`ratios` can be recomputed from `rows` in the same file, and both sides of a ratio come from the
same interleaved run, which is the only comparison that holds on a shared machine (DESIGN §9).
"""

from __future__ import annotations

from typing import Any

# name -> (numerator row, denominator row) as (backend, model, precision); None: a share, not a ratio
RATIOS = {
    "student_int8_litert_vs_teacher_pytorch_fps": (("litert", "student", "int8-full"), ("pytorch", "teacher", "fp32")),
    "student_pytorch_vs_teacher_pytorch_fps": (("pytorch", "student", "fp32"), ("pytorch", "teacher", "fp32")),
    "int8_full_vs_fp32_litert_fps": (("litert", "student", "int8-full"), ("litert", "student", "fp32")),
    "int8_dynamic_vs_fp32_litert_fps": (("litert", "student", "int8-dynamic"), ("litert", "student", "fp32")),
    "fp16_vs_fp32_litert_fps": (("litert", "student", "fp16"), ("litert", "student", "fp32")),
}
OVERHEAD_ROW = ("litert", "student", "int8-full")


def reference_point(frames: list[str], threads: list[int]) -> tuple[str, int]:
    """Ratios are quoted at 512×512 and 2 threads (the issue's targets) when those were measured,
    else at the first frame and the most threads."""
    return ("512x512" if "512x512" in frames else frames[0]), (2 if 2 in threads else max(threads))


def _find(rows: list[dict], frame: str, threads: int, who: tuple[str, str, str]) -> dict | None:
    for r in rows:
        if (r["frame"], r["threads"], r["backend"], r["model"], r["precision"]) == (frame, threads, *who):
            return r
    return None


def ratios(rows: list[dict], frames: list[str], threads: list[int]) -> dict[str, dict[str, Any]]:
    frame, t = reference_point(frames, threads)
    out: dict[str, dict[str, Any]] = {}
    for name, (top, bottom) in RATIOS.items():
        a, b = _find(rows, frame, t, top), _find(rows, frame, t, bottom)
        if a and b:
            out[name] = {"value": a["fps"] / b["fps"], "frame": frame, "threads": t, "rows": [a["key"], b["key"]]}
    row = _find(rows, frame, t, OVERHEAD_ROW)
    if row:
        out["overhead_share_int8_litert"] = {"value": row["overhead_share"], "frame": frame, "threads": t, "rows": [row["key"]]}
    return out


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _size(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def _others(machine: dict[str, Any]) -> str:
    if machine.get("others_cores") is None:
        return f"1-min load {machine['load_before']:.2f} before the run"
    return f"other processes used {machine['others_cores']:.2f} cores during the run"


def markdown(doc: dict[str, Any]) -> str:
    head = ("| frame | thr | backend | model | precision | median ms | p90 ms | fps | pipeline share "
            "| MACs/patch | params | file |")
    lines = [f"# ygan bench — {doc['bundle']}", "",
             f"theme `{doc['theme']}`, patch {doc['patch']}, stride {doc['stride']}, blend {doc['blend']}, "
             f"{doc['warmup']} warm-up + {doc['repeats']} timed frames per row (interleaved). "
             f"Machine: {doc['machine']['cpu']}, {doc['machine']['cores']} cores, {_others(doc['machine'])}.",
             "", head, "|" + "---|" * 12]
    for r in doc["rows"]:
        lines.append(f"| {r['frame']} | {r['threads']} | {r['backend']} | {r['model']} | {r['precision']} "
                     f"| {r['median_ms']:.1f} | {r['p90_ms']:.1f} | {r['fps']:.1f} | {100 * r['overhead_share']:.0f}% "
                     f"| {_num(r['macs'], ',')} | {_num(r['params'], ',')} | {_size(r['size_bytes'])} |")
    lines += ["", "| ratio | value | at |", "|---|---|---|"]
    for name, r in doc["ratios"].items():
        value = f"{100 * r['value']:.0f}%" if name.startswith("overhead") else f"{r['value']:.2f}×"
        lines.append(f"| {name} | {value} | {r['frame']}, {r['threads']} threads |")
    lines += [""] + [f"- {note}" for note in doc["notes"]]
    return "\n".join(lines) + "\n"


def plot(doc: dict[str, Any], path) -> None:
    """Frames per second of every contender per frame size (at the reference thread count), and
    the pipeline's share of the frame time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    frame_ref, t = reference_point(doc["frames"], doc["threads"])
    rows = [r for r in doc["rows"] if r["threads"] == t and r["model"] != "identity"]
    names = list(dict.fromkeys(f"{r['backend']} {r['model']} {r['precision']}" for r in rows))
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 0.45 * len(names) + 2.2), gridspec_kw={"width_ratios": [3, 2]})
    height = 0.8 / len(doc["frames"])
    y = np.arange(len(names))
    for i, frame in enumerate(doc["frames"]):
        fps = {f"{r['backend']} {r['model']} {r['precision']}": r["fps"] for r in rows if r["frame"] == frame}
        left.barh(y + i * height, [fps.get(n, 0.0) for n in names], height, label=frame)
    left.set_yticks(y + 0.4 - height / 2, names)
    left.invert_yaxis()
    left.set_xscale("log")
    left.set_xlabel(f"frames per second ({t} threads, log scale)")
    left.legend(title="frame")
    share = {f"{r['backend']} {r['model']} {r['precision']}": r["overhead_share"] for r in rows if r["frame"] == frame_ref}
    right.barh(y, [100 * share.get(n, 0.0) for n in names], color="tab:gray")
    right.set_yticks(y, [""] * len(names))
    right.invert_yaxis()
    right.set_xlim(0, 100)
    right.set_xlabel(f"pipeline (tiling + blending) % of frame time, {frame_ref}")
    fig.suptitle(f"ygan bench: {doc['machine']['cpu']}, {doc['machine']['cores']} cores, {_others(doc['machine'])}")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)
