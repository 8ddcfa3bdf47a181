"""Charts of how good the segmentation is: choosing k, silhouettes, stability, dendrogram;
and the placeholder values found in the data.

The selection step writes a per-k table (``summary["selection"]["scores"]``); every
numeric index found there is drawn, known or not, so indices added later (gap statistic,
stability, ...) appear without changes here. Stability figures are drawn from
``summary["stability"]`` whatever its exact shape: per-segment lists become bars, per-k
lists become lines, single numbers become a sentence. The figures
:mod:`segmint.stability` measures (``bootstrap_ari``, ``jaccard`` by segment position) get
their own charts: bootstrap ARI by k from the selection's per-k table, with the
threshold a k is called stable from, and Hennig's Jaccard per segment of the model.
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segmint.profile import SegmentProfile
from segmint.report.common import chart, colour, e, label, names_by_id
from segmint.sentinels import value_text

# index -> (title, how to read it); anything else is drawn with a neutral caption.
KNOWN_INDICES: dict[str, tuple[str, str]] = {
    "silhouette": (
        "Silhouette",
        "higher is better: customers closer to their own segment than to the next",
    ),
    "calinski_harabasz": (
        "Calinski-Harabasz",
        "higher is better: between-segment spread over within",
    ),
    "davies_bouldin": ("Davies-Bouldin", "lower is better: segments compact and far apart"),
    "gap": (
        "Gap statistic",
        "choose the smallest k whose gap is within one error bar of the next k's",
    ),
    "stability": (
        "Stability",
        "higher is better: the same segments come back on resampled data",
    ),
}
_ERROR_KEYS = ("gap_sd", "gap_se", "sk", "s_k", "stability_sd", "sd", "se")
_SKIP = {"k", "wcss", *_ERROR_KEYS}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def selection_charts(selection: dict[str, Any]) -> str:
    """The elbow (WCSS with the knee marked) and one small chart per other index by k."""
    scores = [s for s in selection.get("scores") or [] if isinstance(s, dict) and "k" in s]
    if len(scores) < 2:
        return ""
    chosen = selection.get("k")
    knee = selection.get("knee")
    parts = []
    wcss = [(s["k"], s["wcss"]) for s in scores if _finite(s.get("wcss"))]
    if len(wcss) >= 2:
        fig = go.Figure(
            go.Scatter(
                x=[k for k, _ in wcss],
                y=[v for _, v in wcss],
                mode="lines+markers",
                name="WCSS",
                line={"color": "#0072B2"},
            )
        )
        if knee is not None and any(k == knee for k, _ in wcss):
            y_knee = next(v for k, v in wcss if k == knee)
            fig.add_trace(
                go.Scatter(
                    x=[knee], y=[y_knee], mode="markers+text", text=[f"knee k = {knee}"],
                    textposition="top right", marker={"size": 14, "color": "#E69F00"},
                    name="knee",
                )
            )  # fmt: skip
        if chosen is not None:
            fig.add_vline(x=chosen, line_color="#c0392b", line_dash="dot")
            fig.add_annotation(
                x=chosen, y=1.02, yref="paper", text=f"chosen k = {chosen}", showarrow=False,
                font={"color": "#c0392b"},
            )  # fmt: skip
        fig.update_layout(
            title="Elbow: within-segment sum of squares by k",
            xaxis_title="number of segments k",
            yaxis_title="WCSS",
            showlegend=False,
        )
        fig.update_xaxes(dtick=1)
        parts.append(
            chart(
                fig,
                "chart-elbow",
                "WCSS (how far customers are from their segment centre, summed) always falls "
                "as k grows; the knee (orange) is where extra segments stop paying off. The "
                "red line is the k used.",
            )
        )
    indices = [
        key
        for key in dict.fromkeys(key for s in scores for key in s)
        if key not in _SKIP and any(_finite(s.get(key)) for s in scores)
    ]
    if indices:
        parts.append(_index_grid(scores, indices, chosen))
    return "".join(parts)


def _index_grid(scores: list[dict[str, Any]], indices: list[str], chosen: Any) -> str:
    cols = min(3, len(indices))
    rows = math.ceil(len(indices) / cols)
    titles = [KNOWN_INDICES.get(key, (label(key), ""))[0] for key in indices]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles)
    for i, key in enumerate(indices):
        points = [(s["k"], s[key], s) for s in scores if _finite(s.get(key))]
        error_key = next(
            (k for k in _ERROR_KEYS if any(_finite(p[2].get(k)) for p in points)), None
        )
        error = (
            {"type": "data", "array": [p[2].get(error_key) or 0 for p in points], "visible": True}
            if error_key and key in ("gap", "stability")
            else None
        )
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in points],
                y=[p[1] for p in points],
                mode="lines+markers",
                name=titles[i],
                error_y=error,
                marker={"color": [("#c0392b" if p[0] == chosen else "#0072B2") for p in points]},
                line={"color": "#0072B2"},
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_xaxes(dtick=1, title_text="k")
    fig.update_layout(title="Indices by number of segments", showlegend=False)
    readings = [
        f"{KNOWN_INDICES[key][0]}: {KNOWN_INDICES[key][1]}"
        for key in indices
        if key in KNOWN_INDICES
    ]
    caption = (
        "Each panel is one index computed for every k tried; the red point is the k used. "
        + "; ".join(readings)
        + "."
    )
    return chart(fig, "chart-indices", caption, height=max(340, 280 * rows), top=84)


def silhouette_chart(silhouette: dict[str, Any] | None, profiles: list[SegmentProfile]) -> str:
    """The classic per-segment silhouette plot (Rousseeuw 1987)."""
    if not silhouette or not silhouette.get("segments"):
        return ""
    names = names_by_id(profiles)
    fig = go.Figure()
    position = 0
    ticks, tick_text = [], []
    for seg, entry in sorted(silhouette["segments"].items(), key=lambda kv: int(kv[0])):
        sid = int(seg)
        values = entry["values"]
        ys = list(range(position, position + len(values)))
        fig.add_trace(
            go.Bar(
                x=values,
                y=ys,
                orientation="h",
                marker={"color": colour(sid), "line": {"width": 0}},
                width=1.0,
                name=names.get(sid, seg),
                hovertemplate=f"{e(names.get(sid, seg))}: %{{x:.2f}}<extra></extra>",
            )
        )
        ticks.append(position + len(values) / 2)
        tick_text.append(f"{names.get(sid, seg)} ({entry['mean']:.2f})")
        position += len(values) + max(8, len(values) // 20)
    fig.add_vline(
        x=silhouette["mean"], line_dash="dash", line_color="#c0392b",
        annotation_text=f"mean {silhouette['mean']:.2f}", annotation_position="top",
    )  # fmt: skip
    fig.update_layout(
        title="Silhouette of every customer, by segment",
        xaxis_title="silhouette (-1 .. 1)",
        bargap=0,
        showlegend=False,
    )
    fig.update_yaxes(tickvals=ticks, ticktext=tick_text, autorange="reversed")
    sampled = silhouette.get("sampled", 0)
    total = silhouette.get("total", 0)
    of = f" (a sample of {sampled:,} of {total:,} customers)" if sampled < total else ""
    return chart(
        fig,
        "chart-silhouette",
        "Each horizontal line is a customer" + of + ": near 1 it sits well inside its "
        "segment, near 0 between two segments, below 0 it is closer to another segment. "
        "Wide shapes reaching right are well-separated segments; the segment's mean is in "
        "brackets.",
        height=max(380, min(700, 140 + 30 * len(silhouette["segments"]) + position // 8)),
    )


def dendrogram_chart(dendrogram: dict[str, Any] | None) -> str:
    """Dendrogram (last merges of a Ward linkage on a sample), for hierarchical models."""
    if not dendrogram or not dendrogram.get("icoord"):
        return ""
    fig = go.Figure()
    for xs, ys in zip(dendrogram["icoord"], dendrogram["dcoord"], strict=False):
        fig.add_trace(
            go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#0072B2"}, hoverinfo="skip")
        )
    leaves = dendrogram.get("leaves", [])
    fig.update_xaxes(
        tickvals=[5 + 10 * i for i in range(len(leaves))], ticktext=leaves, tickangle=-60
    )
    fig.update_layout(
        title="Dendrogram (last merges)", yaxis_title="merge distance", showlegend=False
    )
    cut, k = dendrogram.get("cut_height"), dendrogram.get("k")
    if _finite(cut):
        fig.add_hline(y=cut, line_dash="dash", line_color="#c0392b",
                      annotation_text=f"cut into {k} segments")  # fmt: skip
    return chart(
        fig,
        "chart-dendrogram",
        "Read from the top: each join merges two groups, higher joins merge more different "
        "groups; cutting across the tallest vertical gaps gives well-separated segments "
        "(the red line cuts the tree into the segments' number). Leaf labels count the "
        "customers under them (in brackets: a group of that many).",
    )


def stability_charts(
    stability: Any,
    profiles: list[SegmentProfile],
    *,
    scores: list[dict[str, Any]] | None = None,
    chosen: Any = None,
    segments: list[dict[str, Any]] | None = None,
) -> str:
    """The stability figures of the summary (see the module docstring).

    ``scores`` is the selection's per-k table, ``chosen`` the k used, ``segments`` the
    summary's segments in the order of the model's centres (for the per-segment Jaccard).
    """
    if isinstance(stability, dict) and _finite(stability.get("bootstrap_ari")):
        return _measured_stability(stability, profiles, scores or [], chosen, segments or [])
    if not stability:
        return ""
    names = names_by_id(profiles)
    parts: list[str] = []
    facts: list[str] = []
    _walk(stability, "", names, parts, facts)
    text = "".join(f"<li>{e(f)}</li>" for f in facts[:12])
    return (f"<ul class='facts'>{text}</ul>" if text else "") + "".join(parts)


def _measured_stability(
    stability: dict[str, Any],
    profiles: list[SegmentProfile],
    scores: list[dict[str, Any]],
    chosen: Any,
    segments: list[dict[str, Any]],
) -> str:
    """Bootstrap ARI by k and per-segment Jaccard, from :mod:`segmint.stability`'s figures."""
    threshold = stability.get("threshold", 0.8)
    ari, sd = stability["bootstrap_ari"], stability.get("bootstrap_ari_sd") or 0.0
    verdict = "stable" if stability.get("stable", ari >= threshold) else "unstable"
    facts = [
        f"Bootstrap agreement: mean adjusted Rand index {ari:.2f} (sd {sd:.2f}) between the "
        f"model and {stability.get('rounds', 0)} refits on resamples of "
        f"{stability.get('sample_size', 0):,} customers: {verdict} (stable from {threshold})."
    ]
    seed = stability.get("seed_ari")
    facts.append(
        f"Seed agreement: mean adjusted Rand index {seed:.2f} over {stability.get('seeds', 0)} "
        "other random seeds."
        if _finite(seed)
        else "Seed agreement: not measured; this family gives the same answer for every seed."
    )
    parts = ["<ul class='facts'>" + "".join(f"<li>{e(f)}</li>" for f in facts) + "</ul>"]
    by_k = [(s["k"], s["stability"]) for s in scores if _finite(s.get("stability"))]
    if len(by_k) >= 2:
        dots = [("#c0392b" if k == chosen else "#0072B2") for k, _ in by_k]
        fig = go.Figure(
            go.Scatter(
                x=[k for k, _ in by_k],
                y=[v for _, v in by_k],
                mode="lines+markers",
                line={"color": "#0072B2"},
                marker={"size": 9, "color": dots},
                hovertemplate="k = %{x}: ARI %{y:.2f}<extra></extra>",
            )
        )
        fig.add_hline(y=threshold, line_dash="dot", line_color="#52606d",
                      annotation_text=f"{threshold}: stable")  # fmt: skip
        fig.update_xaxes(dtick=1)
        fig.update_layout(
            title="Stability by number of segments: bootstrap agreement",
            xaxis_title="number of segments k",
            yaxis_title="mean adjusted Rand index",
            yaxis_range=[min(0.0, min(v for _, v in by_k)), 1.05],
            showlegend=False,
        )
        parts.append(
            chart(
                fig,
                "chart-stability-k",
                "For each k, how well k-means refitted on resampled customers reproduces the "
                "same segments (adjusted Rand index: 1 = identical, 0 = chance); at or above "
                f"the dotted line ({threshold}) a k is called stable. Red is the k used.",
            )
        )
    jaccard = [j for j in stability.get("jaccard") or [] if _finite(j)]
    ids = [int(s["id"]) for s in segments if int(s["id"]) != -1]
    if jaccard:
        ids = ids if len(ids) == len(jaccard) else list(range(len(jaccard)))
        names = names_by_id(profiles)
        fig = go.Figure(
            go.Bar(
                x=[names.get(i, str(i)) for i in ids],
                y=jaccard,
                marker_color=[colour(i) for i in ids],
                text=[f"{j:.2f}" for j in jaccard],
                textposition="outside",
                hovertemplate="%{x}: Jaccard %{y:.2f}<extra></extra>",
            )
        )
        fig.add_hline(y=0.5, line_dash="dot", line_color="#c0392b",
                      annotation_text="0.5: dissolves below")  # fmt: skip
        fig.add_hline(y=0.85, line_dash="dot", line_color="#52606d",
                      annotation_text="0.85: highly stable")  # fmt: skip
        fig.update_layout(
            title="Stability of each segment (Hennig's Jaccard)",
            yaxis_title="Jaccard (0 .. 1)",
            yaxis_range=[0, 1.1],
            showlegend=False,
        )
        parts.append(
            chart(
                fig,
                "chart-stability-segments",
                "For each segment, its best overlap (Jaccard) with a segment of the model "
                "refitted on resampled customers, averaged over the refits: below 0.5 the "
                "segment dissolves, 0.6-0.75 its members are uncertain, above 0.85 it is "
                "highly stable.",
            )
        )
    return "".join(parts)


def _walk(node: Any, path: str, names: dict[int, str], parts: list[str], facts: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _walk(value, f"{path}.{key}" if path else str(key), names, parts, facts)
        return
    if _finite(node):
        facts.append(f"{label(path.replace('.', ' '))}: {node:.3g}")
        return
    if isinstance(node, str) and len(node) < 300:
        facts.append(f"{label(path.replace('.', ' '))}: {node}")
        return
    if isinstance(node, list) and node and all(isinstance(x, dict) for x in node):
        key = (
            "segment"
            if all("segment" in x for x in node)
            else "k"
            if all("k" in x for x in node)
            else None
        )
        if key is None:
            return
        metrics = [
            m
            for m in dict.fromkeys(m for x in node for m in x)
            if m != key and any(_finite(x.get(m)) for x in node)
        ]
        if metrics:
            parts.append(_stability_figure(node, key, metrics, path, names, len(parts)))
        return
    if isinstance(node, list) and node and all(_finite(x) for x in node) and len(node) <= 200:
        mean = sum(node) / len(node)
        facts.append(f"{label(path.replace('.', ' '))}: mean {mean:.3g} over {len(node)} values")


def _stability_figure(
    rows: list[dict[str, Any]],
    key: str,
    metrics: list[str],
    path: str,
    names: dict[int, str],
    index: int,
) -> str:
    fig = go.Figure()
    for metric in metrics[:3]:
        points = [x for x in rows if _finite(x.get(metric))]
        if key == "segment":
            fig.add_trace(
                go.Bar(
                    x=[names.get(int(x["segment"]), str(x["segment"])) for x in points],
                    y=[x[metric] for x in points],
                    name=label(metric),
                    marker_color=[colour(int(x["segment"])) for x in points]
                    if len(metrics) == 1
                    else None,
                )
            )
        else:
            fig.add_trace(
                go.Scatter(
                    x=[x["k"] for x in points],
                    y=[x[metric] for x in points],
                    mode="lines+markers",
                    name=label(metric),
                )
            )
    where = "segment" if key == "segment" else "number of segments k"
    fig.add_hline(y=0.75, line_dash="dot", line_color="#52606d", annotation_text="0.75: stable")
    fig.update_layout(
        title=f"Stability: {label(path.replace('.', ' ')) or 'figures'}", xaxis_title=where
    )
    return chart(
        fig,
        f"chart-stability-{index}",
        "How often the same segments come back when the customers are resampled and the "
        "model refitted (Jaccard or agreement, 0..1): above 0.75 a segment is stable, "
        "below 0.5 it is not to be trusted.",
    )


def sentinels_block(summary: dict[str, Any]) -> str:
    """Placeholder and impossible values set to missing, one row per column ("" if none)."""
    found = (summary.get("data_quality") or {}).get("sentinels") or []
    if not found:
        return ""
    rows = []
    for rule in found:
        values = ", ".join(value_text(v) for v in rule.get("values", [])[:8])
        if not values:
            bounds = [
                f"below {value_text(rule['low'])}" if rule.get("low") is not None else "",
                f"above {value_text(rule['high'])}" if rule.get("high") is not None else "",
            ]
            values = " or ".join(b for b in bounds if b)
        rows.append(
            f"<tr><td>{e(rule.get('column', ''))}</td><td>{e(values)}</td>"
            f"<td>{int(rule.get('rows', 0)):,}</td><td>{e(rule.get('reason', ''))}</td></tr>"
        )
    return (
        "<h3>Placeholder and impossible values</h3>"
        "<p>These values are not measurements; they were set to missing and then imputed "
        "like any missing value (keep them with <code>--keep-sentinels</code>).</p>"
        "<table><tr><th>Column</th><th>Values</th><th>Rows</th><th>Why</th></tr>"
        f"{''.join(rows)}</table>"
    )
