"""Files written by an earlier version load and serve unchanged.

``tests/compat/v1`` holds a model folder and a workspace as segmint 0.x wrote them before
the package was laid out anew (made by ``tests/compat/make_fixtures.py``), with the labels
that version gave. Every later version must read them and give the same labels, through
``assign``, a workspace and the JSON API.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from segmint.artifacts import load_model
from segmint.web import Settings, create_app

FIXTURES = Path(__file__).parent / "compat" / "v1"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("compat")
    with tarfile.open(FIXTURES / "files.tar.gz") as tar:
        tar.extractall(folder, filter="data")
    return folder


def _assign(model: Path, data: Path, out: Path) -> pd.DataFrame:
    done = subprocess.run(
        [sys.executable, "-m", "segmint", "assign", str(model), str(data), "--out", str(out)],
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr.decode()
    return pd.read_csv(out, dtype={"customer_id": str})


def _same_labels(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert got["customer_id"].tolist() == want["customer_id"].tolist()
    assert got["segment"].tolist() == want["segment"].tolist()
    assert got["segment_name"].tolist() == want["segment_name"].tolist()
    pd.testing.assert_series_equal(got["confidence"], want["confidence"], rtol=1e-9)


def test_an_earlier_model_folder_labels_as_it_did(files: Path, tmp_path: Path) -> None:
    model = load_model(files / "log_model")
    assert model.params  # the stored parameters read back
    want = pd.read_csv(FIXTURES / "log_labels.csv", dtype={"customer_id": str})
    _same_labels(_assign(files / "log_model", files / "log.csv", tmp_path / "l.csv"), want)


def test_an_earlier_workspace_serves_as_it_did(files: Path, tmp_path: Path) -> None:
    workspace = files / "workspace"
    want = pd.read_csv(FIXTURES / "table_labels.csv", dtype={"customer_id": str})
    _same_labels(_assign(workspace, files / "customers.csv", tmp_path / "t.csv"), want)
    done = subprocess.run(
        [sys.executable, "-m", "segmint", "models", "--workspace", str(workspace)],
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr.decode()
    [model_id] = [p.name for p in (workspace / "models").iterdir()]
    assert model_id in done.stdout.decode()
    table = pd.read_csv(files / "customers.csv", dtype={"customer_id": str})
    with TestClient(create_app(Settings(workspace=workspace))) as client:
        health = client.get("/api/v1/health").json()
        assert health["ok"] is True and health["runs"] == 1
        for row, expected in zip(
            table.head(25).to_dict(orient="records"), want.head(25).itertuples(), strict=True
        ):
            features = {k: v for k, v in row.items() if k != "customer_id"}
            got = client.post(
                "/api/v1/assign", json={"customer_id": row["customer_id"], "features": features}
            ).json()
            assert (got["segment"], got["segment_name"]) == (
                expected.segment,
                expected.segment_name,
            )
            assert got["confidence"] == pytest.approx(expected.confidence, rel=1e-9)
