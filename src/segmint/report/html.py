"""Render ``report.html``: one self-contained page that works offline and prints.

plotly.js is embedded once (``get_plotlyjs``); every chart is a Plotly figure with its
data inline; nothing is fetched from the network (no fonts, no CDN, no MathJax). The
page reads at 1280 x 800 (one column of charts, cards in a grid) and prints on A4
landscape (charts are resized before printing and never cut across pages).

Sections, in order: overview (counts, why k, excluded and why, data quality); the
segments (one card each); the outcome overlay (with ``--outcome``); how segments differ
(sizes, 2-D maps, radar, heatmap, box plots); how good the segmentation is (k-selection
indices, silhouettes, confidence, stability, dendrogram); the comparison of candidate ks
(with ``--compare``); the data before clustering (distributions, correlation, feature
catalogue); the full profiles; the preparation decisions.

The report is drawn from ``summary.json``, the segment profiles and the chart data
(:class:`segmint.explain.Exhibits`), so it can be re-rendered from a run folder alone
(``segmint report``, ``segmint rename``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plotly.offline import get_plotlyjs

from segmint.explain import Exhibits
from segmint.profile import SegmentProfile
from segmint.report import cards, charts, comparison, overview, quality
from segmint.report.common import e, note

_STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2933;
background:#f5f7fa;line-height:1.45;font-size:15px}
header.top{background:#1f2933;color:#fff;padding:14px 24px}
header.top h1{margin:0;font-size:1.45rem}header.top p{margin:2px 0 0;color:#cbd2d9}
nav{position:sticky;top:0;z-index:10;background:#fff;border-bottom:1px solid #d9e2ec;
padding:6px 24px;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:.88rem}
nav a{color:#0b69a3;text-decoration:none}nav a:hover{text-decoration:underline}
main{max-width:1200px;margin:0 auto;padding:12px 24px 48px}
h2{font-size:1.3rem;margin:30px 0 8px;padding-top:8px;border-top:2px solid #d9e2ec}
section{scroll-margin-top:40px}
h3{font-size:1.05rem;margin:16px 0 6px}h4{font-size:.92rem;margin:10px 0 4px}
.muted{color:#52606d}.small{font-size:.8rem}
.kpis{display:flex;flex-wrap:wrap;gap:14px;background:#fff;border:1px solid #d9e2ec;
border-radius:8px;padding:12px 16px}
.kpis div{min-width:150px}.kpis b{display:block;font-size:1.35rem}
.two{display:grid;grid-template-columns:1fr 1fr;gap:20px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px}
.card{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:12px 14px}
.card h3{margin:0;font-size:1.12rem;display:inline}.card ul{margin:2px 0 0 16px;padding:0}
.card li{margin:1px 0;font-size:.88rem}.card .size{font-weight:600;margin:4px 0}
.badge{display:inline-block;margin-left:8px;font-size:.72rem;color:#52606d;background:#eef2f6;
border-radius:10px;padding:1px 8px;vertical-align:middle}
.sentence{margin:6px 0}.action{background:#f0f7ee;border-left:4px solid #3f9142;padding:6px 10px;
margin:8px 0;font-size:.9rem}
.outcome{background:#fff8e6;border-left:4px solid #e69f00;padding:4px 10px;font-size:.9rem}
.confidence,.examples{font-size:.82rem;margin:6px 0}.spark{vertical-align:middle;fill:#0072B2}
table{border-collapse:collapse;background:#fff;font-size:.84rem}
td,th{border:1px solid #d9e2ec;padding:4px 8px;text-align:right;vertical-align:top}
th:first-child,td:first-child,td.text,th.text{text-align:left}
table.mini{margin-top:8px;font-size:.8rem}.table-wrap{overflow-x:auto;max-width:100%}
.chart{background:#fff;border:1px solid #d9e2ec;border-radius:8px;margin:12px 0;padding:6px}
.caption{font-size:.86rem;color:#3e4c59;margin:2px 10px 8px}
.verdict{font-size:1.05rem}.facts{font-size:.9rem}
tr.chosen td{background:#fff8e6}.dot{display:inline-block;width:9px;height:9px;border-radius:50%;
margin:0 4px 0 6px}
.candidates{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:10px}
.candidate{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:8px}
.candidate h4{margin:0 0 4px}.candidate ul{list-style:none;margin:0;padding:0}
.candidate li{padding:2px 6px;margin:3px 0;font-size:.84rem}
.decisions{columns:2;font-size:.84rem}code{font-size:.82rem}
@page{size:A4 landscape;margin:10mm}
@media print{body{background:#fff;font-size:12px}nav{display:none}main{max-width:none;padding:0}
.chart,.card,.candidate,table,.kpis{break-inside:avoid}h2{break-after:avoid}
.two{grid-template-columns:1fr 1fr}header.top{background:#fff;color:#1f2933;padding:0}
header.top p{color:#52606d}}
"""

_SCRIPT = """
(function(){function resize(){if(!window.Plotly)return;
document.querySelectorAll('.js-plotly-plot').forEach(function(d){Plotly.Plots.resize(d);});}
window.addEventListener('beforeprint',resize);
if(window.matchMedia){window.matchMedia('print').addEventListener('change',resize);}})();
"""

_NAV = (
    ("overview", "Overview"),
    ("segments", "Segments"),
    ("outcome", "Outcome"),
    ("differences", "How they differ"),
    ("quality", "How good"),
    ("comparison", "Comparing k"),
    ("data", "The data"),
    ("profiles", "Profiles"),
    ("preparation", "Preparation"),
)


def _as_dict(exhibits: Exhibits | dict[str, Any] | None) -> dict[str, Any]:
    if exhibits is None:
        return {}
    if isinstance(exhibits, Exhibits):
        return exhibits.to_dict()
    return dict(exhibits)


def render_report(
    summary: dict[str, Any],
    profiles: list[SegmentProfile],
    exhibits: Exhibits | dict[str, Any] | None = None,
) -> str:
    """The report as one HTML string.

    Parameters
    ----------
    summary : dict
        The run's ``summary.json`` content.
    profiles : list of SegmentProfile
        Segment profiles, in segment order.
    exhibits : Exhibits or dict, optional
        Chart data (:func:`segmint.explain.build_exhibits`); without it the report shows
        what the summary and profiles alone allow.
    """
    data = _as_dict(exhibits)
    sections = [overview.overview_section(summary)]
    sections.append(cards.cards_section(profiles, summary, data))
    outcome = summary.get("outcome")
    if outcome:
        sections.append(
            '<section id="outcome"><h2>Outcome by segment</h2>'
            + charts.outcome_chart(outcome, profiles)
            + cards.outcome_block(outcome)
            + "</section>"
        )
    tsne = data.get("tsne")
    differences = (
        charts.sizes_chart(profiles)
        + charts.map_chart(data.get("map") or {}, profiles, "chart-map")
        + (charts.map_chart(tsne, profiles, "chart-tsne") if tsne else "")
        + charts.radar_chart(data.get("radar") or {}, profiles)
        + charts.heatmap_chart(profiles)
        + charts.box_chart(data.get("boxes") or {}, profiles)
    )
    notes = "".join(note(n) for n in data.get("notes", []))
    sections.append(
        f'<section id="differences"><h2>How the segments differ</h2>{notes}{differences}</section>'
    )
    selection = summary.get("selection") or {}
    quality_parts = (
        quality.selection_charts(selection)
        + quality.silhouette_chart(data.get("silhouette"), profiles)
        + charts.confidence_chart(profiles)
        + quality.stability_charts(
            summary.get("stability"),
            profiles,
            scores=selection.get("scores"),
            chosen=selection.get("k"),
            segments=summary.get("segments"),
        )
        + quality.dendrogram_chart(data.get("dendrogram"))
    )
    if not quality_parts:
        quality_parts = note(
            "One segment, or a k that was given: there is no comparison of k to draw."
        )
    sections.append(
        '<section id="quality"><h2>How good is this segmentation?</h2>'
        f"<p><b>Rule:</b> {e(selection.get('rule', ''))}</p>{quality_parts}</section>"
    )
    if summary.get("comparison"):
        sections.append(comparison.comparison_section(summary["comparison"]))
    sections.append(
        '<section id="data"><h2>The data before clustering</h2>'
        + quality.sentinels_block(summary)
        + overview.distributions_chart(data.get("distributions") or [])
        + overview.correlation_chart(data.get("correlation") or {})
        + "<h3>Feature catalogue</h3>"
        + (overview.catalogue_table(data.get("catalogue") or []) or note("Not available."))
        + "</section>"
    )
    units = {str(c["feature"]): str(c.get("unit", "")) for c in data.get("catalogue") or []}
    sections.append(
        f'<section id="profiles"><h2>Profiles</h2>{cards.profile_table(profiles, units)}</section>'
    )
    sections.append(
        '<section id="preparation"><h2>How the data was prepared</h2>'
        f"{cards.decisions_list(summary)}</section>"
    )
    present = {s.split('id="', 1)[1].split('"', 1)[0] for s in sections if 'id="' in s}
    nav = "".join(f'<a href="#{key}">{title}</a>' for key, title in _NAV if key in present)
    source_name = Path(str(summary.get("source", ""))).name
    k = summary.get("k", len(profiles))
    subtitle = (
        f"{summary.get('n_customers', 0):,} customers of {source_name} in {k} segment"
        f"{'' if k == 1 else 's'} · segmint {summary.get('segmint_version', '')}"
        + (f" · {summary['created']}" if summary.get("created") else "")
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>segmint report: {e(source_name)}</title>
<style>{_STYLE}</style>
<script>{get_plotlyjs()}</script>
</head><body>
<header class="top"><h1>Customer segments</h1><p>{e(subtitle)}</p></header>
<nav>{nav}</nav>
<main>
{"".join(sections)}
</main>
<script>{_SCRIPT}</script>
</body></html>
"""
