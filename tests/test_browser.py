"""The report in a real browser: headless Chromium (Debian package) driven by Playwright.

Runs of Online Retail (a transaction log) and of Telco churn with ``--outcome Churn``:
every section and every chart is rendered with data, nothing is logged as an error, and
the page makes no network request (every request is intercepted; only ``file:`` and
``data:`` URLs are let through). Also the PDF and PNG exports through Chromium.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from segmint.cli import app
from tests.shop import write_shop

pytestmark = pytest.mark.realdata
runner = CliRunner()

SECTIONS = ["overview", "segments", "differences", "quality", "data", "profiles", "preparation"]
ALWAYS = {
    "chart-sizes", "chart-map", "chart-radar", "chart-heatmap", "chart-boxes", "chart-elbow",
    "chart-indices", "chart-silhouette", "chart-confidence", "chart-distributions",
    "chart-correlation",
}  # fmt: skip


def _fit(*args: object) -> None:
    result = runner.invoke(app, ["fit", *(str(a) for a in args)], catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def retail_run(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("retail") / "run"
    _fit(shared_data / "online-retail" / "online_retail.csv", "--out", out)
    return out


@pytest.fixture(scope="module")
def telco_run(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("telco") / "run"
    data = shared_data / "telco-churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv"
    _fit(data, "--out", out, "--outcome", "Churn", "--k", "3-4", "--compare")
    return out


def _open(browser: Any, report: Path) -> dict[str, Any]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    outside: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def intercept(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", intercept)
    page.on(
        "request", lambda r: None if r.url.startswith(("file:", "data:")) else outside.append(r.url)
    )
    page.goto(report.resolve().as_uri(), wait_until="load")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.chart .plotly-graph-div'))"
        ".every(d => d.querySelector('.main-svg'))",
        timeout=60_000,
    )
    info = {
        "sections": page.eval_on_selector_all("main > section", "els => els.map(e => e.id)"),
        "charts": page.eval_on_selector_all(
            ".chart .plotly-graph-div",
            """els => els.map(e => ({id: e.id, traces: (e.data || []).length,
                points: (e.data || []).reduce((n, t) =>
                    n + ((t.x || t.z || t.r || (t.node && t.node.label) || []).length || 0), 0),
                height: e.getBoundingClientRect().height,
                caption: (e.closest('figure').querySelector('figcaption') || {}).textContent}))""",
        ),
        "cards": page.eval_on_selector_all(".card h3", "els => els.map(e => e.textContent)"),
        "width": page.evaluate("document.documentElement.scrollWidth"),
        "problems": problems,
        "outside": outside,
    }
    page.close()
    return info


def _check(info: dict[str, Any], expected_sections: list[str], expected_charts: set[str]) -> None:
    assert info["problems"] == []
    assert info["outside"] == []
    assert info["sections"] == expected_sections
    charts = {c["id"]: c for c in info["charts"]}
    assert expected_charts <= set(charts), expected_charts - set(charts)
    for chart in charts.values():
        assert chart["traces"] > 0 and chart["points"] > 0, chart
        assert chart["height"] > 200 and len(chart["caption"]) > 40, chart
    assert info["width"] <= 1280  # nothing wider than a laptop screen


def test_online_retail_report_in_a_browser(browser: Any, retail_run: Path) -> None:
    info = _open(browser, retail_run / "report.html")
    _check(info, SECTIONS, ALWAYS)
    summary = json.loads((retail_run / "summary.json").read_text())
    assert info["cards"] == [s["name"] for s in summary["segments"]]


def test_telco_report_with_outcome_in_a_browser(browser: Any, telco_run: Path) -> None:
    info = _open(browser, telco_run / "report.html")
    sections = [
        "overview",
        "segments",
        "outcome",
        "differences",
        "quality",
        "comparison",
        "data",
        "profiles",
        "preparation",
    ]
    _check(info, sections, ALWAYS | {"chart-outcome", "chart-splits", "chart-tsne"})
    summary = json.loads((telco_run / "summary.json").read_text())
    outcome = summary["outcome"]
    assert outcome["label"] == "Churn = Yes rate" and outcome["test"] == "chi-squared"
    assert outcome["p_value"] < 1e-10 and abs(outcome["overall"] - 1869 / 7043) < 1e-12
    assert "Churn" not in summary["features_used"]
    assert summary["comparison"]["ks"] == [3, 4]


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_pdf_and_png_exports(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _fit(write_shop(tmp_path / "shop.csv"), "--out", out, "--k", "3")
    result = runner.invoke(app, ["report", str(out), "--format", "pdf"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    pdf = (out / "report.pdf").read_bytes()
    assert pdf[:5] == b"%PDF-" and pdf.count(b"/Type /Page") >= 3
    png = tmp_path / "slides" / "page.png"
    result = runner.invoke(app, ["report", str(out), "--format", "png", "--out", str(png)])
    assert result.exit_code == 0, result.output
    width, height = _png_size(png)
    assert width == 1280 and height > 3000
    html = tmp_path / "again.html"
    assert runner.invoke(app, ["report", str(out), "--out", str(html)]).exit_code == 0
    assert html.read_text() == (out / "report.html").read_text()


def test_missing_chromium_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    _fit(write_shop(tmp_path / "shop.csv"), "--out", out, "--k", "2")
    monkeypatch.setenv("SEGMINT_CHROMIUM", str(tmp_path / "no-chromium-here"))
    result = runner.invoke(app, ["report", str(out), "--format", "pdf"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'no-chromium-here'}: Chromium not found there (SEGMINT_CHROMIUM)"
    ]
    import segmint.report.export as export

    monkeypatch.delenv("SEGMINT_CHROMIUM")
    monkeypatch.setattr(export, "_CANDIDATES", ())
    result = runner.invoke(app, ["report", str(out), "--format", "png"])
    assert result.exit_code == 1 and "make chromium" in result.stderr
    assert not (out / "report.png").exists()
