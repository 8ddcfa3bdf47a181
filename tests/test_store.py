"""The workspace through the library: runs, versions, refresh, names, rollback, exports."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from segmint.errors import UsageError
from segmint.matching import PromotionRule
from segmint.store import (
    Workspace,
    WorkspaceBusy,
    current_assignments,
    data_fingerprint,
    export_assignments,
    fit_workspace,
    migration_between,
    monitor_workspace,
    refresh_workspace,
    rename_segment,
    rollback_workspace,
)
from segmint.store._db import writer_lock
from tests.workspace_data import FIT_AS_OF, loaded, shop_log

LOG = shop_log()
DATA = loaded(LOG)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with one fit, as of mid-2024."""
    folder = tmp_path_factory.mktemp("fitted") / "ws"
    fit_workspace(folder, DATA, k=3, as_of=FIT_AS_OF)
    return folder


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory, fitted: Path) -> tuple[Path, object]:
    """The fitted workspace refreshed on the whole log."""
    folder = tmp_path_factory.mktemp("refreshed") / "ws"
    shutil.copytree(fitted, folder)
    return folder, refresh_workspace(folder, DATA)


def copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(folder, target)
    return target


def test_fit_records_run_model_and_assignments(fitted: Path) -> None:
    ws = Workspace(fitted)
    runs = ws.runs()
    assert runs["run_id"].tolist() == ["run-0001"]
    run = runs.iloc[0]
    assert run["kind"] == "fit" and run["as_of"] == FIT_AS_OF and run["promoted"]
    assert run["data_fingerprint"] == data_fingerprint(LOG)
    assert run["params"]["k"] == 3 and run["params"]["roles"]["customer"] == "CustomerID"
    # indices are recorded for a given k too (the null-structure test needs them)
    assert run["metrics"]["k"] == 3 and run["metrics"]["silhouette_fit"] is not None
    models = ws.models()
    assert models["seq"].tolist() == [1] and models["champion"].tolist() == [True]
    version = models["version"].iloc[0]
    assert ws.state().champion == version == run["model_version"] == run["serving_version"]
    assert (fitted / "models" / version / "model.json").is_file()
    assert ws.load_model(version).fingerprint() == version
    labels = ws.assignments("run-0001")
    assert len(labels) == run["n_customers"] and labels["customer_id"].is_unique
    first_orders = LOG.groupby("CustomerID")["InvoiceDate"].min()
    assert len(labels) == int((first_orders < FIT_AS_OF).sum())  # customers known by then
    features = ws.features("run-0001")
    assert sorted(features["customer_id"]) == sorted(labels["customer_id"])
    assert {p.name for p in (fitted / "runs" / "run-0001").iterdir()} >= {
        "features.parquet",
        "excluded.csv",
        "segments.csv",
        "profiles.csv",
        "summary.json",
    }


def test_data_fingerprint_follows_content() -> None:
    assert data_fingerprint(LOG) == data_fingerprint(LOG.copy())
    changed = LOG.copy()
    changed.loc[0, "Quantity"] += 1
    assert data_fingerprint(changed) != data_fingerprint(LOG)


def test_refresh_keeps_ids_and_accounts_for_customers(refreshed: tuple[Path, object]) -> None:
    folder, outcome = refreshed
    ws = Workspace(folder)
    before = ws.assignments("run-0001")
    after = ws.assignments("run-0002")
    assert outcome.run_id == "run-0002" and outcome.kind == "refresh"
    old_model = ws.load_model(ws.runs()["model_version"].iloc[0])
    old_names = old_model.segment_names()
    continued = {c["id"]: c["name"] for c in outcome.continued}
    assert set(continued) == {0, 1, 2}  # on this data every segment persists
    assert all(old_names[i] == name for i, name in continued.items())
    new_ids = {s["id"] for s in outcome.new_segments}
    assert all(i >= 3 for i in new_ids)  # never an id used before
    assert set(outcome.result.model.segment_ids()) == set(continued) | new_ids
    assert {s["id"] for s in outcome.retired_segments} == set(old_names) - set(continued)
    mig = outcome.migration
    both = set(before["customer_id"]) & set(after["customer_id"])
    assert mig.n_both == len(both) == int(mig.counts.to_numpy().sum())
    assert mig.n_new == len(set(after["customer_id"]) - set(before["customer_id"])) > 0
    assert mig.n_gone == 0
    run = ws.run("run-0002")
    assert run["previous_run"] == "run-0001" and run["metrics"]["in_both"] == mig.n_both
    page = (folder / "runs" / "run-0002" / "migration.html").read_text(encoding="utf-8")
    assert (
        '"type":"sankey"' in page
        and "Plotly" in page
        and "https://" not in page.split("<script>")[0]
    )
    summary = json.loads((folder / "runs" / "run-0002" / "summary.json").read_text())
    assert summary["migration"]["n_both"] == mig.n_both and summary["previous_run"] == "run-0001"
    listed = pd.read_csv(folder / "runs" / "run-0002" / "moved.csv", dtype={"customer_id": str})
    assert len(listed) == mig.n_moved
    again, from_id, to_id = migration_between(folder)
    assert (from_id, to_id) == ("run-0001", "run-0002") and again.counts.equals(mig.counts)


def test_refresh_decision_is_recorded(refreshed: tuple[Path, object]) -> None:
    folder, outcome = refreshed
    run = Workspace(folder).run("run-0002")
    assert run["promoted"] == outcome.promoted
    assert run["decision"]["reasons"] == outcome.decision.reasons
    assert run["decision"]["metrics"]["silhouette_challenger"] is not None
    serving = Workspace(folder).state().champion
    assert serving == (outcome.model_version if outcome.promoted else run["serving_version"])
    # both models' stability measured on the new data, the same way, and recorded
    stability = run["decision"]["stability"]
    assert stability["on"] == "the new data"
    challenger, champion = stability["challenger"], stability["champion"]
    assert challenger["sample_size"] == champion["sample_size"] == len(outcome.serving)
    new_ids = {str(i) for i in outcome.result.model.segment_ids()}
    assert set(challenger["jaccard"]) == new_ids and len(champion["jaccard"]) == 3
    assert run["metrics"]["stability_challenger"] == challenger["bootstrap_ari"]
    assert run["metrics"]["stability_champion"] == champion["bootstrap_ari"]
    assert any("bootstrap ARI" in r for r in run["decision"]["reasons"])
    summary = json.loads((folder / "runs" / "run-0002" / "summary.json").read_text())
    assert summary["decision"]["stability"] == stability


def test_a_less_stable_challenger_does_not_serve(fitted: Path, tmp_path: Path) -> None:
    folder = copy(fitted, tmp_path)
    champion = Workspace(folder).state().champion
    # with a negative tolerance the refit would have to be clearly more stable
    outcome = refresh_workspace(folder, DATA, rule=PromotionRule(stability_tolerance=-1.0))
    assert not outcome.promoted and outcome.champion == champion
    assert any(r.startswith("less stable: bootstrap ARI") for r in outcome.decision.reasons)
    assert Workspace(folder).run(outcome.run_id)["decision"]["promote"] is False


def test_challenger_that_is_not_better_does_not_serve(fitted: Path, tmp_path: Path) -> None:
    folder = copy(fitted, tmp_path)
    ws = Workspace(folder)
    champion = ws.state().champion
    strict = PromotionRule(silhouette_tolerance=-1.0)  # it would have to gain a whole point
    outcome = refresh_workspace(folder, DATA, rule=strict)
    assert not outcome.promoted and outcome.champion == champion
    assert outcome.decision.reasons[0].startswith("not as good")
    assert ws.state().champion == champion
    assert ws.models()["seq"].tolist() == [1, 2]  # the challenger is kept as a version
    run = ws.run(outcome.run_id)
    assert run["serving_version"] == champion and run["model_version"] != champion
    # the labels served are the champion's on the new data
    expected, _ = ws.load_model(champion).label_customers(ws.features(outcome.run_id))
    served = ws.assignments(outcome.run_id)
    assert served["segment"].tolist() == expected.sort_values("customer_id")["segment"].tolist()


def test_rename_persists_through_refresh(fitted: Path, tmp_path: Path) -> None:
    folder = copy(fitted, tmp_path)
    before = Workspace(folder).load_model(Workspace(folder).state().champion).segment_names()[0]
    done = rename_segment(folder, 0, "Key accounts", "Call them every quarter")
    assert done == {
        "id": 0,
        "name": "Key accounts",
        "action": "Call them every quarter",
        "previous_name": before,
    }
    assert set(current_assignments(folder).query("segment == 0")["segment_name"]) == {
        "Key accounts"
    }
    outcome = refresh_workspace(folder, DATA)
    names = {int(s["id"]): s for s in outcome.result.model.segments}
    assert names[0]["name"] == "Key accounts" and names[0]["action"] == "Call them every quarter"
    assert names[0]["suggested_name"] not in ("", "Key accounts")  # what the profile would say
    labels = current_assignments(folder)
    assert set(labels.query("segment == 0")["segment_name"]) == {"Key accounts"}
    assert rename_segment(folder, 0, "Top accounts")["action"] == "Call them every quarter"
    with pytest.raises(UsageError, match="no segment 99"):
        rename_segment(folder, 99, "x")
    with pytest.raises(UsageError, match="segment 0 is already called 'Top accounts'"):
        rename_segment(folder, 1, "Top accounts")


def test_explicit_fit_replaces_with_new_and_retired_ids(fitted: Path, tmp_path: Path) -> None:
    folder = copy(fitted, tmp_path)
    more = fit_workspace(folder, DATA, k=4, as_of=FIT_AS_OF)
    assert more.promoted and more.kind == "fit"
    assert [s["id"] for s in more.new_segments] == [3] and len(more.continued) == 3
    fewer = fit_workspace(folder, DATA, k=2, as_of=FIT_AS_OF)
    assert len(fewer.retired_segments) == 2 and fewer.new_segments == []
    assert set(fewer.result.model.segment_ids()) <= {0, 1, 2, 3}
    again = fit_workspace(folder, DATA, k=3, as_of=FIT_AS_OF)
    assert [s["id"] for s in again.new_segments] == [4]  # retired ids are never reused
    assert Workspace(folder).state().next_segment_id == 5


def test_rollback_serves_an_earlier_version(refreshed: tuple[Path, object], tmp_path: Path) -> None:
    folder = copy(refreshed[0], tmp_path)
    ws = Workspace(folder)
    v1 = ws.models()["version"].iloc[0]
    if ws.state().champion == v1:
        pytest.fail("the refresh was expected to promote its model on this data")
    outcome = rollback_workspace(folder, "v1")
    assert outcome.champion == v1 and ws.state().champion == v1
    run = ws.run(outcome.run_id)
    assert run["kind"] == "rollback" and run["serving_version"] == v1
    expected, _ = ws.load_model(v1).label_customers(ws.features("run-0002"))
    served = ws.assignments(outcome.run_id)
    assert served["segment"].tolist() == expected.sort_values("customer_id")["segment"].tolist()
    assert outcome.migration.n_both == len(served)
    with pytest.raises(UsageError, match="already serves"):
        rollback_workspace(folder, v1[:6])
    with pytest.raises(UsageError, match="is not a model version"):
        rollback_workspace(folder, "v9")


def test_monitor_against_the_training_data(fitted: Path) -> None:
    report = monitor_workspace(fitted, DATA, record=False)
    assert report["verdict"] == "retrain"  # a year later: new customers and drift
    assert report["customers"]["new"] > 0 and report["reference_run"] == "run-0001"
    assert any(r.startswith("feature 'tenure_days' drifted") for r in report["reasons"])
    assert list(report)[:2] == ["verdict", "reasons"]
    same = monitor_workspace(fitted, DATA, as_of=FIT_AS_OF, record=False)
    assert same["verdict"] == "fine" and same["reasons"] == []


def test_monitor_records_checks(fitted: Path, tmp_path: Path) -> None:
    folder = copy(fitted, tmp_path)
    monitor_workspace(folder, DATA)
    checks = Workspace(folder).checks()
    assert checks["verdict"].tolist() == ["retrain"]


def test_exports(refreshed: tuple[Path, object], tmp_path: Path) -> None:
    folder = refreshed[0]
    rows, where = export_assignments(folder, str(tmp_path / "labels.csv"))
    assert where == str(tmp_path / "labels.csv")
    table = pd.read_csv(tmp_path / "labels.csv", dtype={"customer_id": str})
    assert list(table.columns) == [
        "customer_id",
        "segment",
        "segment_name",
        "confidence",
        "run_id",
        "assigned_at",
    ]
    assert rows == len(table) and set(table["run_id"]) == {"run-0002"}
    export_assignments(folder, str(tmp_path / "labels.parquet"))
    assert pd.read_parquet(tmp_path / "labels.parquet").equals(current_assignments(folder))
    url = f"sqlite:///{tmp_path / 'crm.sqlite'}"
    export_assignments(folder, url, table="segments", run="run-0001")
    export_assignments(folder, url, table="segments")  # upsert: updates, no duplicates
    with sa.create_engine(url).connect() as con:
        stored = pd.read_sql("SELECT * FROM segments", con)
    first = set(Workspace(folder).assignments("run-0001")["customer_id"])
    latest = current_assignments(folder)
    assert (
        len(stored) == len(first | set(latest["customer_id"])) and stored["customer_id"].is_unique
    )
    assert set(stored["run_id"]) == {"run-0002"}
    with pytest.raises(UsageError, match="--table"):
        export_assignments(folder, url)
    with pytest.raises(UsageError, match=r"\.csv / \.parquet"):
        export_assignments(folder, str(tmp_path / "labels.xlsx"))


def test_export_refuses_a_table_without_a_key(
    refreshed: tuple[Path, object], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'crm.sqlite'}"
    with sa.create_engine(url).begin() as con:
        con.execute(
            sa.text(
                "CREATE TABLE labels (customer_id TEXT, segment INT, segment_name TEXT, "
                "confidence REAL, run_id TEXT, assigned_at TIMESTAMP)"
            )
        )
    with pytest.raises(UsageError, match="without a primary or unique key on customer_id"):
        export_assignments(refreshed[0], url, table="labels")


def test_leftovers_of_a_killed_writer_are_removed(fitted: Path, tmp_path: Path) -> None:
    folder = copy(fitted, tmp_path)
    version = Workspace(folder).state().champion
    orphans = [
        folder / "models" / "0123456789abcdef",
        folder / "runs" / "run-0002",
        folder / "models" / ".tmp-abc-123",
    ]
    for path in orphans:
        path.mkdir()
        (path / "model.json").write_text("{}")
    rename_segment(folder, 1, "Anything")  # any writer cleans up
    assert not any(p.exists() for p in orphans)
    assert (folder / "models" / version / "model.json").is_file()
    assert (folder / "runs" / "run-0001" / "features.parquet").is_file()


def test_a_failed_refresh_changes_nothing(
    fitted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy(fitted, tmp_path)
    ws = Workspace(folder)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Workspace, "store_run_folder", broken)
    with pytest.raises(OSError, match="disk full"):
        refresh_workspace(folder, DATA)
    monkeypatch.undo()
    assert ws.runs()["run_id"].tolist() == ["run-0001"] and len(ws.models()) == 1
    assert refresh_workspace(folder, DATA).run_id == "run-0002"  # and the next one works
    assert sorted(p.name for p in (folder / "models").iterdir()) == sorted(ws.models()["version"])


def test_workspace_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a segmint workspace"):
        refresh_workspace(tmp_path / "nowhere", DATA)
    with pytest.raises(UsageError, match="not a segmint workspace"):
        Workspace(tmp_path).runs()
    busy = tmp_path / "other"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not a segmint workspace; choose another"):
        fit_workspace(busy, DATA, k=3)
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="must be a folder"):
        fit_workspace(tmp_path / "file", DATA, k=3)


def test_a_second_writer_waits_then_gives_up(fitted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGMINT_WRITER_TIMEOUT", "0.3")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with writer_lock(fitted):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(10)
    try:
        with pytest.raises(WorkspaceBusy, match=r"another segmint process \(pid \d+\) is writing"):
            rename_segment(fitted, 1, "Blocked")
        assert Workspace(fitted).runs()["run_id"].tolist() == [
            "run-0001"
        ]  # readers are not blocked
    finally:
        release.set()
        thread.join()
