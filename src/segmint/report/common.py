"""Small shared pieces of the report: escaping, numbers, segment colours, chart blocks."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from segmint.naming import humanise
from segmint.profile import SegmentProfile

# Okabe-Ito and Tableau tones: distinguishable, also for most colour-blind readers.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
    "#4E79A7", "#B07AA1", "#76B7B2", "#9C755F", "#EDC948", "#59A14F", "#FF9DA7",
)  # fmt: skip
UNASSIGNED_COLOUR = "#9AA5B1"
DASH = "\u2013"  # en dash, for ranges and unknown values
CHART_CONFIG = {"displaylogo": False, "responsive": True}
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"


def e(value: object) -> str:
    """HTML-escaped text."""
    return html.escape(str(value), quote=True)


def number(value: Any, unit: str = "") -> str:
    """A number for people: thousands separators, few decimals; a dash when unknown."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return DASH
    if not math.isfinite(value):
        return DASH
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:,.1f}"
    else:
        text = f"{value:,.2f}"
    if unit in ("days", "orders"):
        return f"{text} {unit}"
    return text


def share(value: Any) -> str:
    """A share as a percentage (a dash when unknown)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return DASH
    return f"{value:.1%}" if math.isfinite(value) else DASH


def colour(segment: int) -> str:
    """The colour of a segment in every chart (grey for unassigned customers)."""
    if segment < 0:
        return UNASSIGNED_COLOUR
    return PALETTE[segment % len(PALETTE)]


def label(feature: str) -> str:
    """A feature name in words, capitalised: ``avg_order_value`` -> "Avg order value"."""
    text = humanise(feature)
    return text[:1].upper() + text[1:]


def names_by_id(profiles: Sequence[SegmentProfile]) -> dict[int, str]:
    """Segment id -> name."""
    return {p.id: p.name for p in profiles}


def chart(fig: go.Figure, chart_id: str, caption: str, *, height: int = 380, top: int = 48) -> str:
    """One chart block: the figure (no plotly.js: the page has it once) and its caption.

    ``top`` is the top margin: charts with panel titles need room under the main title.
    """
    fig.update_layout(
        height=height,
        template="plotly_white",
        font={"family": FONT, "size": 12},
        margin={"l": 60, "r": 24, "t": top, "b": 48},
        title={"x": 0.01, "xanchor": "left", "font": {"size": 15}},
    )
    body = fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=chart_id, config=CHART_CONFIG
    )
    return (
        f'<figure class="chart" data-chart="{e(chart_id)}">{body}'
        f'<figcaption class="caption">{e(caption)}</figcaption></figure>'
    )


def note(text: str) -> str:
    """A muted paragraph."""
    return f'<p class="muted">{e(text)}</p>'
