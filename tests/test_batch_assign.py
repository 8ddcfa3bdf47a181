"""Batch assignment from Parquet (:mod:`segmint.batch`) gives exactly what the general path
gives (``model.assign`` on the file as ``read_table`` reads it): labels, confidences,
notes, excluded customers and their reasons, and the account of every row; on real
datasets, on a 50,000-customer table with missing values, unseen categories, duplicate ids
and bad values, and for the families' assigners (mixture, HDBSCAN's unassigned, tiers)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmint import segment
from segmint.batch import _repeats, assign_parquet
from segmint.errors import DataError
from segmint.features.roles import detect_roles
from segmint.io import read_table
from segmint.pipeline import Assignment, SegmentationModel, customer_table
from segmint.prepare import ColumnPlan, _apply_plan, fit_preparation
from segmint.runner import assign_file


def general(model: SegmentationModel, path: Path) -> Assignment:
    """The general path: the whole file read and typed, then ``model.assign``."""
    loaded = read_table(path)
    return model.assign(loaded.frame, source=loaded.source)


def assert_same(model: SegmentationModel, path: Path) -> Assignment:
    """The fast path applies and agrees with the general path in every output."""
    fast = assign_parquet(model, path)
    assert fast is not None, "the fast path should apply"
    slow = general(model, path)
    pd.testing.assert_frame_equal(fast.assignments, slow.assignments, check_exact=True)
    pd.testing.assert_frame_equal(fast.excluded, slow.excluded, check_exact=True)
    assert fast.notes == slow.notes
    assert fast.account == slow.account
    return fast


def quick_model(frame: pd.DataFrame, *, exclude: tuple[str, ...] = ()) -> SegmentationModel:
    """A model on ``frame`` without a search for k: the prepared matrix's first, middle and
    last customers as three centres (the equality under test holds for any model)."""
    roles = detect_roles(frame)
    table = customer_table(frame, roles)
    preparation = fit_preparation(table.frame, exclude=("customer_id", *exclude))
    matrix, _ = preparation.transform(table.frame)
    centers = matrix[[0, len(matrix) // 2, len(matrix) - 1]]
    segments = [{"id": i, "name": f"Segment {i}"} for i in range(3)]
    return SegmentationModel(roles, preparation, centers, segments, {}, {}, {})


def as_text_parquet(csv: Path, out: Path) -> Path:
    """The CSV's cells as Parquet text columns (as a CSV converted without typing)."""
    names = pacsv.read_csv(csv, parse_options=_csv_options(csv)).column_names
    table = pacsv.read_csv(
        csv,
        parse_options=_csv_options(csv),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
    )
    pq.write_table(table, out)
    return out


def _csv_options(csv: Path) -> pacsv.ParseOptions:
    delimiter = "\t" if "\t" in csv.read_text(encoding="utf-8").splitlines()[0] else ","
    return pacsv.ParseOptions(delimiter=delimiter)


REAL = [
    "telco-churn/WA_Fn-UseC_-Telco-Customer-Churn.csv",
    "mall-customers/Mall_Customers.csv",
    "customer-personality/marketing_campaign.csv",
]


@pytest.mark.parametrize("name", REAL)
def test_real_datasets_typed_and_as_text(shared_data: Path, tmp_path: Path, name: str) -> None:
    loaded = read_table(shared_data / name)
    frame = loaded.frame
    model = quick_model(frame.iloc[: len(frame) // 2])  # levels seen on half the customers
    typed = tmp_path / "typed.parquet"
    frame.to_parquet(typed, index=False)
    assert_same(model, typed)
    text = as_text_parquet(shared_data / name, tmp_path / "text.parquet")
    out = assert_same(model, text)
    assert len(out.assignments) + len(out.excluded) == len(frame)


def test_real_fit_agrees_with_its_own_labels(shared_data: Path, tmp_path: Path) -> None:
    loaded = read_table(shared_data / REAL[1])
    result = segment(loaded.frame, k=4, algorithm="kmeans")
    path = tmp_path / "mall.parquet"
    loaded.frame.to_parquet(path, index=False)
    out = assert_same(result.model, path)
    pd.testing.assert_frame_equal(out.assignments, result.assignments, check_dtype=False)


def _customers(n: int, seed: int, *, dirty: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    frame = pd.DataFrame(
        {
            "customer_id": [f"K{i:06d}" for i in range(n)],
            "spend": np.array([50.0, 400.0, 1500.0])[group] * rng.uniform(0.7, 1.3, n),
            "visits": np.array([2, 10, 30])[group] + rng.integers(0, 4, n),
            "plan": np.array(["basic", "plus", "pro"])[group].astype(object),
            "region": rng.choice(["north", "south"], n).astype(object),
            "signup": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
            "score": rng.normal(50, 10, n).round(1).astype(str).astype(object),
        }
    )
    frame.loc[rng.random(n) < 0.08, "spend"] = np.nan  # imputed, with an indicator
    if not dirty:
        return frame
    frame.loc[rng.random(n) < 0.01, "spend"] = np.inf
    frame.loc[rng.random(n) < 0.02, "plan"] = "enterprise"  # unseen
    frame.loc[rng.random(n) < 0.02, "plan"] = None
    frame.loc[rng.random(n) < 0.01, "plan"] = "  plus "
    frame.loc[rng.random(n) < 0.01, "region"] = "east"  # unseen in a two-level column
    frame.loc[rng.random(n) < 0.01, "score"] = "n/a"
    frame.loc[rng.random(n) < 0.005, "score"] = "about 40"  # not a number: the column is text
    frame["signup"] = frame["signup"].dt.strftime("%Y-%m-%d").astype(object)
    frame.loc[rng.random(n) < 0.003, "signup"] = "someday"
    frame.loc[[7], "customer_id"] = " K000007 "  # stripped like any text
    return frame


@functools.cache
def _models() -> dict[str, SegmentationModel]:
    train = _customers(300, 0, dirty=False)
    out = {}
    for family in ("kmeans", "gmm", "hdbscan"):
        k: Any = "auto" if family == "hdbscan" else 3
        out[family] = segment(train, k=k, customer_col="customer_id", algorithm=family).model
    out["tiers"] = segment(
        train, customer_col="customer_id", algorithm="kmeans", within="region"
    ).model
    return out


@functools.cache
def _dirty() -> pd.DataFrame:
    return _customers(50_000, 1, dirty=True)


@pytest.mark.parametrize("family", ["kmeans", "gmm", "hdbscan", "tiers"])
def test_50000_customers_with_one_missing_id(tmp_path: Path, family: str) -> None:
    frame = _dirty().copy()
    frame.loc[123, "customer_id"] = "NA"
    path = tmp_path / "batch.parquet"
    frame.to_parquet(path, index=False)
    out = assert_same(_models()[family], path)
    assert len(out.assignments) == 49_999
    assert out.excluded.to_dict("records") == [
        {"customer_id": "", "reason": "no_customer_id",
         "detail": "data row 124 has no value in 'customer_id'"}
    ]  # fmt: skip
    assert any("unseen levels" in note for note in out.notes) or family == "tiers"
    assert any("not numbers" in note for note in out.notes)


def test_duplicate_ids_and_missing_ids(tmp_path: Path) -> None:
    frame = _dirty()
    repeated = pd.concat([frame, frame.iloc[[5, 5, 9]]], ignore_index=True)  # exact copies
    repeated.loc[len(repeated)] = {**frame.iloc[11].to_dict(), "visits": 99}  # same id
    repeated.loc[[20, 21, 22], "customer_id"] = [None, "", "null"]
    path = tmp_path / "batch.parquet"
    repeated.to_parquet(path, index=False)
    out = assert_same(_models()["kmeans"], path)
    assert out.account["duplicate_rows_dropped"] == 3
    assert out.account["duplicate_id_rows_dropped"] == 1
    assert len(out.assignments) + len(out.excluded) + 4 == len(repeated)


def test_integer_ids_missing_column_and_native_booleans(tmp_path: Path) -> None:
    frame = _dirty().drop(columns=["visits"]).copy()
    frame["customer_id"] = np.arange(10, 10 + len(frame))
    frame["region"] = frame["region"] == "north"  # booleans read as "True" / "False"
    path = tmp_path / "batch.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    out = assert_same(_models()["kmeans"], path)
    assert "column 'visits' is missing; treated as missing values" in out.notes


def test_model_without_id_column_numbers_rows(tmp_path: Path) -> None:
    train = _customers(300, 0, dirty=False).drop(columns=["customer_id"])
    model = quick_model(train)
    assert model.roles.customer is None
    path = tmp_path / "batch.parquet"
    _dirty().drop(columns=["customer_id"]).to_parquet(path, index=False)
    out = assert_same(model, path)
    assert out.assignments["customer_id"].iloc[-1] == "50000"


def test_falls_back_where_it_does_not_apply(tmp_path: Path) -> None:
    model = _models()["kmeans"]
    frame = _dirty()
    csv = tmp_path / "batch.csv"
    frame.to_csv(csv, index=False)
    assert assign_parquet(model, csv) is None
    for name, data in (
        ("no-id.parquet", frame.drop(columns=["customer_id"])),
        ("few.parquet", frame[["customer_id", "plan"]]),
    ):
        data.to_parquet(tmp_path / name, index=False)
        assert assign_parquet(model, tmp_path / name) is None
    # "customer_id" is the name of the output's id column: another column of that name is
    # left to the general path
    renamed = frame.rename(columns={"customer_id": "CustomerID"})
    other = quick_model(renamed.iloc[:300])
    assert other.roles.customer == "CustomerID"
    renamed.assign(customer_id="x").to_parquet(tmp_path / "clash.parquet", index=False)
    assert assign_parquet(other, tmp_path / "clash.parquet") is None
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    assert assign_parquet(model, broken) is None


def test_assign_file_writes_the_same_files(tmp_path: Path) -> None:
    model = segment(_customers(300, 0, dirty=False), k=3, customer_col="customer_id").model
    from segmint.artifacts import save_model

    save_model(model, tmp_path / "model")
    frame = _dirty().copy()
    frame.loc[3, "customer_id"] = None
    path = tmp_path / "batch.parquet"
    frame.to_parquet(path, index=False)
    fast = assign_file(tmp_path / "model", path, out=tmp_path / "fast.parquet")
    slow = assign_file(tmp_path / "model", read_table(path), out=tmp_path / "slow.parquet")
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "fast.parquet"), pd.read_parquet(tmp_path / "slow.parquet")
    )
    assert (tmp_path / "fast.excluded.csv").read_bytes() == (
        tmp_path / "slow.excluded.csv"
    ).read_bytes()
    assert fast.assignment.notes == slow.assignment.notes
    with pytest.raises(DataError, match="customer id column 'customer_id' not found"):
        frame.drop(columns=["customer_id"]).to_parquet(tmp_path / "no-id.parquet")
        assign_file(tmp_path / "model", tmp_path / "no-id.parquet")


IDS = st.lists(st.text(alphabet="ab\x00é ", max_size=11), max_size=40)


@settings(max_examples=300, deadline=None)
@given(IDS, st.integers(0, 5), st.booleans())
def test_repeats_is_exact(ids: list[str], start: int, large: bool) -> None:
    kind = pa.large_string() if large else pa.string()
    series = pd.Series(pd.arrays.ArrowStringArray(pa.array(ids, kind).slice(start)))
    assert _repeats(series) == bool(series.duplicated().any())


def _pandas_categorical(plan: ColumnPlan, series: pd.Series) -> tuple[np.ndarray, str | None]:
    """The categorical encoding written with pandas string methods (the reference)."""
    text = series.astype("string").str.strip()
    text = text.fillna("missing").mask(text == "", "missing")
    known = text.isin(list(plan.levels))
    unseen = int((~known).sum())
    note = None
    if unseen and not plan.other:
        note = f"column {plan.name!r}: {unseen} values of unseen levels, encoded as no level"
    if len(plan.levels) == 2 and not plan.other:
        return (text == plan.levels[1]).to_numpy(dtype=float)[:, None], note
    cols = [(text == level).to_numpy(dtype=float) for level in plan.levels]
    if plan.other:
        cols.append((~known).to_numpy(dtype=float))
    return np.column_stack(cols), note


VALUES = st.one_of(st.none(), st.sampled_from(["a", " b", "c ", "", "missing", "NA", "\u00a0d"]),
                   st.integers(0, 2))  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    st.lists(VALUES, min_size=1, max_size=30),
    st.lists(st.sampled_from(["a", "b", "c", "d", "missing", "0", "1"]), min_size=2, max_size=4,
             unique=True),
    st.booleans(),
)  # fmt: skip
def test_categorical_encoding_matches_pandas(
    values: list[Any], levels: list[str], other: bool
) -> None:
    plan = ColumnPlan("c", "categorical", levels=tuple(sorted(levels)), other=other)
    series = pd.Series(values, dtype=object)
    block, note = _apply_plan(plan, series)
    expected, expected_note = _pandas_categorical(plan, series)
    assert note == expected_note
    np.testing.assert_array_equal(block, expected)


def test_api_batch_uses_the_serving_model_and_its_renames(tmp_path: Path) -> None:
    import io

    from fastapi.testclient import TestClient

    from segmint.io import LoadedTable
    from segmint.store import Workspace, fit_workspace
    from segmint.web import create_app
    from segmint.web.settings import Settings

    train = _customers(300, 0, dirty=False)
    fit_workspace(tmp_path / "ws", LoadedTable(train, "customers.csv", "csv", {}), k=3)
    workspace = Workspace(tmp_path / "ws")
    model = workspace.load_model(workspace.state().champion or "")
    frame = _dirty().iloc[:2000]
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    (tmp_path / "batch.parquet").write_bytes(buffer.getvalue())
    expected = general(model, tmp_path / "batch.parquet").assignments
    first = int(expected["segment"].iloc[0])
    with TestClient(create_app(Settings(workspace=tmp_path / "ws"))) as client:
        renamed = client.patch(f"/api/v1/segments/{first}", json={"name": "Our best"})
        assert renamed.status_code == 200, renamed.text
        expected["segment_name"] = expected["segment_name"].where(
            expected["segment"] != first, "Our best"
        )
        parquet = client.post(
            "/api/v1/assign/batch", files={"file": ("new.parquet", buffer.getvalue())}
        )
        assert parquet.status_code == 200, parquet.text
        pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(parquet.content)), expected)
        csv = client.post(
            "/api/v1/assign/batch", files={"file": ("new.csv", frame.to_csv(index=False))}
        )
        labels = pd.read_csv(io.BytesIO(csv.content), dtype={"customer_id": "string"})
        assert labels["segment_name"].tolist() == expected["segment_name"].tolist()
        assert csv.headers["x-segmint-labelled"] == "2000"
