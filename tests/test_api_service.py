"""The service's JSON API in-process (FastAPI TestClient): every route, the one error body,
auth on and off, upload limits, rate limits, a fit job end to end."""

from __future__ import annotations

import gzip
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from segmint.algorithms import ALGORITHMS
from segmint.io import LoadedTable
from segmint.store import Workspace, fit_workspace
from segmint.web import Settings, create_app
from tests.shop import write_shop

API_ROUTES_NEEDING_DATA = {"/api/v1/fit", "/api/v1/refresh", "/api/v1/monitor"}


def _check_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"ok", "error", "errors", "status"}
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list)
    return body


def _customers(n: int = 90, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    groups = np.repeat([0, 1, 2], n // 3)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:03d}" for i in range(len(groups))],
            "spend": np.array([50.0, 400.0, 1500.0])[groups] * rng.uniform(0.8, 1.2, len(groups)),
            "visits": np.array([2, 10, 30])[groups] + rng.integers(0, 3, len(groups)),
            "plan": np.array(["basic", "plus", "pro"])[groups],
        }
    )


def _api_routes(app: Any) -> list[tuple[str, set[str]]]:
    """Every API route and its methods (from the OpenAPI document: all of them are in it)."""
    paths = app.openapi()["paths"]
    return [
        (path, {m.upper() for m in ops})
        for path, ops in paths.items()
        if path.startswith("/api/v1")
    ]


def _wait(client: TestClient, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()["job"]
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


@pytest.fixture(scope="module")
def table_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace serving a customer-table model (numeric and categorical features)."""
    ws = tmp_path_factory.mktemp("table") / "ws"
    frame = _customers()
    fit_workspace(ws, LoadedTable(frame, "customers.csv", "csv", {}), k=3)
    return ws


@pytest.fixture
def client(table_workspace: Path) -> Iterator[TestClient]:
    app = create_app(Settings(workspace=table_workspace))
    with TestClient(app) as test_client:
        test_client.fastapi = app  # type: ignore[attr-defined]
        yield test_client


def test_health_version_options(client: TestClient) -> None:
    health = client.get("/api/v1/health").json()
    champion = Workspace(client.fastapi.state.service.workspace.path).state().champion  # type: ignore[attr-defined]
    assert health["ok"] is True and health["champion"] == champion and health["runs"] == 1
    assert client.get("/api/v1/version").json()["version"] == health["version"]
    options = client.get("/api/v1/options").json()
    assert [a["id"] for a in options["algorithms"]] == list(ALGORITHMS)
    assert all(a["explanation"] for a in options["algorithms"])
    assert all(c["explanation"] for c in options["k"])


def test_fit_validates_the_algorithm(client: TestClient) -> None:
    dataset = "0123456789abcdef"
    body = _check_error(
        client.post("/api/v1/fit", json={"dataset_id": dataset, "algorithm": "optics"}), 422
    )
    assert body["error"].startswith("algorithm: ") and "kmeans, gmm, ward" in body["error"]
    body = _check_error(
        client.post("/api/v1/fit", json={"dataset_id": dataset, "algorithm": "hdbscan", "k": 3}),
        422,
    )
    assert "hdbscan finds the number of segments itself" in body["error"]
    body = _check_error(
        client.post("/api/v1/fit", json={"dataset_id": dataset, "algorithm": "dbscan", "k": 3}),
        422,
    )
    assert "dbscan finds the number of segments itself" in body["error"]
    # a known algorithm passes validation: the unknown dataset is what is left
    _check_error(client.post("/api/v1/fit", json={"dataset_id": dataset, "algorithm": "GMM"}), 404)


def test_assign_matches_the_model_on_random_customers(
    client: TestClient, table_workspace: Path
) -> None:
    ws = Workspace(table_workspace)
    model = ws.load_model(ws.state().champion or "")
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "customer_id": [f"N{i}" for i in range(60)],
            "spend": rng.uniform(0, 2500, 60),
            "visits": rng.integers(0, 40, 60),
            "plan": rng.choice(["basic", "plus", "pro", "enterprise", " pro "], 60),
        }
    )
    expected, _ = model.label_customers(frame)
    for row, want in zip(frame.to_dict(orient="records"), expected.itertuples(), strict=True):
        features = {
            k: (v.item() if hasattr(v, "item") else v) for k, v in row.items() if k != "customer_id"
        }
        got = client.post(
            "/api/v1/assign", json={"customer_id": row["customer_id"], "features": features}
        ).json()
        assert (got["segment"], got["segment_name"]) == (want.segment, want.segment_name)
        assert got["confidence"] == pytest.approx(want.confidence, abs=1e-9)


def test_assign_missing_unseen_and_text_values_follow_segmint_assign(
    client: TestClient, table_workspace: Path
) -> None:
    ws = Workspace(table_workspace)
    model = ws.load_model(ws.state().champion or "")
    cases = [
        {"spend": 420.0, "visits": 11},  # plan missing
        {"spend": 420.0, "visits": 11, "plan": "gold"},  # unseen level
        {"spend": "420", "visits": 11, "plan": "plus"},  # a number as text: pandas path
        {"spend": None, "visits": 11, "plan": "plus"},  # a null
        {"spend": 420.0, "visits": 11, "plan": "plus", "extra": 1},  # ignored like an extra column
    ]
    for features in cases:
        frame = pd.DataFrame({"customer_id": ["X"], **{k: [v] for k, v in features.items()}})
        expected, notes = model.label_customers(frame)
        got = client.post("/api/v1/assign", json={"customer_id": "X", "features": features}).json()
        assert got["segment"] == int(expected["segment"].iloc[0]), features
        assert got["confidence"] == pytest.approx(float(expected["confidence"].iloc[0]), abs=1e-9)
        assert got["notes"] == notes
    assert (
        client.post(
            "/api/v1/assign",
            json={"customer_id": 7, "features": {"spend": 1.0, "visits": 2, "plan": "pro"}},
        ).json()["customer_id"]
        == "7"
    )
    body = _check_error(
        client.post("/api/v1/assign", json={"customer_id": "X", "features": {"other": 1}}), 422
    )
    assert body["error"] == (
        "customer X: most feature columns the model needs are missing: "
        + ", ".join(model.preparation.input_columns)
    )


def test_every_route_has_the_error_body(client: TestClient) -> None:
    routes = _api_routes(client.fastapi)  # type: ignore[attr-defined]
    assert len(routes) >= 22
    for route_path, methods in routes:
        path = route_path.replace("{run_id}", "run-9999").replace("{segment_id}", "99")
        path = path.replace("{dataset_id}", "0123456789abcdef").replace(
            "{job_id}", "0123456789abcdef"
        )
        for method in methods:
            if "{" not in route_path and method == "GET":
                continue  # listings succeed; their errors are covered by auth and 405 below
            if method in ("POST", "PATCH"):
                response = client.request(method, path, json={"unknown_field": 1})
                _check_error(
                    response, 422 if route_path not in ("/api/v1/jobs/{job_id}/cancel",) else 404
                )
            else:
                response = client.request(method, path)
                _check_error(response, 404)
        wrong = "PUT" if "PUT" not in methods else "DELETE"
        _check_error(client.request(wrong, path), 405)
    _check_error(client.get("/api/v1/no-such-route"), 404)
    _check_error(
        client.post(
            "/api/v1/assign", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
    )


def test_a_bug_is_a_500_with_the_error_body(
    table_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings(workspace=table_workspace))
    with TestClient(app, raise_server_exceptions=False) as test_client:

        def broken(*_: Any) -> None:
            raise RuntimeError("boom")

        monkeypatch.setattr(app.state.service.workspace, "state", broken)
        body = _check_error(test_client.get("/api/v1/health"), 500)
        assert body["error"] == "internal error (RuntimeError)"


def test_token_is_required_on_every_api_route_when_set(table_workspace: Path) -> None:
    settings = Settings(workspace=table_workspace, host="0.0.0.0", api_token="s3cret")
    app = create_app(settings)
    with TestClient(app) as test_client:
        for path, methods in _api_routes(app):
            for method in methods:
                _check_error(test_client.request(method, path), 401)
        _check_error(
            test_client.get("/api/v1/health", headers={"Authorization": "Bearer wrong"}), 401
        )
        assert (
            test_client.get(
                "/api/v1/health", headers={"Authorization": "Bearer s3cret"}
            ).status_code
            == 200
        )
        assert (
            test_client.get("/").status_code == 200
        )  # the page itself is public; its API calls are not


def test_binding_off_loopback_without_a_token_is_refused(table_workspace: Path) -> None:
    from segmint.errors import UsageError

    with pytest.raises(UsageError, match="not a loopback address"):
        create_app(Settings(workspace=table_workspace, host="0.0.0.0"))
    create_app(Settings(workspace=table_workspace, host="::1"))


def test_upload_limits_names_and_formats(table_workspace: Path) -> None:
    settings = Settings(workspace=table_workspace, max_upload_bytes=2000, max_json_bytes=500)
    with TestClient(create_app(settings)) as test_client:
        big = b"customer_id,spend\n" + b"C1,1.0\n" * 400
        _check_error(test_client.post("/api/v1/datasets", files={"file": ("big.csv", big)}), 413)
        _check_error(
            test_client.post(
                "/api/v1/assign",
                json={"customer_id": "x", "features": {f"f{i}": i for i in range(100)}},
            ),
            413,
        )
        _check_error(test_client.post("/api/v1/datasets", files={"file": ("x.exe", b"MZ")}), 400)
        up = test_client.post(
            "/api/v1/datasets",
            files={"file": ("../../etc/passwd.csv", b"customer_id,spend\nA,1\nB,2\n")},
        )
        assert up.status_code == 201
        dataset = up.json()["dataset"]
        assert dataset["name"] == "passwd.csv" and "path" not in dataset
        stored = table_workspace / "service" / "datasets" / dataset["id"]
        assert sorted(p.name for p in stored.iterdir()) == ["data.csv", "meta.json"]
        _check_error(test_client.get("/api/v1/datasets/..%2F..%2Fetc"), 404)
        info = test_client.get(f"/api/v1/datasets/{dataset['id']}").json()["dataset"]
        assert info["rows"] == 2 and [c["name"] for c in info["columns"]] == [
            "customer_id",
            "spend",
        ]
        assert info["preview"] == [
            {"customer_id": "A", "spend": 1},
            {"customer_id": "B", "spend": 2},
        ]
        assert (
            test_client.delete(f"/api/v1/datasets/{dataset['id']}").json()["deleted"]
            == dataset["id"]
        )
        assert not stored.exists()
        packed = test_client.post(
            "/api/v1/datasets",
            files={"file": ("spend.CSV.gz", gzip.compress(b"customer_id,spend\nA,1\nB,2\n"))},
        )
        assert packed.status_code == 201
        packed_id = packed.json()["dataset"]["id"]
        stored = table_workspace / "service" / "datasets" / packed_id
        assert sorted(p.name for p in stored.iterdir()) == ["data.csv.gz", "meta.json"]
        info = test_client.get(f"/api/v1/datasets/{packed_id}").json()["dataset"]
        assert info["format"] == "csv" and info["rows"] == 2
        _check_error(test_client.post("/api/v1/datasets", files={"file": ("x.gz", b"")}), 400)


def test_security_headers_and_offline_docs(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and '<form id="upload-form">' in page.text
    csp = page.headers["content-security-policy"]
    assert (
        "default-src 'self'" in csp
        and "script-src 'self';" in csp
        and "frame-ancestors 'self'" in csp
    )
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    docs = client.get("/docs").text
    assert "/vendor/swagger/swagger-ui-bundle.js" in docs and "http" not in docs.replace(
        "http-equiv", ""
    )
    assert client.get("/vendor/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/vendor/plotly/plotly.min.js").status_code == 200
    assert client.get("/openapi.json").json()["paths"]["/api/v1/assign"]


def test_rate_limit_on_expensive_calls(table_workspace: Path) -> None:
    settings = Settings(workspace=table_workspace, expensive_per_minute=2)
    with TestClient(create_app(settings)) as test_client:
        body = {"dataset_id": "0123456789abcdef"}
        for _ in range(2):
            _check_error(test_client.post("/api/v1/monitor", json=body), 404)
        response = test_client.post("/api/v1/monitor", json=body)
        _check_error(response, 429)
        assert int(response.headers["retry-after"]) >= 1


def test_batch_assignment_returns_a_file(client: TestClient, table_workspace: Path) -> None:
    frame = _customers(30, seed=5)
    response = client.post(
        "/api/v1/assign/batch", files={"file": ("new.csv", frame.to_csv(index=False).encode())}
    )
    assert response.status_code == 200, response.text
    labels = pd.read_csv(io.BytesIO(response.content), dtype={"customer_id": "string"})
    ws = Workspace(table_workspace)
    expected, _ = ws.load_model(ws.state().champion or "").label_customers(frame)
    assert labels["customer_id"].tolist() == expected["customer_id"].tolist()
    assert labels["segment"].tolist() == expected["segment"].tolist()
    assert response.headers["x-segmint-excluded"] == "0"
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    parquet = client.post(
        "/api/v1/assign/batch", files={"file": ("new.parquet", buffer.getvalue())}
    )
    assert (
        pd.read_parquet(io.BytesIO(parquet.content))["segment"].tolist()
        == expected["segment"].tolist()
    )


def test_fit_job_end_to_end(tmp_path: Path) -> None:
    """Upload a transaction log, fit (a real process), read the run, rename, download,
    assign, monitor, refresh, cancel."""
    data = write_shop(tmp_path / "shop.csv")
    with TestClient(create_app(Settings(workspace=tmp_path / "ws"))) as test_client:
        _check_error(
            test_client.post("/api/v1/assign", json={"customer_id": "x", "features": {}}), 409
        )
        up = test_client.post(
            "/api/v1/datasets", files={"file": ("shop.csv", data.read_bytes())}
        ).json()
        info = test_client.get(f"/api/v1/datasets/{up['dataset']['id']}").json()["dataset"]
        assert (
            info["roles"]["kind"] == "transactions" and info["roles"]["customer"] == "customer_id"
        )
        started = test_client.post(
            "/api/v1/fit",
            json={
                "dataset_id": info["id"],
                "roles": {k: v for k, v in info["roles"].items() if k != "kind"},
                "k": "auto",
                "algorithm": "ward",
            },
        )
        assert started.status_code == 202
        _check_error(test_client.post("/api/v1/fit", json={"dataset_id": info["id"]}), 409)
        job = _wait(test_client, started.json()["job"]["id"])
        assert job["status"] == "done", job
        assert job["progress"] == 1.0 and next(e["step"] for e in job["log"]) == "reading data"
        run_id = job["result"]["run_id"]
        run = test_client.get(f"/api/v1/runs/{run_id}").json()
        assert run["report"] is True and run["run"]["source"] == "shop.csv"
        assert run["summary"]["fit"]["algorithm"] == "ward"
        assert sum(s["size"] for s in run["segments"]) == 120
        segments = pd.read_csv(
            io.BytesIO(test_client.get(f"/api/v1/runs/{run_id}/segments.csv").content),
            dtype={"customer_id": "string"},
        )
        assert len(segments) == 120 and segments["customer_id"].is_unique
        report = test_client.get(f"/api/v1/runs/{run_id}/report.html")
        assert report.status_code == 200 and "sandbox" in report.headers["content-security-policy"]
        renamed = test_client.patch(
            f"/api/v1/segments/{run['segments'][0]['id']}",
            json={"name": "Our best", "action": "Call them"},
        )
        assert renamed.json()["segment"]["name"] == "Our best"
        assert "Our best" in test_client.get(f"/api/v1/runs/{run_id}/report.html").text
        assert "Our best" in test_client.get(f"/api/v1/runs/{run_id}/segments.csv").text
        assert test_client.get("/api/v1/segments").json()["segments"][0]["name"] == "Our best"
        _check_error(test_client.patch("/api/v1/segments/1", json={"name": "Our best"}), 400)
        profiles = test_client.get(f"/api/v1/runs/{run_id}/profiles").json()["profiles"]
        assert len(profiles) == len(run["segments"])
        features = Workspace(tmp_path / "ws").features(run_id).iloc[0].to_dict()
        label = test_client.post(
            "/api/v1/assign",
            json={
                "customer_id": features.pop("customer_id"),
                "features": {
                    k: (None if pd.isna(v) else v)
                    for k, v in features.items()
                    if not isinstance(v, str)
                },
            },
        ).json()
        assert label["segment"] == int(
            segments.set_index("customer_id").loc[label["customer_id"], "segment"]
        )
        monitor = test_client.post("/api/v1/monitor", json={"dataset_id": info["id"]}).json()[
            "monitor"
        ]
        assert (
            monitor["verdict"] in ("fine", "watch", "retrain")
            and monitor["data"]["source"] == "shop.csv"
        )
        refresh = _wait(
            test_client,
            test_client.post("/api/v1/refresh", json={"dataset_id": info["id"]}).json()["job"][
                "id"
            ],
        )
        assert refresh["status"] == "done", refresh
        assert (
            test_client.get(f"/api/v1/runs/{refresh['result']['run_id']}/migration").json()[
                "migration"
            ]["n_both"]
            == 120
        )
        refreshed = refresh["result"]["run_id"]
        sankey = test_client.get(f"/api/v1/runs/{refreshed}/migration.html?from={run_id}")
        assert sankey.status_code == 200 and "sandbox" in sankey.headers["content-security-policy"]
        assert 'id="migration-sankey"' in sankey.text and f"{run_id} → {refreshed}" in sankey.text
        _check_error(test_client.get(f"/api/v1/runs/{run_id}/migration.html?from={run_id}"), 400)
        _check_error(test_client.get(f"/api/v1/runs/{run_id}/migration.html"), 400)  # first run
        runs_before = test_client.get("/api/v1/runs").json()["runs"]
        cancelled = test_client.post("/api/v1/fit", json={"dataset_id": info["id"]}).json()["job"]
        assert (
            test_client.post(f"/api/v1/jobs/{cancelled['id']}/cancel").json()["job"]["status"]
            == "cancelled"
        )
        _check_error(test_client.post(f"/api/v1/jobs/{cancelled['id']}/cancel"), 409)
        assert test_client.get("/api/v1/runs").json()["runs"] == runs_before
        assert len(test_client.get("/api/v1/models").json()["models"]) >= 1
        assert [j["status"] for j in test_client.get("/api/v1/jobs").json()["jobs"]] == [
            "cancelled",
            "done",
            "done",
        ]
