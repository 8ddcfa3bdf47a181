"""Charts of how segments differ: sizes, 2-D maps, radar, heatmap, box plots, outcome."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segmint.profile import SegmentProfile
from segmint.report.common import chart, colour, label, names_by_id, share

MAX_HEATMAP_FEATURES = 25


def sizes_chart(profiles: list[SegmentProfile]) -> str:
    """Bar chart of customers per segment."""
    fig = go.Figure(
        go.Bar(
            x=[p.name for p in profiles],
            y=[p.size for p in profiles],
            text=[f"{p.size:,} · {p.share:.1%}" for p in profiles],
            textposition="outside",
            marker_color=[colour(p.id) for p in profiles],
            hovertemplate="%{x}: %{y:,} customers<extra></extra>",
        )
    )
    top = max((p.size for p in profiles), default=1)
    fig.update_layout(
        title="Customers per segment", yaxis_title="customers", yaxis_range=[0, top * 1.18]
    )
    return chart(
        fig,
        "chart-sizes",
        "Bar height is the number of customers in each segment; the label adds its share "
        "of all segmented customers.",
    )


def map_chart(data: dict[str, Any], profiles: list[SegmentProfile], chart_id: str) -> str:
    """2-D map of customers (PCA or t-SNE coordinates), one colour per segment."""
    if not data or not data.get("x"):
        return ""
    names = names_by_id(profiles)
    fig = go.Figure()
    segments = data.get("segment", [])
    for seg in sorted(set(segments), key=lambda s: (s < 0, s)):
        rows = [i for i, s in enumerate(segments) if s == seg]
        fig.add_trace(
            go.Scatter(
                x=[data["x"][i] for i in rows],
                y=[data["y"][i] for i in rows],
                mode="markers",
                name=names.get(seg, str(seg)),
                marker={"size": 5, "color": colour(seg), "opacity": 0.55},
                hoverinfo="name",
            )
        )
    method = data.get("method", "PCA")
    centres = data.get("centres") or {}
    if centres:
        ids = [int(s) for s in centres]
        fig.add_trace(
            go.Scatter(
                x=[centres[str(s)][0] for s in ids],
                y=[centres[str(s)][1] for s in ids],
                mode="markers+text",
                text=[names.get(s, str(s)) for s in ids],
                textposition="top center",
                marker={"size": 14, "symbol": "x", "color": "#1f2933", "line": {"width": 1}},
                name="segment centres",
                hoverinfo="text",
            )
        )
    sampled = (
        f"a sample of {data['sampled']:,} of {data['total']:,} customers"
        if data.get("sampled", 0) < data.get("total", 0)
        else f"all {data.get('total', 0):,} customers"
    )
    if method == "PCA":
        explained = data.get("explained") or [0.0, 0.0]
        title = f"Map of customers (PCA, {sum(explained):.0%} of the variance shown)"
        xaxis = f"first principal axis ({explained[0]:.0%})"
        yaxis = f"second principal axis ({explained[1]:.0%})" if len(explained) > 1 else ""
        caption = (
            f"Each dot is a customer ({sampled}), placed by the two directions along which "
            "customers vary most; dots close together are similar. Crosses mark segment "
            "centres; overlapping colours mean segments blend into each other."
        )
    else:
        title = "Map of customers (t-SNE)"
        xaxis = yaxis = ""
        caption = (
            f"t-SNE places similar customers ({sampled}) near each other, keeping local "
            "neighbourhoods rather than distances: read which segments form their own "
            "islands, not how far apart islands are."
        )
    fig.update_layout(
        title=title,
        xaxis_title=xaxis,
        yaxis_title=yaxis,
        legend={"orientation": "h", "y": -0.15},
    )
    if method != "PCA":
        fig.update_xaxes(showticklabels=False)
        fig.update_yaxes(showticklabels=False)
    return chart(fig, chart_id, caption, height=520)


def radar_chart(radar: dict[str, Any], profiles: list[SegmentProfile]) -> str:
    """Radar of segment profiles on a common 0-100 scale."""
    features = radar.get("features") or []
    if len(features) < 3:
        return ""
    names = names_by_id(profiles)
    fig = go.Figure()
    theta = [label(f) for f in features]
    for seg, values in (radar.get("segments") or {}).items():
        sid = int(seg)
        fig.add_trace(
            go.Scatterpolar(
                r=[*values, values[0]],
                theta=[*theta, theta[0]],
                name=names.get(sid, seg),
                line={"color": colour(sid)},
                fill="toself",
                opacity=0.45,
            )
        )
    fig.update_layout(
        title="Segment profiles on one scale",
        polar={"radialaxis": {"range": [0, 100], "tickvals": [25, 50, 75]}},
        legend={"orientation": "h", "y": -0.12},
    )
    return chart(
        fig,
        "chart-radar",
        "Each axis is a feature: for numbers the average percentile of the segment's "
        "members (50 = the typical customer, 90 = higher than 90% of customers), for "
        "categories the share of members with that level. Shapes that differ are segments "
        "that differ.",
        height=520,
    )


def heatmap_chart(profiles: list[SegmentProfile]) -> str:
    """Heatmap of standardised segment means."""
    real = [p for p in profiles if p.std_diffs]
    if not real:
        return ""
    features = list(real[0].std_diffs)
    strength = {f: max(abs(p.std_diffs.get(f, 0.0)) for p in real) for f in features}
    features = sorted(features, key=lambda f: -strength[f])[:MAX_HEATMAP_FEATURES]
    z = [[p.std_diffs.get(f, 0.0) for f in features] for p in real]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[label(f) for f in features],
            y=[p.name for p in real],
            colorscale="RdBu",
            reversescale=True,
            zmid=0,
            zmin=-2,
            zmax=2,
            colorbar={"title": "sd"},
            text=[[f"{v:+.2f}" for v in row] for row in z],
            texttemplate="%{text}" if len(features) <= 12 else None,
            hovertemplate="%{y} · %{x}: %{z:+.2f} sd<extra></extra>",
        )
    )
    fig.update_layout(title="How each segment differs from the average customer")
    fig.update_xaxes(tickangle=-35)
    shown = (
        ""
        if len(strength) <= MAX_HEATMAP_FEATURES
        else (f" The {MAX_HEATMAP_FEATURES} features that differ most are shown.")
    )
    return chart(
        fig,
        "chart-heatmap",
        "Each cell is the segment's mean minus the average customer's, in standard "
        "deviations: red above average, blue below, white typical." + shown,
        height=max(320, 120 + 44 * len(real)),
    )


def box_chart(boxes: dict[str, Any], profiles: list[SegmentProfile]) -> str:
    """Box plots of every (chosen) numeric feature per segment."""
    features = boxes.get("features") or []
    if not features:
        return ""
    names = names_by_id(profiles)
    cols = 3 if len(features) > 4 else min(2, len(features))
    rows = math.ceil(len(features) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[label(f) for f in features],
        vertical_spacing=0.08 if rows <= 4 else 0.3 / rows,
    )
    for index, feature in enumerate(features):
        info = boxes["stats"][feature]
        row, col = index // cols + 1, index % cols + 1
        for entry in info["rows"]:
            seg = entry["segment"]
            fig.add_trace(
                go.Box(
                    x=[names.get(seg, str(seg))],
                    q1=[entry["q1"]],
                    median=[entry["median"]],
                    q3=[entry["q3"]],
                    lowerfence=[entry["lower"]],
                    upperfence=[entry["upper"]],
                    mean=[entry["mean"]],
                    name=names.get(seg, str(seg)),
                    marker_color=colour(seg),
                    showlegend=index == 0,
                    legendgroup=str(seg),
                ),
                row=row,
                col=col,
            )
        if info.get("log"):
            fig.update_yaxes(type="log", row=row, col=col)
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(title="Feature values per segment", legend={"orientation": "h", "y": -0.06})
    return chart(
        fig,
        "chart-boxes",
        "For each feature and segment: the box spans the middle half of the members, the "
        "line is the median, the dashed line the mean, whiskers reach the last members "
        "within 1.5 box lengths; features with a wide spread use a log scale.",
        height=max(400, 250 * rows),
        top=84,
    )


def outcome_chart(outcome: dict[str, Any], profiles: list[SegmentProfile]) -> str:
    """The outcome's rate or mean per segment with confidence intervals."""
    rows = [r for r in outcome.get("segments", []) if r.get("value") is not None]
    if not rows:
        return ""
    names = names_by_id(profiles)
    rate = outcome.get("kind") == "rate"
    values = [r["value"] for r in rows]
    upper = [(r["high"] - r["value"]) if r.get("high") is not None else 0 for r in rows]
    lower = [(r["value"] - r["low"]) if r.get("low") is not None else 0 for r in rows]
    fig = go.Figure(
        go.Bar(
            x=[names.get(r["segment"], r["name"]) for r in rows],
            y=values,
            marker_color=[colour(r["segment"]) for r in rows],
            error_y={"type": "data", "array": upper, "arrayminus": lower, "color": "#1f2933"},
            text=[share(v) if rate else f"{v:,.2f}" for v in values],
            textposition="outside",
            hovertemplate="%{x}: %{y:.3g}<extra></extra>",
        )
    )
    fig.add_hline(
        y=outcome["overall"],
        line_dash="dash",
        line_color="#52606d",
        annotation_text="all customers "
        + (share(outcome["overall"]) if rate else f"{outcome['overall']:,.2f}"),
        annotation_position="top left",
    )
    title = str(outcome.get("label", "outcome"))
    fig.update_layout(title=title[:1].upper() + title[1:] + " by segment")
    if rate:
        fig.update_yaxes(tickformat=".0%")
    return chart(
        fig,
        "chart-outcome",
        f"Bar height is the {outcome.get('label', 'outcome')} of each segment; the black line "
        f"is its 95% confidence interval ({outcome.get('interval', '')}) and the dashed line "
        "the value over all customers. Bars whose intervals do not overlap the dashed line "
        "differ from the average.",
    )


def confidence_chart(profiles: list[SegmentProfile]) -> str:
    """Distribution of assignment confidence per segment (quantile boxes)."""
    rows = [p for p in profiles if p.confidence]
    if not rows or len(rows) < 2:
        return ""
    fig = go.Figure()
    for p in rows:
        c = p.confidence
        fig.add_trace(
            go.Box(
                x=[p.name],
                q1=[c["p25"]],
                median=[c["median"]],
                q3=[c["p75"]],
                lowerfence=[c["p10"]],
                upperfence=[c["p90"]],
                name=p.name,
                marker_color=colour(p.id),
                showlegend=False,
            )
        )
    fig.add_hline(y=0.2, line_dash="dot", line_color="#c0392b", annotation_text="near a boundary")
    fig.update_layout(title="How confident the assignments are", yaxis_range=[0, 1])
    return chart(
        fig,
        "chart-confidence",
        "Confidence is 1 - d1/d2 (distances to the nearest and second-nearest segment "
        "centre): 1 is squarely inside a segment, 0 on a boundary. Boxes span the middle "
        "half of the members, whiskers the 10th to 90th percentiles.",
    )
