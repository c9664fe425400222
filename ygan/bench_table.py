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
# shares of that row's frame time: tiling + blending (DESIGN §9's pipeline overhead), pixel
# conversion (normalising and rounding, or byte tables), and both, i.e. all time outside the model
SHARES = {
    "tiling_blending_share_int8_litert": "tiling_share",
    "convert_share_int8_litert": "convert_share",
    "overhead_share_int8_litert": "overhead_share",
}
# spec v2 (multi-scale cells): the int8-full row's share outside the model (cell choice, resampling,
# pasting and pixel conversion), and its frame rate against the grid's
MULTISCALE_SHARE = "overhead_share_int8_litert_multiscale"
MULTISCALE_RATIO = "multiscale_vs_grid_int8_litert_fps"


def is_share(name: str) -> bool:
    """Whether a ratio is a share of frame time (shown in %) rather than a speed ratio (shown as ×)."""
    return name in SHARES or name == MULTISCALE_SHARE


def reference_point(frames: list[str], threads: list[int]) -> tuple[str, int]:
    """Ratios are quoted at 512×512 and 2 threads (the issue's targets) when those were measured,
    else at the first frame and the most threads."""
    return ("512x512" if "512x512" in frames else frames[0]), (2 if 2 in threads else max(threads))


def _find(rows: list[dict], frame: str, threads: int, who: tuple[str, str, str], sampling: str = "grid") -> dict | None:
    for r in rows:
        if (r["frame"], r["threads"], r["backend"], r["model"], r["precision"], r.get("sampling", "grid")) == (
                frame, threads, *who, sampling):
            return r
    return None


def label(row: dict) -> str:
    """A row's precision column: spec v2 rows name their sampling and budget."""
    if row.get("sampling") == "multiscale":
        return f"{row['precision']}, multiscale N={row['budget']}"
    return row["precision"]


def ratios(rows: list[dict], frames: list[str], threads: list[int]) -> dict[str, dict[str, Any]]:
    frame, t = reference_point(frames, threads)
    out: dict[str, dict[str, Any]] = {}
    for name, (top, bottom) in RATIOS.items():
        a, b = _find(rows, frame, t, top), _find(rows, frame, t, bottom)
        if a and b:
            out[name] = {"value": a["fps"] / b["fps"], "frame": frame, "threads": t, "rows": [a["key"], b["key"]]}
    row = _find(rows, frame, t, OVERHEAD_ROW)
    if row:
        for name, field in SHARES.items():
            if row.get(field) is not None:
                out[name] = {"value": row[field], "frame": frame, "threads": t, "rows": [row["key"]]}
    v2 = _find(rows, frame, t, OVERHEAD_ROW, "multiscale")
    if v2:
        out[MULTISCALE_SHARE] = {"value": v2["overhead_share"], "frame": frame, "threads": t, "rows": [v2["key"]]}
        if row:
            out[MULTISCALE_RATIO] = {"value": v2["fps"] / row["fps"], "frame": frame, "threads": t,
                                     "rows": [v2["key"], row["key"]]}
    return out


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.0f}%"


def _size(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def _isa(machine: dict[str, Any]) -> str:
    """The CPU's int8-relevant ISA flags (and whether XNNPACK could use AMX); bench.json files from
    before issue 22 have none recorded."""
    if "isa" not in machine:
        return "ISA not recorded"
    amx = {"denied": "; XNNPACK's AMX kernels denied (--without-amx)", "available": "; XNNPACK uses AMX"}
    return "ISA: " + (", ".join(machine["isa"]) or "none of the listed") + amx.get(machine.get("xnnpack_amx"), "")


def _versions(machine: dict[str, Any]) -> str:
    return ", ".join(f"{name} {v}" for name, v in machine.get("packages", {}).items() if v)


def _others(machine: dict[str, Any]) -> str:
    if machine.get("others_cores") is None:
        return f"1-min load {machine['load_before']:.2f} before the run"
    return f"other processes used {machine['others_cores']:.2f} cores during the run"


def markdown(doc: dict[str, Any]) -> str:
    head = ("| frame | thr | backend | model | precision | median ms | p90 ms | fps | outside model "
            "| tiling + blending | pixel conversion | MACs/patch | params | file |")
    lines = [f"# ygan bench — {doc['bundle']}", "",
             f"theme `{doc['theme']}`, patch {doc['patch']}, stride {doc['stride']}, blend {doc['blend']}, "
             f"{doc['warmup']} warm-up + {doc['repeats']} timed frames per row (interleaved, each after an untimed "
             f"settling frame). "
             f"Machine: {doc['machine']['cpu']} ({_isa(doc['machine'])}), {doc['machine']['cores']} cores, "
             f"{_others(doc['machine'])}; {_versions(doc['machine'])}.",
             "Outside model = frame time minus time in the model call; the numpy pipeline splits it into "
             "tiling + blending and pixel conversion (normalising and rounding, or a full-integer model's byte "
             "tables); the torch pipeline does not (—).",
             "", head, "|" + "---|" * 14]
    for r in doc["rows"]:
        lines.append(f"| {r['frame']} | {r['threads']} | {r['backend']} | {r['model']} | {label(r)} "
                     f"| {r['median_ms']:.1f} | {r['p90_ms']:.1f} | {r['fps']:.1f} | {_pct(r['overhead_share'])} "
                     f"| {_pct(r.get('tiling_share'))} | {_pct(r.get('convert_share'))} "
                     f"| {_num(r['macs'], ',')} | {_num(r['params'], ',')} | {_size(r['size_bytes'])} |")
    lines += ["", "| ratio | value | at |", "|---|---|---|"]
    for name, r in doc["ratios"].items():
        value = _pct(r["value"]) if is_share(name) else f"{r['value']:.2f}×"
        lines.append(f"| {name} | {value} | {r['frame']}, {r['threads']} threads |")
    lines += [""] + [f"- {note}" for note in doc["notes"]]
    return "\n".join(lines) + "\n"


def _split(row: dict[str, Any]) -> tuple[float, float]:
    """(tiling + blending, pixel conversion) in % of the frame; all outside the model as the first
    when the pipeline did not clock its conversion (torch rows)."""
    if row.get("tiling_share") is None:
        return 100 * row["overhead_share"], 0.0
    return 100 * row["tiling_share"], 100 * row["convert_share"]


def plot(doc: dict[str, Any], path) -> None:
    """Frames per second of every contender per frame size (at the reference thread count), and
    the pipeline's share of the frame time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    frame_ref, t = reference_point(doc["frames"], doc["threads"])
    rows = [r for r in doc["rows"] if r["threads"] == t and r["model"] != "identity"]
    names = list(dict.fromkeys(f"{r['backend']} {r['model']} {label(r)}" for r in rows))
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 0.45 * len(names) + 2.2), gridspec_kw={"width_ratios": [3, 2]})
    height = 0.8 / len(doc["frames"])
    y = np.arange(len(names))
    for i, frame in enumerate(doc["frames"]):
        fps = {f"{r['backend']} {r['model']} {label(r)}": r["fps"] for r in rows if r["frame"] == frame}
        left.barh(y + i * height, [fps.get(n, 0.0) for n in names], height, label=frame)
    left.set_yticks(y + 0.4 - height / 2, names)
    left.invert_yaxis()
    left.set_xscale("log")
    left.set_xlabel(f"frames per second ({t} threads, log scale)")
    left.legend(title="frame")
    split = {f"{r['backend']} {r['model']} {label(r)}": _split(r) for r in rows if r["frame"] == frame_ref}
    tiling, convert = ([split.get(n, (0.0, 0.0))[i] for n in names] for i in (0, 1))
    right.barh(y, tiling, color="tab:gray", label="tiling + blending (torch: all outside the model)")
    right.barh(y, convert, left=tiling, color="tab:olive", label="pixel conversion")
    right.legend(loc="center right", fontsize="small")
    right.set_yticks(y, [""] * len(names))
    right.invert_yaxis()
    right.set_xlim(0, 100)
    right.set_xlabel(f"pipeline % of frame time, {frame_ref}")
    fig.suptitle(f"ygan bench: {doc['machine']['cpu']}, {doc['machine']['cores']} cores, {_others(doc['machine'])}")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)
