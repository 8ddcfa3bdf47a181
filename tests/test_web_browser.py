"""The web app in a real browser: headless Chromium (Debian package) driven by Playwright,
against the service started on a free 127.0.0.1 port.

Walks the whole loop on Online Retail: upload the file through the page, confirm the
detected roles, run with k auto, wait for completion, rename a segment, download
segments.csv (and excluded.csv) and check every customer is accounted for. On the Mall
customers: choose the algorithm and k, run twice, and see the migration between the runs.
Every request the pages make is recorded: none may leave the server. Keyboard and
1280 x 800 checks.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import expect

from segmint.web import Settings, create_app

pytestmark = pytest.mark.realdata


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _serve(workspace: Path) -> Iterator[str]:
    """The service on a free 127.0.0.1 port, in a thread of this process."""
    import uvicorn

    port = _free_port()
    app = create_app(Settings(workspace=workspace, port=port))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _serve(tmp_path_factory.mktemp("web") / "ws") as origin:
        yield origin


def _page(browser: Any, origin: str) -> tuple[Any, Any, list[str], list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    outside: list[str] = []
    problems: list[str] = []

    def record(request: Any) -> None:
        url = request.url
        if not url.startswith((origin + "/", "data:", "blob:", "about:")):
            outside.append(url)

    context.on("request", record)
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith((origin + "/", "data:", "blob:"))
            else route.abort()
        ),
    )
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return context, page, outside, problems


def test_the_whole_loop_in_a_browser(
    browser: Any, server: str, shared_data: Path, tmp_path: Path
) -> None:
    data = shared_data / "online-retail" / "online_retail.csv"
    started = time.monotonic()
    context, page, outside, problems = _page(browser, server)
    page.goto(server + "/", wait_until="load")

    page.set_input_files("#file", str(data))
    page.click("#upload-button")
    page.wait_for_selector("#roles-section:not([hidden])", timeout=120_000)
    assert page.input_value("#role-customer") == "CustomerID"
    assert page.input_value("#role-time") == "InvoiceDate"
    assert page.input_value("#role-order") == "InvoiceNo"
    assert page.input_value("#k") == "auto"

    page.click("#run-button")
    page.wait_for_selector("#progress-box:not([hidden])")
    expect(page.locator("#progress-status")).to_have_text(re.compile(r"^Done"), timeout=600_000)
    assert page.eval_on_selector("#progress", "e => e.value") == 1
    page.wait_for_selector("#segments-section:not([hidden])")
    cards = page.eval_on_selector_all(".card h3", "els => els.map(e => e.textContent)")
    assert len(cards) >= 2

    first = cards[0].split(" · ")[0]
    page.fill(f"#name-{first}", "Our gift-shop regulars")
    page.click(f"#seg-title-{first} ~ form button")
    expect(page.locator(f"#seg-title-{first}")).to_have_text(f"{first} · Our gift-shop regulars")

    with page.expect_download() as download_info:
        page.click("#download-segments")
    segments_file = tmp_path / "segments.csv"
    download_info.value.save_as(segments_file)
    with page.expect_download() as excluded_info:
        page.click("#download-excluded")
    excluded_file = tmp_path / "excluded.csv"
    excluded_info.value.save_as(excluded_file)
    loop_seconds = time.monotonic() - started

    segments = pd.read_csv(segments_file, dtype={"customer_id": "string"})
    excluded = pd.read_csv(excluded_file, dtype={"customer_id": "string"})
    raw = pd.read_csv(data, usecols=["CustomerID"], encoding="latin-1")["CustomerID"].dropna()
    ids = {str(int(v)) for v in raw}
    assert segments["customer_id"].is_unique
    assert set(segments["customer_id"]) | set(excluded["customer_id"]) == ids
    assert not set(segments["customer_id"]) & set(excluded["customer_id"])
    assert len(segments) > 4300
    assert (segments["segment_name"] == "Our gift-shop regulars").sum() == (
        segments["segment"] == int(first)
    ).sum()

    expect(page.locator("#runs tbody tr")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert outside == [] and problems == []
    context.close()
    print(f"browser loop: {loop_seconds:.1f} s")


def test_pages_are_keyboard_navigable_and_make_no_outside_request(
    browser: Any, server: str
) -> None:
    context, page, outside, problems = _page(browser, server)
    page.goto(server + "/", wait_until="load")
    unlabelled = page.eval_on_selector_all(
        "input, select",
        "els => els.filter(e => !e.labels || e.labels.length === 0).map(e => e.id)",
    )
    assert unlabelled == []
    focused = []
    for _ in range(4):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    assert "file" in focused and "upload-button" in focused
    assert page.eval_on_selector_all("[onclick]", "els => els.length") == 0
    page.goto(server + "/docs", wait_until="networkidle")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert outside == [] and problems == []
    context.close()


def test_choose_the_algorithm_and_see_the_migration(
    browser: Any, shared_data: Path, tmp_path: Path
) -> None:
    """Two runs of a small customer table with two algorithms and k, then the migration
    (Sankey chart and matrix) between them."""
    data = shared_data / "mall-customers" / "Mall_Customers.csv"
    with _serve(tmp_path / "ws") as origin:
        context, page, outside, problems = _page(browser, origin)
        page.goto(origin + "/", wait_until="load")
        page.set_input_files("#file", str(data))
        page.click("#upload-button")
        page.wait_for_selector("#fit-section:not([hidden])", timeout=60_000)
        assert page.input_value("#algorithm") == "auto"
        expect(page.locator("#algorithm-help")).to_contain_text("Compares k-means")
        page.select_option("#algorithm", "hdbscan")
        expect(page.locator("#algorithm-help")).to_contain_text("Finds dense groups")
        assert page.is_disabled("#k") and page.input_value("#k") == "auto"

        runs = []
        for algorithm, k in (("gmm", "3"), ("ward", "4")):
            page.select_option("#algorithm", algorithm)
            assert page.is_enabled("#k")
            page.fill("#k", k)
            page.click("#run-button")
            done = re.compile(rf"^Done .*: {k} segments of 200 customers")
            expect(page.locator("#progress-status")).to_have_text(done, timeout=120_000)
            expect(page.locator(".card")).to_have_count(int(k))
            runs.append(page.text_content("#run-facts").split(" ")[0])

        expect(page.locator("#migration-box")).to_be_visible()
        assert [page.input_value("#migration-from"), page.input_value("#migration-to")] == runs
        page.click("#migration-button")
        expect(page.locator("#migration-facts")).to_contain_text(
            f"From {runs[0]} to {runs[1]}: 200 customers in both runs"
        )
        sankey = page.frame_locator("#migration-frame").locator("#migration-sankey .sankey")
        expect(sankey).to_have_count(1, timeout=30_000)
        assert page.get_attribute("#open-migration", "href") == (
            f"/api/v1/runs/{runs[1]}/migration.html?from={runs[0]}"
        )
        expect(page.locator("#migration tbody tr")).to_have_count(4)  # 3 segments + new
        assert outside == [] and problems == []
        context.close()
