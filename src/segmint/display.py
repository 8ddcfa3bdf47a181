"""Compact HTML tables for notebooks (``_repr_html_`` of results and models).

Plain HTML with inline styles only (notebooks strip ``<style>`` in some viewers), no
scripts, every value escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

_CELL = "padding:2px 8px;border-bottom:1px solid #e4e7eb;text-align:{align}"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: object, align: str = "left", tag: str = "td") -> str:
    return f'<{tag} style="{_CELL.format(align=align)}">{_e(value)}</{tag}>'


def _share(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{number:.1%}" if math.isfinite(number) else ""


def segment_table_html(
    segments: Sequence[dict[str, Any]],
    *,
    title: str,
    outcome: dict[str, Any] | None = None,
    note: str = "",
) -> str:
    """A segment table: id, name, customers, share, confidence, what sets it apart, action.

    Parameters
    ----------
    segments : sequence of dict
        One per segment with ``id``, ``name``, ``size``, ``share`` and optionally
        ``mean_confidence``, ``differentiators`` (words) and ``action``.
    title : str
        Caption line above the table.
    outcome : dict, optional
        An outcome overlay (``OutcomeOverlay.to_dict()``): adds its rate or mean.
    note : str
        A line under the table.
    """
    by_segment = {row["segment"]: row for row in (outcome or {}).get("segments", [])}
    columns = ["id", "name", "customers", "share"]
    if any("mean_confidence" in s for s in segments):
        columns.append("confidence")
    if outcome:
        columns.append(str(outcome.get("label", "outcome")))
    if any(s.get("differentiators") for s in segments):
        columns.append("sets them apart")
    columns.append("recommended action")
    head = "".join(_cell(c, "left", "th") for c in columns)
    rows = []
    for s in segments:
        cells = [
            _cell(s.get("id", ""), "right"),
            f'<td style="{_CELL.format(align="left")}"><b>{_e(s.get("name", ""))}</b></td>',
            _cell(f"{int(s.get('size', 0)):,}", "right"),
            _cell(_share(s.get("share")), "right"),
        ]
        if "confidence" in columns:
            confidence = s.get("mean_confidence")
            cells.append(_cell("" if confidence is None else f"{float(confidence):.2f}", "right"))
        if outcome:
            entry = by_segment.get(s.get("id"), {})
            value = entry.get("value")
            text = ""
            if value is not None:
                text = _share(value) if outcome.get("kind") == "rate" else f"{float(value):,.2f}"
            cells.append(_cell(text, "right"))
        if "sets them apart" in columns:
            cells.append(_cell(s.get("differentiators", "")))
        cells.append(_cell(s.get("action", "")))
        rows.append(f"<tr>{''.join(cells)}</tr>")
    foot = f'<p style="margin:4px 0;color:#52606d">{_e(note)}</p>' if note else ""
    return (
        f'<div class="segmint"><p style="margin:4px 0"><b>{_e(title)}</b></p>'
        f'<table style="border-collapse:collapse;font-size:0.9em">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{foot}</div>"
    )


def result_html(summary: dict[str, Any], profiles: Sequence[Any]) -> str:
    """The notebook view of a :class:`~segmint.pipeline.SegmentationResult`."""
    segments = [
        {
            "id": p.id,
            "name": p.name,
            "size": p.size,
            "share": p.share,
            "mean_confidence": p.mean_confidence,
            "differentiators": ", ".join(d.phrase() for d in p.differentiators[:2]),
            "action": p.action,
        }
        for p in profiles
    ]
    k = summary.get("k", len(segments))
    title = (
        f"segmint: {summary.get('n_customers', 0):,} customers in {k} segment"
        f"{'' if k == 1 else 's'} ({summary.get('algorithm', '')})"
    )
    excluded = summary.get("n_excluded", 0)
    note = f"{excluded:,} customers excluded (see .excluded)" if excluded else ""
    return segment_table_html(segments, title=title, outcome=summary.get("outcome"), note=note)


def model_html(model: Any) -> str:
    """The notebook view of a :class:`~segmint.pipeline.SegmentationModel`."""
    training = model.training or {}
    algorithm = (model.params or {}).get("algorithm", "")
    title = (
        f"segmint model: {len(model.segments)} segments ({algorithm}), fitted on "
        f"{int(training.get('n_customers', 0)):,} customers of {training.get('source', '')}"
    )
    note = f"fingerprint {model.fingerprint()} · created {model.created}"
    return segment_table_html(model.segments, title=title, note=note)
