"""HTML of the report: one static page, inline CSS and SVG, relative PNG links, no script.

Every value that comes from a file is escaped. Numeric table cells carry the exact value in
`data-value` next to the rounded text, so tools (and the tests) can read the page without
re-parsing formatted numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from typing import Any, Sequence

from reference_runtime.report_chart import human_size
from reference_runtime.report_data import ArtifactRow, Verdict

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a202c;
       margin: 0 auto; padding: 20px 24px 60px; max-width: 1240px; background: #f7fafc; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; border-bottom: 1px solid #cbd5e0; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 8px; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 4px 20px;
         margin: 10px 0; padding: 0; list-style: none; }
.facts li b { color: #4a5568; font-weight: 600; margin-right: 6px; }
.verdict { font-size: 20px; font-weight: 700; padding: 12px 16px; border-radius: 6px; margin: 16px 0; }
.verdict.pass { background: #c6f6d5; color: #22543d; }
.verdict.fail { background: #fed7d7; color: #742a2a; }
.verdict.partial { background: #fefcbf; color: #744210; }
.verdict ul, .verdict details { font-size: 14px; font-weight: 400; margin: 6px 0 0; }
table { border-collapse: collapse; background: #fff; font-size: 12.5px; }
th, td { border: 1px solid #e2e8f0; padding: 3px 6px; text-align: left; white-space: nowrap; }
th { background: #edf2f7; white-space: normal; vertical-align: bottom; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.status-pass { color: #22543d; background: #f0fff4; font-weight: 600; }
td.status-fail { color: #742a2a; background: #fff5f5; font-weight: 700; }
td.status-not-verified { color: #744210; background: #fffff0; }
td.notes { white-space: normal; color: #4a5568; max-width: 260px; }
.scroll { overflow-x: auto; }
.note { color: #4a5568; }
.pictures { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.card { background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: 8px; }
.card h4 { margin: 0 0 6px; font-size: 13px; font-family: ui-monospace, monospace; }
.pair { display: flex; gap: 8px; }
figure { margin: 0; }
figure img { display: block; border: 1px solid #cbd5e0; max-width: 100%; height: auto; }
.card img { image-rendering: pixelated; }
figcaption { font-size: 12px; color: #4a5568; margin-top: 3px; }
.card p { margin: 4px 0 0; font-size: 12px; color: #4a5568; }
.warning { color: #742a2a; }
svg .tick { font-size: 11px; fill: #4a5568; }
svg .axis { font-size: 12px; fill: #1a202c; }
"""


@dataclass
class Figure:
    src: str  # PNG file relative to index.html
    width: int
    height: int
    caption: str


@dataclass
class ArtifactCard:
    id: str
    output: Figure | None  # None: the artifact could not be run here (see lines)
    diff: Figure | None
    lines: list[str] = field(default_factory=list)


@dataclass
class ThemeFigures:
    theme: str
    frame: str
    scale: int
    references: list[Figure]
    cards: list[ArtifactCard]


def _fmt(value: Any, spec: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    return format(value, spec)


def _num(value: Any, text: str) -> str:
    data = "" if value is None else f' data-value="{escape(repr(value))}"'
    return f'<td class="num"{data}>{escape(text)}</td>'


def _status(status: str) -> str:
    return f'<td class="status-{escape(status.replace(" ", "-"))}" data-status="{escape(status)}">{escape(status)}</td>'


def _img(fig: Figure) -> str:
    return (f'<figure><img src="{escape(fig.src)}" width="{fig.width}" height="{fig.height}" alt="{escape(fig.caption)}">'
            f"<figcaption>{escape(fig.caption)}</figcaption></figure>")


def header(manifest: dict, parity: dict) -> str:
    pipe = manifest["pipeline"]
    facts = [("themes", ", ".join(manifest["themes"])), ("patch P", pipe["patch"]), ("stride S", pipe["stride"]),
             ("blend", pipe["blend"]), ("batch B", pipe["batch"]), ("source", manifest.get("source", {}).get("kind", "—")),
             ("tool version", manifest.get("tool_version", "—")), ("bundle created", manifest.get("created", "—")),
             ("parity checked", parity.get("created", "—")), ("artifacts", len(manifest["artifacts"]))]
    items = "".join(f"<li><b>{escape(k)}</b>{escape(str(v))}</li>" for k, v in facts)
    thresholds = ", ".join(f"{escape(k)} ≥ {v:g} dB" for k, v in parity.get("thresholds_db", {}).items())
    return (f'<h1>ygan-mobile bundle report</h1><ul class="facts" id="facts">{items}</ul>'
            f'<p class="note">Thresholds: {thresholds}.</p>')


def verdict_box(v: Verdict) -> str:
    items = [f"<li>fails: <code>{escape(i)}</code></li>" for i in v.failed]
    items += [f"<li>stand-in check fails: <code>{escape(k)}</code></li>" for k in v.stand_ins_failed]
    detail = f"<ul>{''.join(items)}</ul>" if items else ""
    if v.not_verified:
        ids = ", ".join(f"<code>{escape(i)}</code>" for i in v.not_verified)
        detail += f"<details><summary>{len(v.not_verified)} not verified</summary><p>{ids}</p></details>"
    return f'<div class="verdict {v.tone}" id="verdict" data-ok="{str(v.ok).lower()}">{escape(v.headline)}{detail}</div>'


ARTIFACT_COLUMNS = ("id", "format", "precision", "role", "theme", "backend", "size", "MACs", "max abs", "PSNR dB",
                    "min dB", "frame PSNR dB", "frame SSIM", "status", "notes")


def artifact_table(rows: list[ArtifactRow]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in ARTIFACT_COLUMNS)
    body = []
    for r in rows:
        psnr_text = "∞ (bit-exact)" if r.bit_exact else _fmt(r.psnr_db, ".2f")
        body.append(
            f'<tr data-id="{escape(r.id)}"><td>{escape(r.id)}</td><td>{escape(r.format)}</td>'
            f"<td>{escape(r.precision)}</td><td>{escape(r.role)}</td><td>{escape(r.theme or '—')}</td>"
            f"<td>{escape(r.backend or '—')}</td>"
            + _num(r.size, human_size(r.size)) + _num(r.macs, _fmt(r.macs, ","))
            + _num(r.max_abs, _fmt(r.max_abs, ".3g")) + _num(math.inf if r.bit_exact else r.psnr_db, psnr_text)
            + _num(r.threshold_db, _fmt(r.threshold_db, "g")) + _num(r.pipeline_psnr_u8_db, _fmt(r.pipeline_psnr_u8_db, ".2f"))
            + _num(r.ssim, _fmt(r.ssim, ".4f")) + _status(r.status)
            + f'<td class="notes">{escape("; ".join(r.notes))}</td></tr>')
    return (f'<div class="scroll"><table id="artifacts"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
            '<p class="note">PSNR and max abs: golden patches through the artifact against the PyTorch model, on '
            "[-1, 1] floats (data range 2; encoders: twice the largest latent); min dB: the failing threshold of the "
            "precision. Frame PSNR and SSIM: golden frames through the numpy pipeline with the artifact against the "
            "PyTorch pipeline, on 8-bit frames, worst frame.</p>")


def legend_svg(amplify: float, palette: Sequence[tuple[float, tuple[int, int, int]]]) -> str:
    """Colour bar of the heatmap, 0 to 255/amplify levels; SVG interpolates the stops as the PNGs do."""
    stops = "".join(f'<stop offset="{at:.3f}" stop-color="rgb({r},{g},{b})"/>' for at, (r, g, b) in palette)
    top = 255 / amplify
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="340" height="42" role="img" aria-label="heatmap colours">'
            f'<defs><linearGradient id="heat">{stops}</linearGradient></defs>'
            '<rect x="10" y="4" width="320" height="14" fill="url(#heat)" stroke="#a0aec0"/>'
            '<text x="10" y="34" class="tick">0</text>'
            f'<text x="170" y="34" text-anchor="middle" class="tick">{top / 2:.3g}</text>'
            f'<text x="330" y="34" text-anchor="end" class="tick">≥ {top:.3g} levels</text></svg>')


def pictures(themes: list[ThemeFigures], amplify: float, legend: str) -> str:
    if not themes:
        return '<p class="note">The bundle has no patch-model artifacts to picture.</p>'
    out = [f'<p class="note">Differences: |artifact − PyTorch| on the float output in 8-bit levels, amplified ×{amplify:g} '
           f"and colour-mapped (saturating at {255 / amplify:.3g} levels). Pictures enlarged with nearest neighbour.</p>{legend}"]
    for t in themes:
        out.append(f'<h3 id="theme-{escape(t.theme)}">Theme {escape(t.theme)} — golden {escape(t.frame)}, shown ×{t.scale}</h3>')
        cards = [f'<div class="card"><h4>reference</h4><div class="pair">{"".join(_img(f) for f in t.references)}</div></div>']
        for c in t.cards:
            figs = "".join(_img(f) for f in (c.output, c.diff) if f is not None)
            lines = "".join(f"<p>{escape(line)}</p>" for line in c.lines)
            cards.append(f'<div class="card" data-id="{escape(c.id)}"><h4>{escape(c.id)}</h4><div class="pair">{figs}</div>{lines}</div>')
        out.append(f'<div class="pictures">{"".join(cards)}</div>')
    return "".join(out)


def stand_in_table(stand_ins: list[dict], cases: dict[str, dict]) -> str:
    if not stand_ins:
        return '<p class="note">parity.json has no stand-in checks.</p>'
    head = "".join(f"<th>{c}</th>" for c in ("case", "model", "frame", "size", "P", "S", "blend", "B", "max abs",
                                               "max u8 diff", "status"))
    body = []
    for s in stand_ins:
        c = cases.get(s["key"], {})
        size = f"{c['height']}×{c['width']}" if "height" in c else "—"
        body.append(f'<tr data-key="{escape(s["key"])}"><td>{escape(s["key"])}</td><td>{escape(str(s.get("model", "—")))}</td>'
                    f"<td>{escape(str(c.get('frame', '—')))}</td><td>{size}</td><td>{escape(str(c.get('patch', '—')))}</td>"
                    f"<td>{escape(str(c.get('stride', '—')))}</td><td>{escape(str(c.get('blend', '—')))}</td>"
                    f"<td>{escape(str(c.get('batch', '—')))}</td>"
                    + _num(s.get("max_abs"), _fmt(s.get("max_abs"), ".3g")) + _num(s.get("max_u8_diff"), _fmt(s.get("max_u8_diff"), "d"))
                    + _status(str(s.get("status", "not verified"))) + "</tr>")
    return (f'<p class="note">Stand-in models (identity, per-channel affine) through the numpy pipeline against the vectors '
            f'in golden/pipeline.npz, which the Kotlin and Swift cores are tested with.</p>'
            f'<div class="scroll"><table id="stand-ins"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return _num(value, _fmt(value, ".4g"))
    if isinstance(value, int) and not isinstance(value, bool):
        return _num(value, str(value))
    return f"<td>{escape('—' if value is None else str(value))}</td>"


def bench_section(bench: dict, plot: Figure | None, plot_note: str) -> str:
    """bench.json rendered without knowing its columns: scalar facts, notes, a table of the rows' scalar fields."""
    facts = "".join(f"<li><b>{escape(k)}</b>{escape(str(v))}</li>" for k, v in bench.items() if k not in ("rows", "plot") and _scalar(v))
    notes = bench.get("notes")
    notes_html = "".join(f'<p class="note">{escape(str(n))}</p>' for n in notes) if isinstance(notes, list) else ""
    rows = bench["rows"]
    columns = list(dict.fromkeys(k for r in rows for k, v in r.items() if _scalar(v)))
    skipped = sorted({k for r in rows for k, v in r.items() if not _scalar(v)})
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(r.get(c)) for c in columns) + "</tr>" for r in rows)
    skipped_html = f'<p class="note">Per-row lists not shown: {escape(", ".join(skipped))}.</p>' if skipped else ""
    plot_html = _img(plot) if plot else (f'<p class="note">{escape(plot_note)}</p>' if plot_note else "")
    return (f'<ul class="facts">{facts}</ul>{notes_html}<div class="scroll"><table id="bench"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>{skipped_html}{plot_html}")


def page(sections: list[tuple[str, str, str]], top: str) -> str:
    """sections: (anchor, title, html); `top` is the header and verdict above them."""
    nav = " · ".join(f'<a href="#{a}">{escape(t)}</a>' for a, t, _ in sections)
    body = "".join(f'<section id="{a}"><h2>{escape(t)}</h2>{html}</section>' for a, t, html in sections)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>ygan-mobile bundle report</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
            f"<body>{top}<nav>{nav}</nav>{body}</body></html>\n")
