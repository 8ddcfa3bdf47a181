"""Render ``report.html`` from a run's summary and segment profiles.

The page embeds plotly.js once (no network request) and draws: segment sizes, how k
was chosen (WCSS with the knee marked, silhouette by k), and a heatmap of standardised
segment means; then one card per segment and the preparation decisions.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from segmint.profile import SegmentProfile, humanise

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2933;background:#f7f8fa}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:1.6rem;margin:0 0 4px} h2{font-size:1.2rem;margin:28px 0 8px}
.muted{color:#52606d}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:14px}
.card{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:14px}
.card h3{margin:0 0 6px;font-size:1.05rem}.card .size{font-weight:600}
.kpis{display:flex;flex-wrap:wrap;gap:18px;background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:14px}
.kpis div{min-width:130px}.kpis b{display:block;font-size:1.3rem}
table{border-collapse:collapse;background:#fff;font-size:.85rem}td,th{border:1px solid #d9e2ec;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.chart{background:#fff;border:1px solid #d9e2ec;border-radius:8px;margin:10px 0;padding:6px}
.caption{font-size:.85rem;color:#52606d;margin:2px 8px 8px}ul{margin:4px 0 0 18px;padding:0}
@media print{.chart{break-inside:avoid}.card{break-inside:avoid}body{background:#fff}}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _number(value: float) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def _figure(fig: go.Figure, caption: str, div_id: str) -> str:
    fig.update_layout(margin={"l": 50, "r": 20, "t": 40, "b": 40}, height=360, template="plotly_white")
    body = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False})
    return f'<div class="chart" data-chart="{div_id}">{body}<p class="caption">{_e(caption)}</p></div>'


def _sizes_chart(profiles: list[SegmentProfile]) -> str:
    fig = go.Figure(
        go.Bar(
            x=[p.name for p in profiles],
            y=[p.size for p in profiles],
            text=[f"{p.share:.1%}" for p in profiles],
            textposition="outside",
        )
    )
    fig.update_layout(title="Customers per segment", yaxis_title="customers")
    return _figure(fig, "Bar height is the number of customers in each segment; the label is its share.", "chart-sizes")


def _selection_chart(selection: dict[str, Any]) -> str:
    scores = selection.get("scores") or []
    if len(scores) < 2:
        return ""
    ks = [s["k"] for s in scores]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ks, y=[s["wcss"] for s in scores], name="within-cluster sum of squares", mode="lines+markers"))
    sil = [(s["k"], s["silhouette"]) for s in scores if s["silhouette"] is not None]
    fig.add_trace(
        go.Scatter(x=[k for k, _ in sil], y=[v for _, v in sil], name="silhouette", mode="lines+markers", yaxis="y2")
    )
    if selection.get("knee"):
        fig.add_vline(
            x=selection["knee"], line_dash="dot", annotation_text=f"knee k = {selection['knee']}",
            annotation_position="bottom right",
        )
    fig.add_vline(
        x=selection["k"], line_color="#c0392b", annotation_text=f"chosen k = {selection['k']}",
        annotation_position="top right",
    )
    fig.update_layout(
        title="Choosing the number of segments",
        xaxis_title="k",
        yaxis_title="WCSS",
        yaxis2={"title": "silhouette", "overlaying": "y", "side": "right"},
        legend={"orientation": "h", "y": -0.2},
    )
    return _figure(
        fig,
        "WCSS falls as k grows; the knee is where extra segments stop paying off. Higher silhouette means better separated segments.",
        "chart-selection",
    )


def _heatmap(profiles: list[SegmentProfile]) -> str:
    if not profiles or not profiles[0].std_diffs:
        return ""
    features = list(profiles[0].std_diffs)
    z = [[p.std_diffs[f] for f in features] for p in profiles]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=[humanise(f) for f in features], y=[p.name for p in profiles],
            colorscale="RdBu", reversescale=True, zmid=0, colorbar={"title": "sd"},
        )
    )  # fmt: skip
    fig.update_layout(title="How each segment differs from the average customer")
    return _figure(
        fig,
        "Each cell is the segment's mean minus the population mean, in standard deviations: red above average, blue below.",
        "chart-heatmap",
    )


def _card(p: SegmentProfile) -> str:
    keys = list(p.medians)[:6]
    numbers = "".join(f"<li>{_e(humanise(f))}: median {_number(p.medians[f])}</li>" for f in keys)
    diffs = "".join(
        f"<li>{_e(d.phrase())} ({d.std_diff:+.2f} sd)</li>" for d in p.differentiators
    )
    return (
        f'<div class="card" data-segment="{p.id}"><h3>{_e(p.name)}</h3>'
        f'<div class="size">{p.size:,} customers · {p.share:.1%}</div>'
        f'<div class="muted">segment {p.id} · mean confidence {p.mean_confidence:.2f}</div>'
        f"<p><b>Action:</b> {_e(p.action)}</p>"
        f"<b>Key numbers</b><ul>{numbers}</ul><b>Sets them apart</b><ul>{diffs}</ul></div>"
    )


def _profile_table(profiles: list[SegmentProfile]) -> str:
    features = list(profiles[0].means) if profiles else []
    head = "".join(f"<th>{_e(p.name)}</th>" for p in profiles)
    rows = "".join(
        f"<tr><td>{_e(humanise(f))} (mean / median)</td>"
        + "".join(f"<td>{_number(p.means[f])} / {_number(p.medians[f])}</td>" for p in profiles)
        + "</tr>"
        for f in features
    )
    return f"<table><tr><th>feature</th>{head}</tr>{rows}</table>"


def _decisions(summary: dict[str, Any]) -> str:
    items = []
    for d in summary.get("preparation", {}).get("decisions", []):
        details = ", ".join(f"{k}: {v}" for k, v in d.items() if k not in ("column", "action"))
        items.append(f"<li><b>{_e(d['column'])}</b>: {_e(d['action'])}{' (' + _e(details) + ')' if details else ''}</li>")
    return f"<ul>{''.join(items)}</ul>"


def render_report(summary: dict[str, Any], profiles: list[SegmentProfile]) -> str:
    """The report as one HTML string.

    Parameters
    ----------
    summary : dict
        The run's ``summary.json`` content.
    profiles : list of SegmentProfile
        Segment profiles, in segment order.
    """
    excluded = summary.get("excluded_by_reason", {})
    excluded_text = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in excluded.items()) or "none"
    selection = summary.get("selection", {})
    reasons = "".join(f"<li>{_e(r)}</li>" for r in selection.get("reasons", []))
    data = summary.get("data", {})
    data_items = "".join(
        f"<li>{_e(k.replace('_', ' '))}: {_e(f'{v:,}' if isinstance(v, int) else v)}</li>"
        for k, v in data.items()
        if not isinstance(v, (list, dict))
    )
    source_name = Path(str(summary.get("source", ""))).name
    charts = _sizes_chart(profiles) + _selection_chart(selection) + _heatmap(profiles)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>segmint report: {_e(source_name)}</title>
<style>{_STYLE}</style>
<script>{get_plotlyjs()}</script>
</head><body><main>
<h1>Customer segments</h1>
<p class="muted">{_e(source_name)} · segmint {_e(summary.get('segmint_version', ''))}</p>
<section id="overview"><h2>Overview</h2>
<div class="kpis"><div><b>{summary['n_customers']:,}</b>customers segmented</div>
<div><b>{summary['n_excluded']:,}</b>excluded ({_e(excluded_text)})</div>
<div><b>{summary['k']}</b>segments ({_e(summary.get('algorithm', ''))})</div>
<div><b>{_e(summary.get('input_kind', ''))}</b>input</div></div>
<p><b>Why {summary['k']} segments:</b></p><ul>{reasons}</ul>
<p><b>Data:</b></p><ul>{data_items}</ul></section>
<section id="segments"><h2>Segments</h2><div class="cards">{''.join(_card(p) for p in profiles)}</div></section>
<section id="charts"><h2>Charts</h2>{charts}</section>
<section id="profiles"><h2>Profiles</h2>{_profile_table(profiles)}</section>
<section id="preparation"><h2>How the data was prepared</h2>{_decisions(summary)}</section>
</main></body></html>
"""
