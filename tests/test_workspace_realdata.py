"""Keeping segments current on UCI Online Retail: fitted as of 2011-06-01, checked and
refreshed as of 2011-12-10 (the README's walkthrough, through the library)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from segmint.io import read_table
from segmint.store import (
    Workspace,
    fit_workspace,
    migration_between,
    monitor_workspace,
    refresh_workspace,
)

pytestmark = pytest.mark.realdata

JUNE, DECEMBER = "2011-06-01", "2011-12-10"


@pytest.fixture(scope="module")
def retail(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = read_table(shared_data / "online-retail" / "online_retail.csv")
    ws = tmp_path_factory.mktemp("retail") / "ws"
    first = fit_workspace(ws, data, as_of=JUNE)
    check = monitor_workspace(ws, data, as_of=DECEMBER)
    second = refresh_workspace(ws, data, as_of=DECEMBER)
    return {"data": data, "ws": ws, "first": first, "check": check, "second": second}


def ids(frame: pd.DataFrame) -> set[str]:
    return set(frame["customer_id"].astype(str))


def log_ids(log: pd.DataFrame) -> set[str]:
    return {str(int(c)) for c in log["CustomerID"].dropna().unique()}


def test_every_customer_is_accounted_for_in_both_runs(retail: dict[str, Any]) -> None:
    log = retail["data"].frame
    for outcome in (retail["first"], retail["second"]):
        labelled = ids(outcome.serving)
        excluded = ids(outcome.result.excluded)
        assert not labelled & excluded
        assert labelled | excluded == log_ids(log)
    june = log[log["InvoiceDate"] < JUNE]
    assert ids(retail["first"].serving) <= log_ids(june)  # nobody is labelled before buying


def test_segments_keep_their_ids_where_they_persist(retail: dict[str, Any]) -> None:
    first, second = retail["first"], retail["second"]
    old_names = first.result.model.segment_names()
    assert second.continued, "no segment persisted from June to December"
    for seg in second.continued:
        assert old_names[seg["id"]] == seg["name"]
    new_ids = [s["id"] for s in second.new_segments]
    assert all(i >= first.result.model.k for i in new_ids)
    continued = {s["id"] for s in second.continued}
    assert {s["id"] for s in second.retired_segments} == set(old_names) - continued
    served = Workspace(retail["ws"]).state().champion
    assert served == (second.model_version if second.promoted else first.model_version)


def test_migration_accounts_for_customers_in_both_runs(retail: dict[str, Any]) -> None:
    mig, from_run, to_run = migration_between(retail["ws"])
    assert (from_run, to_run) == ("run-0001", "run-0002")
    june, december = ids(retail["first"].serving), ids(retail["second"].serving)
    assert mig.n_both == len(june & december) == int(mig.counts.to_numpy().sum())
    assert mig.n_new == len(december - june) and mig.n_gone == len(june - december)
    assert mig.n_moved == len(mig.moved)
    # the new customers really are new: they first bought after June, or could not be
    # segmented in June (listed as excluded then, e.g. only a zero-value manual line)
    log = retail["data"].frame
    purchases = log[~log["InvoiceNo"].astype(str).str.startswith("C") & (log["Quantity"] > 0)]
    first_purchase = purchases.groupby(purchases["CustomerID"].dropna().astype(int).astype(str))[
        "InvoiceDate"
    ].min()
    new = first_purchase.reindex(sorted(december - june))
    earlier = set(new[new < pd.Timestamp(JUNE)].index)
    assert earlier <= ids(retail["first"].result.excluded)
    assert len(earlier) < 0.01 * len(new)
    assert (retail["ws"] / "runs" / "run-0002" / "migration.html").is_file()


def test_drift_is_reported(retail: dict[str, Any]) -> None:
    check = retail["check"]
    assert check["verdict"] == "retrain"
    customers = check["customers"]
    assert customers["new"] == len(ids(retail["second"].serving) - ids(retail["first"].serving))
    assert customers["new_share"] > 0.2
    assert check["findings"][0]["check"] == "new_customers"
    tenure = next(f for f in check["features"] if f["feature"] == "tenure_days")
    assert tenure["psi"] > 0.25 and tenure["status"] == "retrain"
    assert Workspace(retail["ws"]).checks()["verdict"].tolist() == ["retrain"]
