"""The report's stability figures and dendrogram on a real fit (Mall customers), not mock
shapes: the numbers drawn are the ones the fit measured."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from segmint.runner import fit_file


@pytest.fixture(scope="module")
def ward_run(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Mall customers segmented by Ward's method (k chosen automatically)."""
    out = tmp_path_factory.mktemp("mall") / "out"
    fit_file(shared_data / "mall-customers" / "Mall_Customers.csv", out_dir=out,
             algorithm="ward")  # fmt: skip
    return out


def figure(page: str, chart_id: str) -> dict[str, Any]:
    """The data and layout Plotly draws in the chart ``chart_id`` of a report page."""
    start = page.index(f'data-chart="{chart_id}"')
    call = page.index("Plotly.newPlot(", start)
    rest = page[page.index(f'"{chart_id}"', call) + len(chart_id) + 2 :].lstrip(" ,\n")
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(rest)
    layout, _ = decoder.raw_decode(rest[end:].lstrip(" ,\n"))
    return {"data": data, "layout": layout}


def caption(page: str, chart_id: str) -> str:
    start = page.index(f'data-chart="{chart_id}"')
    found = re.search(r'<figcaption class="caption">([^<]+)</figcaption>', page[start:])
    assert found is not None
    return found.group(1)


def test_stability_figures_are_the_fits_own(ward_run: Path) -> None:
    summary = json.loads((ward_run / "summary.json").read_text())
    page = (ward_run / "report.html").read_text(encoding="utf-8")
    stability = summary["stability"]
    scores = summary["selection"]["scores"]
    # bootstrap ARI by k: the selection's per-k table, the k used in red
    by_k = figure(page, "chart-stability-k")["data"][0]
    expected = [(s["k"], s["stability"]) for s in scores if s.get("stability") is not None]
    assert list(zip(by_k["x"], by_k["y"], strict=True)) == expected
    assert len(expected) >= 5
    chosen = by_k["x"].index(summary["k"])
    assert by_k["marker"]["color"][chosen] == "#c0392b"
    assert "a k is called stable" in caption(page, "chart-stability-k")
    # per-segment Jaccard of the chosen model, one bar per segment, named
    bars = figure(page, "chart-stability-segments")["data"][0]
    assert bars["y"] == stability["jaccard"] and len(bars["y"]) == summary["k"]
    assert bars["x"] == [s["name"] for s in summary["segments"]]
    assert "below 0.5 the segment dissolves" in caption(page, "chart-stability-segments")
    # the overall figures in words
    assert f"mean adjusted Rand index {stability['bootstrap_ari']:.2f}" in page
    assert "this family gives the same answer for every seed" in page  # Ward: deterministic


def test_dendrogram_matches_the_models_tree(ward_run: Path) -> None:
    summary = json.loads((ward_run / "summary.json").read_text())
    page = (ward_run / "report.html").read_text(encoding="utf-8")
    info = summary["selection"]["model_info"]
    assert summary["algorithm"] == "ward" and info["sample_size"] == summary["n_customers"]
    drawn = figure(page, "chart-dendrogram")
    top = max(max(trace["y"]) for trace in drawn["data"])
    # every customer is in both trees, so the report's tree is the model's
    assert top == pytest.approx(info["dendrogram"]["merge_heights_top"][0], abs=1e-3)
    cut = [shape["y0"] for shape in drawn["layout"]["shapes"]]
    assert cut == [pytest.approx(info["dendrogram"]["cut_height"], abs=1e-3)]
    assert f"cut into {summary['k']} segments" in json.dumps(drawn["layout"]["annotations"])
    assert "Read from the top" in caption(page, "chart-dendrogram")


def test_seed_agreement_is_shown_for_a_family_that_depends_on_the_seed(
    shared_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    fit_file(shared_data / "mall-customers" / "Mall_Customers.csv", out_dir=out,
             algorithm="kmeans", k=5)  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    page = (out / "report.html").read_text(encoding="utf-8")
    seed = summary["stability"]["seed_ari"]
    assert seed is not None and f"mean adjusted Rand index {seed:.2f} over 3 other" in page
    bars = figure(page, "chart-stability-segments")["data"][0]
    assert bars["y"] == summary["stability"]["jaccard"] and len(bars["y"]) == 5
    assert "chart-dendrogram" not in page  # not hierarchical
