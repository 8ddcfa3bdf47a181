"""``migration.html``: how customers moved between two runs, as a Sankey chart.

One self-contained page (plotly.js embedded, no network request): the source segments on
the left, the destination segments on the right, a "new customers" source and a "gone"
destination; below it the matrix of counts and shares and the overall numbers.
"""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from segmint.monitor import Migration

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2933;
background:#f7f8fa}
main{max-width:1180px;margin:0 auto;padding:24px}h1{font-size:1.5rem;margin:0 0 4px}
h2{font-size:1.15rem;margin:24px 0 8px}.muted{color:#52606d}
.kpis{display:flex;flex-wrap:wrap;gap:18px;background:#fff;border:1px solid #d9e2ec;
border-radius:8px;padding:14px}
.kpis div{min-width:130px}.kpis b{display:block;font-size:1.3rem}
.chart{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:6px}
table{border-collapse:collapse;background:#fff;font-size:.85rem}
td,th{border:1px solid #d9e2ec;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
"""
_NEW = "(new customers)"
_GREY = "#9aa5b1"
# Plotly's default qualitative colours (D3 category10)
_PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


_GONE = "(gone)"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def migration_figure(
    migration: Migration, *, before: str = "before", after: str = "after"
) -> go.Figure:
    """The Sankey chart of a :class:`~segmint.monitor.Migration`.

    Parameters
    ----------
    migration : Migration
    before, after : str
        Names of the two runs, shown on the node labels' hover.
    """
    left = [f"{i} {migration.names_before.get(i, '')}".strip() for i in migration.counts.index]
    right = [f"{j} {migration.names_after.get(j, '')}".strip() for j in migration.counts.columns]
    labels = [*left, _NEW, *right, _GONE]
    n_left = len(left) + 1
    sources: list[int] = []
    targets: list[int] = []
    values: list[int] = []
    for a, row_id in enumerate(migration.counts.index):
        for b, col_id in enumerate(migration.counts.columns):
            count = int(migration.counts.loc[row_id, col_id])
            if count:
                sources.append(a)
                targets.append(n_left + b)
                values.append(count)
        gone = int(migration.gone.get(row_id, 0))
        if gone:
            sources.append(a)
            targets.append(len(labels) - 1)
            values.append(gone)
    for b, col_id in enumerate(migration.counts.columns):
        new = int(migration.new.get(col_id, 0))
        if new:
            sources.append(len(left))
            targets.append(n_left + b)
            values.append(new)
    # one colour per segment id on both sides; links take their source's colour
    ids = [*migration.counts.index, None, *migration.counts.columns, None]
    colours = [_GREY if i is None else _PALETTE[int(i) % len(_PALETTE)] for i in ids]
    link_colours = [_rgba(colours[s], 0.35) for s in sources]
    hover = [f"{before}: {label}" for label in left] + [f"{after}: new customers"]
    hover += [f"{after}: {label}" for label in right] + [f"{before}: not in {after}"]
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "pad": 14,
                "thickness": 16,
                "customdata": hover,
                "color": colours,
                "hovertemplate": "%{customdata}<br>%{value:,} customers<extra></extra>",
            },
            link={
                "source": sources,
                "target": targets,
                "value": values,
                "color": link_colours,
                "hovertemplate": "%{source.label} → %{target.label}: %{value:,}<extra></extra>",
            },
        )
    )
    figure.update_layout(
        margin={"l": 20, "r": 20, "t": 30, "b": 20},
        height=520,
        template="plotly_white",
        title={"text": f"{before} → {after}", "font": {"size": 14}},
    )
    return figure


def _matrix_table(migration: Migration) -> str:
    table = migration.table()
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = []
    for label, row in table.iterrows():
        total = sum(int(v) for c, v in row.items() if c != _GONE)
        cells = []
        for column, value in row.items():
            share = (
                f" <span class='muted'>({value / total:.0%})</span>"
                if (total and label != _NEW and column != _GONE)
                else ""
            )
            cells.append(f"<td>{int(value):,}{share}</td>")
        body.append(f"<tr><td>{_e(label)}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>from \\ to</th>{head}</tr>{''.join(body)}</table>"


def render_migration(
    migration: Migration,
    *,
    title: str = "Segment migration",
    before: str = "before",
    after: str = "after",
    notes: list[str] | None = None,
    context: dict[str, Any] | None = None,
) -> str:
    """The migration page as one HTML string.

    Parameters
    ----------
    migration : Migration
    title : str
    before, after : str
        Names of the two runs.
    notes : list of str, optional
        Lines shown under the numbers (new and retired segments, the champion decision).
    context : dict, optional
        Extra facts listed at the bottom (key: value).
    """
    figure = migration_figure(migration, before=before, after=after)
    chart = figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id="migration-sankey",
        config={"displaylogo": False},
    )
    items = "".join(f"<li>{_e(n)}</li>" for n in notes or [])
    facts = "".join(f"<li>{_e(k)}: {_e(v)}</li>" for k, v in (context or {}).items())
    stayed = migration.n_both - migration.n_moved
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{_STYLE}</style>
<script>{get_plotlyjs()}</script>
</head><body><main>
<h1>{_e(title)}</h1>
<div class="kpis"><div><b>{migration.n_both:,}</b>customers in both runs</div>
<div><b>{stayed:,}</b>stayed in their segment</div><div><b>{migration.n_moved:,}</b>moved</div>
<div><b>{migration.n_new:,}</b>new customers</div><div><b>{migration.n_gone:,}</b>gone</div></div>
<ul>{items}</ul>
<h2>Flows</h2><div class="chart" data-chart="migration-sankey">{chart}</div>
<h2>Transition matrix</h2><p class="muted">Counts of customers; in brackets the share of the
row's segment (customers in both runs).</p>{_matrix_table(migration)}
<ul>{facts}</ul>
</main></body></html>
"""
