"""The HTML report: one self-contained file (Plotly bundled), readable offline."""

from segmint.report.html import render_report

__all__ = ["render_report"]
