"""The "comparing k" section: every candidate k side by side and how segments split."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go

from segmint.report.common import DASH, chart, colour, e, share

_INDICES = (
    ("silhouette", "silhouette", "higher is better"),
    ("calinski_harabasz", "Calinski-Harabasz", "higher is better"),
    ("davies_bouldin", "Davies-Bouldin", "lower is better"),
)


def _index(value: Any) -> str:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return DASH


def comparison_section(comparison: dict[str, Any]) -> str:
    """Side-by-side candidates, the split diagram and the split stories."""
    candidates = comparison.get("candidates") or []
    if not candidates:
        return ""
    chosen = comparison.get("chosen")
    head = "".join(
        f"<th>{e(title)}<br><span class='muted'>{e(hint)}</span></th>"
        for _, title, hint in _INDICES
    )
    rows = []
    for c in candidates:
        segments = " · ".join(
            f"<span class='dot' style='background:{colour(s['id'])}'></span>"
            f"{e(s['name'])} {e(share(s['share']))}"
            for s in c["segments"]
        )
        indices = "".join(f"<td>{e(_index(c['indices'].get(key)))}</td>" for key, _, _ in _INDICES)
        mark = " class='chosen'" if c["k"] == chosen else ""
        used = " (used)" if c["k"] == chosen else ""
        rows.append(
            f"<tr{mark}><td><b>k = {c['k']}</b>{used}</td>{indices}"
            f"<td class='text'>{segments}</td></tr>"
        )
    table = (
        "<div class='table-wrap'><table class='comparison'><tr><th>candidate</th>"
        f"{head}<th class='text'>segments (name and share)</th></tr>{''.join(rows)}</table></div>"
    )
    columns = "".join(_candidate_column(c, chosen) for c in candidates)
    stories = "".join(
        f"<li><b>k = {s['from_k']} → {s['to_k']}:</b> {e(' '.join(s['story']))}</li>"
        for s in comparison.get("splits", [])
    )
    return (
        '<section id="comparison"><h2>Comparing numbers of segments</h2>'
        "<p class='muted'>Every candidate k was fitted with k-means (10 starts, the same seed, "
        "ids by size), as the final k-means model is. Pick the one whose segments you can act "
        "on; to get the outputs of another k without fitting again, run "
        "<code>segmint fit DATA --out THIS_FOLDER --k N</code> with the same data and options "
        "(the saved candidate is reused).</p>"
        f"{table}{_sankey(candidates, comparison.get('splits', []))}"
        f"<h3>How segments split as k grows</h3><ul>{stories}</ul>"
        f"<h3>Candidates side by side</h3><div class='candidates'>{columns}</div></section>"
    )


def _candidate_column(candidate: dict[str, Any], chosen: Any) -> str:
    items = "".join(
        f"<li style='border-left:4px solid {colour(s['id'])}'><b>{e(s['name'])}</b> "
        f"<span class='muted'>{s['size']:,} · {e(share(s['share']))}</span>"
        f"<br><span class='small'>{e('; '.join(s.get('differentiators', [])[:3]))}</span></li>"
        for s in candidate["segments"]
    )
    used = " (used)" if candidate["k"] == chosen else ""
    return f"<div class='candidate'><h4>k = {candidate['k']}{used}</h4><ul>{items}</ul></div>"


def _sankey(candidates: list[dict[str, Any]], splits: list[dict[str, Any]]) -> str:
    if not splits:
        return ""
    index: dict[tuple[int, int], int] = {}
    labels: list[str] = []
    colours: list[str] = []
    ks = [c["k"] for c in candidates]
    for c in candidates:
        for s in c["segments"]:
            index[(c["k"], s["id"])] = len(labels)
            labels.append(f"k={c['k']}: {s['name']}")
            colours.append(colour(s["id"]))
    source, target, value, link_colours = [], [], [], []
    for split in splits:
        for flow in split["flows"]:
            a = index.get((split["from_k"], flow["from"]))
            b = index.get((split["to_k"], flow["to"]))
            if a is None or b is None:
                continue
            source.append(a)
            target.append(b)
            value.append(flow["customers"])
            link_colours.append("rgba(82,96,109,0.25)")
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": labels, "color": colours, "pad": 12, "thickness": 14},
            link={"source": source, "target": target, "value": value, "color": link_colours},
        )
    )
    fig.update_layout(title="How customers move between segments as k grows")
    return chart(
        fig,
        "chart-splits",
        "Columns are the candidate ks, left to right; each band carries the customers of a "
        "segment at one k to their segment at the next k. A segment fanning out into two "
        "bands is a segment that splits.",
        height=max(420, 60 * max(ks)),
    )
