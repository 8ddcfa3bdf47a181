"""The report page: every section and chart, robust to k = 1, unassigned customers,
missing chart data and indices or stability figures it does not know."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from plotly.offline import get_plotlyjs

import segmint
from segmint.compare import compare_k
from segmint.explain import build_exhibits
from segmint.profile import profile_frame, segment_profiles
from segmint.report import render_report
from tests.shop import write_shop

PLOTLY_HEADER = get_plotlyjs()[:60]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = write_shop(tmp_path_factory.mktemp("shop") / "shop.csv", churn=True)
    frame = segmint.read_table(path).frame
    result = segmint.segment(frame, k=(2, 5), outcome="churned")
    matrix, _ = result.model.preparation.transform(result.features)
    values = profile_frame(result.features, result.model.preparation)
    exhibits = build_exhibits(
        matrix=matrix, labels=result.labels, values=values, customers=result.features,
        preparation=result.model.preparation,
    )  # fmt: skip
    return {"result": result, "matrix": matrix, "values": values, "exhibits": exhibits}


def _charts(page: str) -> list[str]:
    return re.findall(r'data-chart="([^"]+)"', page)


def _self_contained(page: str) -> None:
    assert page.count(PLOTLY_HEADER) == 1
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['\"]?http", page)


def test_full_report_has_every_section_and_chart(shop: dict[str, Any]) -> None:
    result = shop["result"]
    summary = dict(result.summary)
    comparison = compare_k(shop["matrix"], shop["values"], [2, 3, 4], random_state=0)
    summary["comparison"] = comparison.to_dict()
    page = render_report(summary, result.profiles, shop["exhibits"])
    _self_contained(page)
    sections = re.findall(r'<section id="([^"]+)"', page)
    assert sections == [
        "overview", "segments", "outcome", "differences", "quality", "comparison", "data",
        "profiles", "preparation",
    ]  # fmt: skip
    charts = _charts(page)
    for expected in (
        "chart-sizes", "chart-map", "chart-radar", "chart-heatmap", "chart-boxes", "chart-outcome",
        "chart-elbow", "chart-indices", "chart-silhouette", "chart-confidence", "chart-splits",
        "chart-distributions", "chart-correlation",
    ):  # fmt: skip
        assert expected in charts
    # every chart has a caption, and there is one card per segment
    assert page.count('class="caption"') == len(charts)
    assert page.count('class="card"') == result.model.k
    assert "churned = 1 rate" in page and "Feature catalogue" in page
    # the overview opens with the plain sentence on how strong the structure is
    overview = page[page.index('<section id="overview">') :]
    first = re.search(r'<p class="headline">([^<]+)</p>', overview)
    assert first is not None and overview.index(first.group(0)) < overview.index('class="kpis"')
    assert first.group(1) == summary["headline"].replace("'", "&#x27;")
    assert summary["headline"].split(":")[0] in {
        "Strong structure", "Moderate structure", "Weak structure", "No reliable segments",
    }  # fmt: skip
    for p in result.profiles:
        assert p.name in page and p.action in page


def test_report_without_chart_data_still_renders(shop: dict[str, Any]) -> None:
    result = shop["result"]
    page = render_report(result.summary, result.profiles)
    _self_contained(page)
    assert {"chart-sizes", "chart-heatmap", "chart-elbow"} <= set(_charts(page))


def test_one_segment(shop: dict[str, Any]) -> None:
    values = shop["values"]
    labels = np.zeros(len(values), dtype=int)
    profiles = segment_profiles(values, labels, np.ones(len(values)), 1)
    exhibits = build_exhibits(
        matrix=shop["matrix"], labels=labels, values=values, customers=shop["result"].features,
        preparation=shop["result"].model.preparation,
    )  # fmt: skip
    summary = {
        "k": 1, "n_customers": len(values), "n_excluded": 0, "algorithm": "kmeans",
        "selection": {"k": 1, "mode": "auto", "rule": "no structure", "reasons": ["none"],
                      "scores": [{"k": 1, "wcss": 10.0, "silhouette": None}]},
    }  # fmt: skip
    page = render_report(summary, profiles, exhibits)
    assert "All customers" in page and "chart-silhouette" not in _charts(page)
    assert "there is no comparison of k to draw" not in page or "chart-elbow" not in _charts(page)


def test_unassigned_segment_and_unknown_indices(shop: dict[str, Any]) -> None:
    values = shop["values"]
    labels = shop["result"].labels.copy()
    labels[:4] = -1
    k = shop["result"].model.k
    profiles = segment_profiles(values, labels, np.full(len(values), 0.5), k)
    exhibits = build_exhibits(
        matrix=shop["matrix"], labels=labels, values=values, customers=shop["result"].features,
        preparation=shop["result"].model.preparation, algorithm="agglomerative",
    )  # fmt: skip
    scores = [
        {"k": k, "wcss": 100.0 / k, "silhouette": 0.2 + 0.01 * k, "gap": 0.1 * k, "gap_sd": 0.02,
         "stability": 0.9 - 0.05 * k, "brand_new_index": float(k)}
        for k in (2, 3, 4)
    ]  # fmt: skip
    summary = {
        "k": k, "n_customers": len(values), "n_excluded": 2,
        "excluded_by_reason": {"no_purchases": 2}, "algorithm": "hdbscan",
        "selection": {"k": k, "knee": 3, "rule": "r", "reasons": ["r"], "scores": scores},
        "stability": {
            "method": "bootstrap, 20 resamples", "mean_jaccard": 0.81,
            "per_segment": [{"segment": 0, "jaccard": 0.9}, {"segment": 1, "jaccard": 0.7},
                            {"segment": -1, "jaccard": 0.2}],
            "by_k": [{"k": 2, "ari": 0.8}, {"k": 3, "ari": 0.75}],
        },
    }  # fmt: skip
    page = render_report(summary, profiles, exhibits)
    _self_contained(page)
    charts = _charts(page)
    assert (
        "chart-dendrogram" in charts
        and "chart-stability-0" in charts
        and "chart-stability-1" in charts
    )
    assert "Unassigned" in page and "fit no segment" in page
    for words in ("Gap statistic", "Stability", "Brand new index", "Mean jaccard: 0.81"):
        assert words in page


def test_report_size_is_reasonable(shop: dict[str, Any]) -> None:
    result = shop["result"]
    page = render_report(result.summary, result.profiles, shop["exhibits"])
    assert len(page) - len(get_plotlyjs()) < 1_000_000


def test_notebook_tables(shop: dict[str, Any], tmp_path: Path) -> None:
    result = shop["result"]
    k = result.model.k
    table = result._repr_html_()
    assert table.count("<tr>") == k + 1 and "churned = 1 rate" in table and "<script" not in table
    for p in result.profiles:
        assert p.name in table
    model = result.model._repr_html_()
    assert f"segmint model: {k} segments" in model and model.count("<tr>") == k + 1
    loaded = segmint.load_model(segmint.save_model(result.model, tmp_path / "m"))
    assert loaded._repr_html_().count("<tr>") == k + 1
