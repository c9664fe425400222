"""The report's PSNR-against-file-size chart, drawn as inline SVG (no plotting library on the phone side).

One marker per artifact, coloured by format, on a log size axis: the trade-off a user picks a
precision from. Thresholds are drawn as dashed lines so a marker below its line reads as a failure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

FORMAT_COLOURS = {"onnx": "#2b6cb0", "tflite": "#dd6b20", "coreml": "#2f855a"}
OTHER_COLOUR = "#718096"
WIDTH, HEIGHT = 780, 380
LEFT, RIGHT, TOP, BOTTOM = 64, 190, 20, 52


@dataclass
class Point:
    id: str
    format: str
    precision: str
    size: int
    psnr_db: float | None  # None: bit-exact (drawn on the top band)
    threshold_db: float | None
    failed: bool


def human_size(n: float) -> str:
    """Decimal units, as file managers on phones show them."""
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value >= 100 else f"{value:.3g} {unit}"
    return f"{n:.0f} B"


def _size_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 steps inside [10^lo, 10^hi]; every integer mantissa when that gives fewer than three."""
    for mantissas in ((1, 2, 5), tuple(range(1, 10))):
        ticks = [m * 10.0 ** k for k in range(math.floor(lo), math.ceil(hi) + 1) for m in mantissas
                 if lo <= math.log10(m * 10.0 ** k) <= hi]
        if len(ticks) >= 3:
            return ticks
    return ticks


def _db_step(span: float) -> float:
    return next((s for s in (1, 2, 5, 10, 20, 25, 50) if span / s <= 8), 100)


def _colour(fmt: str) -> str:
    return FORMAT_COLOURS.get(fmt, OTHER_COLOUR)


def psnr_size_svg(points: list[Point]) -> str:
    """The chart as an <svg> element; an explanatory <p> instead when nothing can be plotted."""
    if not points:
        return '<p class="note">No artifact has a measured PSNR to plot.</p>'
    measured = [p.psnr_db for p in points if p.psnr_db is not None]
    thresholds = sorted({p.threshold_db for p in points if p.threshold_db is not None})
    values = measured + thresholds or [0.0]
    step = _db_step(max(values) - min(values) + 1)
    y_lo = math.floor(min(values) / step) * step - (step if min(values) % step == 0 else 0)
    y_hi = math.ceil(max(values) / step) * step
    exact_band = any(p.psnr_db is None for p in points)
    y_top = y_hi + step if exact_band else y_hi

    sizes = [math.log10(max(1, p.size)) for p in points]
    x_lo, x_hi = min(sizes) - 0.08, max(sizes) + 0.08
    if x_hi - x_lo < 0.5:
        mid = (x_hi + x_lo) / 2
        x_lo, x_hi = mid - 0.25, mid + 0.25
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(size: float) -> float:
        return LEFT + (math.log10(max(1, size)) - x_lo) / (x_hi - x_lo) * plot_w

    def sy(db: float) -> float:
        return TOP + (y_top - db) / (y_top - y_lo) * plot_h

    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="PSNR against file size">',
           f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#a0aec0"/>']
    for tick in _size_ticks(x_lo, x_hi):
        x = sx(tick)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" stroke="#edf2f7"/>')
        out.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" class="tick">{human_size(tick)}</text>')
    db = y_lo
    while db <= y_hi + 1e-9:
        y = sy(db)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#edf2f7"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{db:g}</text>')
        db += step
    if exact_band:
        y = sy(y_top)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#cbd5e0" stroke-dasharray="2 3"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">exact</text>')
    for threshold in thresholds:
        names = sorted({p.precision for p in points if p.threshold_db == threshold})
        y = sy(threshold)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#a0aec0" stroke-dasharray="6 4"/>')
        out.append(f'<text x="{LEFT + plot_w + 6}" y="{y + 4:.1f}" class="tick">≥ {threshold:g} dB {escape(", ".join(names))}</text>')
    for p in points:
        x, y = sx(p.size), sy(y_top if p.psnr_db is None else p.psnr_db)
        psnr = "bit-exact" if p.psnr_db is None else f"{p.psnr_db:.2f} dB"
        stroke = ' stroke="#c53030" stroke-width="3"' if p.failed else ' stroke="#1a202c" stroke-width="0.6"'
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{_colour(p.format)}" fill-opacity="0.85"{stroke} '
                   f'data-id="{escape(p.id)}"><title>{escape(p.id)}: {psnr}, {human_size(p.size)}</title></circle>')
    formats = list(dict.fromkeys(p.format for p in points))
    legend_y = TOP + 10
    for i, fmt in enumerate(formats):
        y = legend_y + 18 * i
        out.append(f'<circle cx="{LEFT + plot_w + 14}" cy="{y}" r="5" fill="{_colour(fmt)}"/>')
        out.append(f'<text x="{LEFT + plot_w + 24}" y="{y + 4}" class="tick">{escape(fmt)}</text>')
    if any(p.failed for p in points):
        y = legend_y + 18 * len(formats)
        out.append(f'<circle cx="{LEFT + plot_w + 14}" cy="{y}" r="5" fill="#fff" stroke="#c53030" stroke-width="3"/>')
        out.append(f'<text x="{LEFT + plot_w + 24}" y="{y + 4}" class="tick">fails its threshold</text>')
    out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" class="axis">file size (log scale)</text>')
    out.append(f'<text transform="translate(16 {TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" class="axis">'
               'PSNR against PyTorch (dB)</text>')
    out.append("</svg>")
    return "\n".join(out)
