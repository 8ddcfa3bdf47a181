"""The report's overview and "before clustering" sections: counts, data quality,
distributions of every feature, the correlation heatmap and the feature catalogue."""

from __future__ import annotations

import itertools
import math
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segmint.report.common import chart, e, label, note

_REASONS = {
    "no_customer_id": "no customer id",
    "no_purchases": "no purchase with positive value (only returns or zero-value lines)",
    "no_valid_dates": "no readable date",
}
_SKIP_ACCOUNT = {"as_of", "customer_id", "duplicate_id_rule"}


def _reason(reason: str) -> str:
    return _REASONS.get(reason, reason.replace("_", " "))


def overview_section(summary: dict[str, Any]) -> str:
    """Customers in and out, why k, data quality."""
    n = int(summary.get("n_customers", 0))
    excluded = int(summary.get("n_excluded", 0))
    k = summary.get("k", 0)
    algorithm = summary.get("algorithm", "")
    by_reason = summary.get("excluded_by_reason") or {}
    kpis = [
        (f"{n + excluded:,}", "customers in the data"),
        (f"{n:,}", "customers segmented"),
        (f"{excluded:,}", "excluded (listed in excluded.csv)"),
        (str(k), f"segment{'' if k == 1 else 's'} ({algorithm})"),
        (str(summary.get("input_kind", "")), "input"),
    ]
    kpi_html = "".join(f"<div><b>{e(v)}</b>{e(t)}</div>" for v, t in kpis)
    reasons = "".join(
        f"<li>{count:,} customers: {e(_reason(reason))}</li>" for reason, count in by_reason.items()
    )
    why = "".join(f"<li>{e(r)}</li>" for r in (summary.get("selection") or {}).get("reasons", []))
    return (
        '<section id="overview"><h2>Overview</h2>'
        + (f'<p class="headline">{e(summary["headline"])}</p>' if summary.get("headline") else "")
        + f'<div class="kpis">{kpi_html}</div>'
        f'<div class="two"><div><h3>Why {e(k)} segment{"" if k == 1 else "s"}</h3><ul>{why}</ul>'
        + (f"<h3>Excluded customers, and why</h3><ul>{reasons}</ul>" if reasons else "")
        + f"</div><div><h3>Data quality</h3>{data_quality(summary)}</div></div></section>"
    )


def data_quality(summary: dict[str, Any]) -> str:
    """What happened to the rows, missing values treated, values capped, quality scores."""
    items = []
    account = summary.get("data") or {}
    for key, value in account.items():
        if key in _SKIP_ACCOUNT or isinstance(value, (list, dict)):
            continue
        text = (
            f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
        )
        items.append(f"<li>{e(key.replace('_', ' '))}: {e(text)}</li>")
    if account.get("as_of"):
        items.append(f"<li>features computed as of {e(account['as_of'])}</li>")
    for key in ("quality", "data_quality"):
        block = summary.get(key) or account.get(key)
        if isinstance(block, dict):
            for name, value in block.items():
                if isinstance(value, (int, float, str)) and not isinstance(value, bool):
                    shown = f"{value:.3g}" if isinstance(value, float) else str(value)
                    items.append(f"<li>quality {e(label(name).lower())}: {e(shown)}</li>")
    decisions = (summary.get("preparation") or {}).get("decisions") or []
    # One line per kind of treatment, the columns listed on it: readable with 30 features.
    filled = [
        f"{d['column']} ({int(d['missing']):,})"
        for d in decisions
        if d.get("action") == "imputed" and d.get("missing")
    ]
    capped = [
        f"{d['column']} ({int(d['values_clipped']):,})"
        if isinstance(d.get("values_clipped"), int)
        else str(d["column"])
        for d in decisions
        if d.get("action") == "winsorised"
    ]
    dropped = [
        f"{d['column']} ({d.get('reason', '')})" for d in decisions if d.get("action") == "dropped"
    ]
    for title, columns in (
        ("missing values filled with the median", filled),
        ("extreme values capped (Tukey's far-out fences)", capped),
        ("not used", dropped),
    ):
        if columns:
            items.append(f"<li>{e(title)}: {e(', '.join(columns))}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else note("Nothing to report.")


def distributions_chart(distributions: list[dict[str, Any]]) -> str:
    """Small multiples: a histogram per numeric feature, a bar chart per category."""
    shown = [d for d in distributions if d.get("counts")]
    if not shown:
        return ""
    cols = 3 if len(shown) > 2 else len(shown)
    rows = math.ceil(len(shown) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[label(d["feature"]) for d in shown],
        vertical_spacing=min(0.12, 0.5 / rows),
        horizontal_spacing=0.06,
    )
    for i, d in enumerate(shown):
        row, col = i // cols + 1, i % cols + 1
        if d["kind"] == "categorical":
            trace = go.Bar(
                x=d["levels"],
                y=d["counts"],
                marker_color="#56B4E9",
                hovertemplate="%{x}: %{y:,}<extra></extra>",
            )
        else:
            edges = d["edges"]
            centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
            widths = [b - a for a, b in itertools.pairwise(edges)]
            trace = go.Bar(
                x=centres, y=d["counts"], width=widths, marker_color="#0072B2",
                hovertemplate="%{x:.4g}: %{y:,}<extra></extra>",
            )  # fmt: skip
        fig.add_trace(trace, row=row, col=col)
    fig.update_layout(title="Every feature before clustering", showlegend=False, bargap=0.05)
    fig.update_xaxes(tickfont={"size": 9})
    clipped = [d for d in shown if d.get("above")]
    extra = (
        " Numbers show the bulk of customers up to their 99th percentile; the top 1% is "
        "left out of the picture."
        if clipped
        else ""
    )
    return chart(
        fig,
        "chart-distributions",
        "How the customers are spread on every feature (bar height = customers); "
        "categories show their most common levels." + extra,
        height=max(340, 230 * rows),
        top=84,
    )


def correlation_chart(correlation: dict[str, Any]) -> str:
    """Heatmap of the correlations between the prepared columns."""
    columns = correlation.get("columns") or []
    if len(columns) < 2:
        return ""
    labels = [label(c) for c in columns]
    fig = go.Figure(
        go.Heatmap(
            z=correlation["matrix"],
            x=labels,
            y=labels,
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            reversescale=True,
            colorbar={"title": "r"},
            hovertemplate="%{y} · %{x}: r = %{z:.2f}<extra></extra>",
        )
    )
    fig.update_layout(title="Correlation between features (as the model saw them)")
    fig.update_yaxes(autorange="reversed")
    truncated = " Only the first 40 columns are shown." if correlation.get("truncated") else ""
    return chart(
        fig,
        "chart-correlation",
        "Pearson correlation of every pair of prepared columns (after log transforms and "
        "one-hot encoding): red moves together, blue opposite. Strongly related features "
        "describe one behaviour twice and weigh double in the segments." + truncated,
        height=max(420, min(900, 160 + 18 * len(columns))),
    )


def catalogue_table(catalogue: list[dict[str, Any]]) -> str:
    """Every feature in words: definition, unit, how it was used."""
    if not catalogue:
        return ""
    rows = "".join(
        f"<tr><td><b>{e(c.get('label') or c['feature'])}</b><br><code>{e(c['feature'])}</code>"
        f"</td><td class='text'>{e(c.get('definition', ''))}</td>"
        f"<td class='text'>{e(c.get('unit', ''))}</td>"
        f"<td class='text'>{e(c.get('treatment', ''))}</td></tr>"
        for c in catalogue
    )
    return (
        '<div class="table-wrap"><table class="catalogue"><tr><th>feature</th>'
        "<th class='text'>definition</th>"
        "<th class='text'>unit</th><th class='text'>how the model used it</th></tr>"
        f"{rows}</table></div>"
    )
