"""The ``segmint`` command end to end, in-process with typer's CliRunner.

Small hand-made files in tmp_path: a transaction log of 30 customers in three clearly
different behaviour groups (plus a returns-only customer and a row without an id), and a
customer table of 30 customers in three groups (plus a row without an id). Two tests run
the real executables in a subprocess (``python -m segmint`` and the console script).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from segmint import __version__
from segmint.cli import app

OUTPUTS = {
    "segments.csv", "excluded.csv", "profiles.csv", "profiles.json", "summary.json", "report.html",
    "charts.json", "model",
}  # fmt: skip
SEGMENT_COLUMNS = ["customer_id", "segment", "segment_name", "confidence"]
ROWS = 10 * 12 + 10 * 1 + 10 * 4 + 2  # lines of write_transactions


# --------------------------------------------------------------------------- data


def write_transactions(path: Path, *, seed: int = 1) -> Path:
    """30 customers in three groups, one returns-only customer, one row without an id."""
    rng = random.Random(seed)
    end = dt.date(2024, 12, 31)
    groups = {
        0: (12, (0, 45), (200.0, 400.0)),  # frequent, recent, big
        1: (1, (300, 360), (5.0, 15.0)),  # one-off, old, small
        2: (4, (90, 200), (50.0, 90.0)),  # in between
    }
    lines = ["customer_id,order_id,order_date,amount"]
    order = 0
    for i in range(30):
        count, (near, far), (low, high) = groups[i % 3]
        for _ in range(count):
            order += 1
            day = end - dt.timedelta(days=rng.randint(near, far))
            lines.append(f"C{i:03d},O{order},{day.isoformat()},{rng.uniform(low, high):.2f}")
    lines.append("R999,C9001,2024-06-01,-25.00")  # only a cancellation -> excluded
    lines.append(",O9002,2024-06-02,10.00")  # no customer id -> not a customer
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_customers(path: Path, *, seed: int = 3) -> Path:
    """30 customers in three groups (age, income, visits, plan), one row without an id."""
    rng = random.Random(seed)
    lines = ["cust_no,card_ref,age,income,visits,plan"]
    for i in range(30):
        g = i % 3
        age = (25, 45, 65)[g] + rng.randint(-4, 4)
        income = (20_000, 60_000, 120_000)[g] + rng.randint(-15_000, 15_000)
        visits = (30, 10, 2)[g] + rng.randint(-2, 2)
        plan = ("basic", "plus", "premium")[g]
        lines.append(f"U{i:03d},M{1000 + i},{age},{income},{visits},{plan}")
    lines.append(",M2000,40,50000,12,plus")  # no customer id
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def input_ids(path: Path, column: str) -> set[str]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return {v.strip() for v in frame[column] if v.strip()}


def read_ids(path: Path) -> list[str]:
    return pd.read_csv(path, dtype=str, keep_default_na=False)["customer_id"].tolist()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (relative path -> content)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --------------------------------------------------------------------------- running


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def assert_ok(result: Result) -> None:
    assert result.exit_code == 0, (
        f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )


def assert_one_line_error(result: Result, code: int, *fragments: str) -> str:
    """Exit ``code``, no stdout, one 'error:' line on stderr containing ``fragments``."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    assert "Traceback" not in result.stderr
    assert "internal error" not in line, line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


@pytest.fixture(scope="module")
def tx_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One fit of the transaction log with --json, shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("tx")
    data = write_transactions(root / "transactions.csv")
    out = root / "run"
    result = invoke("fit", data, "--out", out, "--json")
    assert_ok(result)
    return {
        "data": data,
        "out": out,
        "result": result,
        "summary": json.loads((out / "summary.json").read_text(encoding="utf-8")),
    }


@pytest.fixture(scope="module")
def cust_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One fit of the customer table (human output), shared."""
    root = tmp_path_factory.mktemp("cust")
    data = write_customers(root / "customers.csv")
    out = root / "run"
    result = invoke("fit", data, "--out", out)
    assert_ok(result)
    return {
        "data": data,
        "out": out,
        "result": result,
        "summary": json.loads((out / "summary.json").read_text(encoding="utf-8")),
    }


# --------------------------------------------------------------------------- fit: outputs


@pytest.mark.parametrize("which", ["tx_run", "cust_run"])
def test_fit_writes_every_output(which: str, request: pytest.FixtureRequest) -> None:
    run = request.getfixturevalue(which)
    out: Path = run["out"]
    assert {p.name for p in out.iterdir()} == OUTPUTS
    assert (out / "model" / "model.json").is_file()
    assert (out / "model" / "arrays.npz").is_file()
    assert (
        (out / "report.html")
        .read_text(encoding="utf-8")
        .lstrip()
        .lower()
        .startswith("<!doctype html")
    )

    segments = pd.read_csv(out / "segments.csv", dtype={"customer_id": str}, keep_default_na=False)
    quality = ["quality_score", "quality_reasons"] if which == "tx_run" else []
    assert list(segments.columns) == SEGMENT_COLUMNS + quality
    assert segments["confidence"].between(0.0, 1.0).all()
    summary = run["summary"]
    assert set(segments["segment"]) == set(range(summary["k"]))
    names = {s["id"]: s["name"] for s in summary["segments"]}
    assert (segments["segment_name"] == segments["segment"].map(names)).all()

    excluded = pd.read_csv(out / "excluded.csv", dtype=str, keep_default_na=False)
    assert list(excluded.columns) == ["customer_id", "reason", "detail"]
    profiles = pd.read_csv(out / "profiles.csv")
    assert list(profiles["segment"]) == list(range(summary["k"]))
    assert list(profiles["size"]) == [s["size"] for s in summary["segments"]]


def test_fit_summary_contents(tx_run: dict[str, Any]) -> None:
    summary = tx_run["summary"]
    for key in (
        "k",
        "algorithm",
        "n_customers",
        "n_excluded",
        "segments",
        "preparation",
        "selection",
    ):
        assert key in summary, key
    assert summary["input_kind"] == "transactions"
    assert summary["roles"]["customer"] == "customer_id"
    assert summary["roles"]["time"] == "order_date"
    assert summary["roles"]["order"] == "order_id"
    assert summary["algorithm"] == "kmeans"
    assert summary["n_customers"] == 30
    assert summary["n_excluded"] == 1
    assert summary["excluded_by_reason"] == {"no_purchases": 1}
    assert summary["data"]["rows_read"] == ROWS
    assert summary["data"]["rows_without_customer_id"] == 1
    assert summary["data"]["return_lines"] == 1
    assert summary["data"]["as_of"] == "2025-01-01"
    # three behaviour groups of ten, found as such
    assert summary["k"] == 3
    assert sorted(s["size"] for s in summary["segments"]) == [10, 10, 10]
    for seg in summary["segments"]:
        assert set(seg) >= {"id", "name", "size", "share", "action"}
        assert seg["share"] == pytest.approx(seg["size"] / 30, abs=1e-6)
    assert [s["id"] for s in summary["segments"]] == [0, 1, 2]
    assert len({s["name"] for s in summary["segments"]}) == 3
    assert sum(s["size"] for s in summary["segments"]) == summary["n_customers"]
    assert summary["preparation"]["columns"]
    assert summary["selection"]["mode"] == "auto"
    assert summary["selection"]["k"] == 3
    assert summary["load"]["format"] == "csv"


def test_fit_groups_are_the_behaviour_groups(tx_run: dict[str, Any]) -> None:
    segments = pd.read_csv(tx_run["out"] / "segments.csv", dtype={"customer_id": str})
    group = segments["customer_id"].str[1:].astype(int) % 3
    # every behaviour group lands in exactly one segment, and different groups apart
    per_group = segments.groupby(group)["segment"].nunique()
    assert (per_group == 1).all()
    assert segments.groupby(group)["segment"].first().nunique() == 3


@pytest.mark.parametrize(
    ("which", "id_column"), [("tx_run", "customer_id"), ("cust_run", "cust_no")]
)
def test_every_customer_accounted_for_once(
    which: str, id_column: str, request: pytest.FixtureRequest
) -> None:
    run = request.getfixturevalue(which)
    segmented = read_ids(run["out"] / "segments.csv")
    excluded = [i for i in read_ids(run["out"] / "excluded.csv") if i]
    assert len(segmented) == len(set(segmented))
    assert len(excluded) == len(set(excluded))
    assert not set(segmented) & set(excluded)
    assert set(segmented) | set(excluded) == input_ids(run["data"], id_column)
    assert run["summary"]["n_customers"] == len(segmented)


def test_fit_customer_table(cust_run: dict[str, Any]) -> None:
    summary = cust_run["summary"]
    assert summary["input_kind"] == "customers"
    assert summary["roles"]["customer"] == "cust_no"
    assert summary["n_customers"] == 30
    assert summary["k"] == 3
    assert sorted(s["size"] for s in summary["segments"]) == [10, 10, 10]
    # the row without an id is listed, with its data row number
    excluded = pd.read_csv(cust_run["out"] / "excluded.csv", dtype=str, keep_default_na=False)
    assert excluded.to_dict("records") == [
        {
            "customer_id": "",
            "reason": "no_customer_id",
            "detail": "data row 31 has no value in 'cust_no'",
        }
    ]
    assert summary["data"]["rows_without_customer_id"] == 1
    decisions = {(d["column"], d["action"]) for d in summary["preparation"]["decisions"]}
    assert ("card_ref", "dropped") in decisions  # identifier-like
    assert ("plan", "one-hot") in decisions
    # human output: the table of segments on stdout, nothing on stderr off a terminal
    stdout = cust_run["result"].stdout
    assert "3 segments of 30 customers" in stdout
    assert "1 no customer id" in stdout
    assert "see excluded.csv" in stdout
    assert cust_run["result"].stderr == ""


def test_json_flag_prints_summary(tx_run: dict[str, Any]) -> None:
    printed = json.loads(tx_run["result"].stdout)
    assert printed == tx_run["summary"]
    assert tx_run["result"].stderr == ""


def test_k_fixed(tmp_path: Path) -> None:
    data = write_transactions(tmp_path / "t.csv")
    result = invoke("fit", data, "--out", tmp_path / "o", "--k", "2", "--json")
    assert_ok(result)
    summary = json.loads(result.stdout)
    assert summary["k"] == 2
    assert summary["selection"]["mode"] == "fixed"
    assert len(summary["segments"]) == 2


def test_k_three_on_customers(tmp_path: Path) -> None:
    data = write_customers(tmp_path / "c.csv")
    result = invoke("fit", data, "--out", tmp_path / "o", "--k", "3", "--json")
    assert_ok(result)
    summary = json.loads(result.stdout)
    assert summary["k"] == 3
    assert summary["selection"]["mode"] == "fixed"


def test_k_range(tmp_path: Path) -> None:
    data = write_customers(tmp_path / "c.csv")
    result = invoke("fit", data, "--out", tmp_path / "o", "--k", "2-4", "--json")
    assert_ok(result)
    summary = json.loads(result.stdout)
    assert 2 <= summary["k"] <= 4
    assert summary["selection"]["mode"] == "range"
    assert {s["k"] for s in summary["selection"]["scores"] if s["k"] > 1} == {2, 3, 4}


def test_id_option_picks_the_column(tmp_path: Path) -> None:
    data = write_customers(tmp_path / "c.csv")
    result = invoke("fit", data, "--out", tmp_path / "o", "--id", "card_ref", "--json")
    assert_ok(result)
    summary = json.loads(result.stdout)
    assert summary["roles"]["customer"] == "card_ref"
    ids = read_ids(tmp_path / "o" / "segments.csv")
    assert set(ids) == input_ids(data, "card_ref")
    # cust_no is now an ordinary column: text distinct on every row -> set aside
    decisions = {d["column"]: d for d in summary["preparation"]["decisions"]}
    assert decisions["cust_no"]["action"] == "dropped"


def test_input_customers_on_a_transaction_log(tmp_path: Path) -> None:
    data = write_transactions(tmp_path / "t.csv")
    result = invoke("fit", data, "--out", tmp_path / "o", "--input", "customers", "--json")
    assert_ok(result)
    summary = json.loads(result.stdout)
    assert summary["input_kind"] == "customers"
    assert summary["data"]["rows_read"] == ROWS
    # one row per customer id kept (first in the file); the rest reported
    assert summary["data"]["duplicate_id_rows_dropped"] == ROWS - 31 - 1
    assert summary["data"]["duplicate_id_rule"] == "first row kept"
    assert summary["data"]["duplicate_id_examples"][0] == "C000"
    assert summary["n_customers"] == 31
    assert summary["excluded_by_reason"] == {"no_customer_id": 1}
    # said, not only counted: most rows were left out, and the way to fit a log is named
    shape = summary["warnings"][0]
    assert shape.startswith(f"{ROWS - 31 - 1:,} of {ROWS:,} rows repeat a customer id")
    assert "--input transactions" in shape


def test_seed_reproducible(tmp_path: Path) -> None:
    data = write_customers(tmp_path / "c.csv")
    for name in ("a", "b"):
        assert_ok(invoke("fit", data, "--out", tmp_path / name, "--seed", "7"))
    for file in ("segments.csv", "excluded.csv", "profiles.csv", "model/arrays.npz"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    a = json.loads((tmp_path / "a" / "summary.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "b" / "summary.json").read_text(encoding="utf-8"))
    assert a["random_state"] == b["random_state"] == 7
    assert a["model_fingerprint"] == b["model_fingerprint"]


def test_two_customers_give_one_segment(tmp_path: Path) -> None:
    data = tmp_path / "two.csv"
    data.write_text("customer_id,age,income\nA,30,100\nB,50,900\n", encoding="utf-8")
    result = invoke("fit", data, "--out", tmp_path / "o", "--json")
    assert_ok(result)
    summary = json.loads(result.stdout)
    assert summary["k"] == 1
    assert summary["n_customers"] == 2
    segments = pd.read_csv(tmp_path / "o" / "segments.csv", dtype={"customer_id": str})
    assert segments["segment"].tolist() == [0, 0]
    assert segments["confidence"].tolist() == [1.0, 1.0]


def test_transaction_log_names_are_archetypes(tx_run: dict[str, Any]) -> None:
    """A transaction log has recency, frequency and monetary value: RFM archetype names."""
    from segmint.profile import ARCHETYPES

    names = [s["name"] for s in tx_run["summary"]["segments"]]
    profiles = pd.read_csv(tx_run["out"] / "profiles.csv")
    # Even when monetary is left out of the model as correlated with frequency, profiles
    # and names describe it.
    assert set(names) <= set(ARCHETYPES)
    assert "monetary mean" in profiles.columns


def test_a_few_unparseable_dates_are_counted(tmp_path: Path) -> None:
    data = write_transactions(tmp_path / "t.csv")
    lines = data.read_text(encoding="utf-8").splitlines()
    # file lines 5 and 40 (header = line 1) get dates that cannot be read
    lines[4] = ",".join([*lines[4].split(",")[:2], "not a date", lines[4].split(",")[3]])
    lines[39] = ",".join([*lines[39].split(",")[:2], "31/31/2024", lines[39].split(",")[3]])
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke("fit", data, "--out", tmp_path / "o", "--json")
    assert_ok(result)
    summary = json.loads(result.stdout)
    assert summary["input_kind"] == "transactions"
    assert summary["data"]["rows_with_unparseable_time"] == 2
    assert summary["load"]["unparseable"]["order_date"] == {
        "count": 2,
        "first_line": 5,
        "first_value": "not a date",
    }
    assert summary["n_customers"] == 30


# --------------------------------------------------------------------------- assign


def test_assign_reproduces_segments(tx_run: dict[str, Any], tmp_path: Path) -> None:
    expected = (tx_run["out"] / "segments.csv").read_text(encoding="utf-8")
    for model in (tx_run["out"], tx_run["out"] / "model"):
        result = invoke("assign", model, tx_run["data"])
        assert_ok(result)
        assert result.stdout == expected
        # the returns-only customer is reported on stderr
        [line] = result.stderr.splitlines()
        assert line.startswith("excluded: 1 ") and "1 no purchases" in line

    target = tmp_path / "labels.csv"
    result = invoke("assign", tx_run["out"], tx_run["data"], "--out", target)
    assert_ok(result)
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == expected
    beside = tmp_path / "labels.excluded.csv"
    assert beside.read_bytes() == (tx_run["out"] / "excluded.csv").read_bytes()
    assert f"30 customers labelled in {target}" in result.stderr


def test_assign_out_twice_leaves_no_stale_excluded(tx_run: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "labels.csv"
    beside = tmp_path / "labels.excluded.csv"
    assert_ok(invoke("assign", tx_run["out"], tx_run["data"], "--out", target))
    assert "R999" in beside.read_text(encoding="utf-8")
    clean = tmp_path / "clean.csv"
    lines = tx_run["data"].read_text(encoding="utf-8").splitlines()
    clean.write_text(
        "\n".join(x for x in lines if not x.startswith("R999")) + "\n", encoding="utf-8"
    )
    result = invoke("assign", tx_run["out"], clean, "--out", target)
    assert_ok(result)
    assert "excluded" not in result.stderr
    assert not beside.exists()  # the old list would claim R999 was excluded in this run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.csv", "labels.csv"]


def test_assign_parquet_out(tx_run: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "labels.parquet"
    assert_ok(invoke("assign", tx_run["out"], tx_run["data"], "--out", target))
    labelled = pd.read_parquet(target)
    expected = pd.read_csv(tx_run["out"] / "segments.csv", dtype={"customer_id": str})
    assert labelled["customer_id"].astype(str).tolist() == expected["customer_id"].tolist()
    assert labelled["segment"].tolist() == expected["segment"].tolist()


def test_assign_customer_table_same_as_fit(cust_run: dict[str, Any]) -> None:
    result = invoke("assign", cust_run["out"], cust_run["data"])
    assert_ok(result)
    assert result.stdout == (cust_run["out"] / "segments.csv").read_text(encoding="utf-8")
    [line] = result.stderr.splitlines()
    assert line.startswith("excluded: 1 ") and "1 no customer id" in line


def test_assign_missing_feature_column(cust_run: dict[str, Any], tmp_path: Path) -> None:
    used = cust_run["summary"]["preparation"]["columns"]
    numeric = [c for c in ("age", "income", "visits") if c in used]
    assert numeric, used
    dropped = numeric[0]
    frame = pd.read_csv(cust_run["data"], dtype=str, keep_default_na=False).drop(columns=[dropped])
    data = tmp_path / "fewer.csv"
    frame.to_csv(data, index=False)
    result = invoke("assign", cust_run["out"], data)
    assert_ok(result)
    labelled = pd.read_csv(io.StringIO(result.stdout), dtype={"customer_id": str})
    assert list(labelled.columns) == SEGMENT_COLUMNS
    assert len(labelled) == 30
    assert labelled["segment"].between(0, cust_run["summary"]["k"] - 1).all()
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert notes == [f"note: column {dropped!r} is missing; treated as missing values"]


def test_assign_unseen_category_level(cust_run: dict[str, Any], tmp_path: Path) -> None:
    text = cust_run["data"].read_text(encoding="utf-8").replace(",premium", ",platinum")
    data = tmp_path / "unseen.csv"
    data.write_text(text, encoding="utf-8")
    result = invoke("assign", cust_run["out"], data)
    assert_ok(result)
    labelled = pd.read_csv(io.StringIO(result.stdout), dtype={"customer_id": str})
    assert len(labelled) == 30
    assert labelled["confidence"].between(0, 1).all()
    assert any("'plan'" in line and "unseen" in line for line in result.stderr.splitlines())
    # customers of the other plans keep their segments
    original = pd.read_csv(cust_run["out"] / "segments.csv", dtype={"customer_id": str})
    others = ~text_plan_is(cust_run["data"], "premium")
    assert (labelled["segment"][others.to_numpy()] == original["segment"][others.to_numpy()]).all()


def text_plan_is(path: Path, plan: str) -> pd.Series:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = frame[frame["cust_no"] != ""].reset_index(drop=True)
    return frame["plan"] == plan


def test_assign_errors(cust_run: dict[str, Any], tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("hello", encoding="utf-8")
    assert_one_line_error(invoke("assign", plain, cust_run["data"]), 1, str(plain), "model.json")
    missing_model = tmp_path / "nowhere"
    assert_one_line_error(invoke("assign", missing_model, cust_run["data"]), 2, str(missing_model))
    missing_data = tmp_path / "nothing.csv"
    assert_one_line_error(
        invoke("assign", cust_run["out"], missing_data), 2, str(missing_data), "no such file"
    )
    no_id = tmp_path / "noid.csv"
    no_id.write_text("age,income\n30,100\n40,200\n", encoding="utf-8")
    assert_one_line_error(invoke("assign", cust_run["out"], no_id), 1, str(no_id), "'cust_no'")
    bad_as_of = invoke("assign", cust_run["out"], cust_run["data"], "--as-of", "31.12.2024")
    assert_one_line_error(bad_as_of, 2, "--as-of", "'31.12.2024'")
    bad_ext = tmp_path / "labels.txt"
    assert_one_line_error(
        invoke("assign", cust_run["out"], cust_run["data"], "--out", bad_ext), 2, str(bad_ext)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noid.csv", "plain"]


def test_assign_transactions_without_time_column(tx_run: dict[str, Any], tmp_path: Path) -> None:
    frame = pd.read_csv(tx_run["data"], dtype=str, keep_default_na=False).drop(
        columns=["order_date"]
    )
    data = tmp_path / "no-time.csv"
    frame.to_csv(data, index=False)
    assert_one_line_error(invoke("assign", tx_run["out"], data), 1, str(data), "'order_date'")


# --------------------------------------------------------------------------- errors


def _html(path: Path) -> None:
    path.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><title>Sign in, please</title></head>\n'
        "<body><table><tr><td>customer_id</td><td>amount</td></tr></table></body></html>\n",
        encoding="utf-8",
    )


def _garbage(path: Path) -> None:
    rng = random.Random(42)
    path.write_bytes(b"\x00\x01" + bytes(rng.randrange(256) for _ in range(4000)) + b"\x00")


def _all_dates_unparseable(path: Path) -> None:
    write_transactions(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for n, line in enumerate(lines[1:]):
        cid, oid, _, amount = line.split(",")
        out.append(f"{cid},{oid},someday {n},{amount}")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _text(content: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(content, encoding="utf-8")


CUSTOMERS_10 = "customer_id,age,income\n" + "".join(
    f"P{i},{20 + 3 * i},{1000 + 250 * i}\n" for i in range(10)
)

# name -> (writer, extra args, exit code, fragments the message must contain besides the path)
ERROR_CASES: dict[str, tuple[Callable[[Path], None], tuple[str, ...], int, tuple[str, ...]]] = {
    "empty": (_text(""), (), 1, ("empty",)),
    "blank_lines": (_text("\n\n  \n"), (), 1, ("empty",)),
    "header_only": (_text("customer_id,age,income\n"), (), 1, ("no data rows",)),
    "binary": (_garbage, (), 1, ("binary",)),
    "html": (_html, (), 1, ("HTML",)),
    "one_customer": (_text("customer_id,age,income\nA,30,100\n"), (), 1, ("one customer",)),
    "only_id": (_text("customer_id\nA\nB\nC\nD\n"), (), 1, ("no usable feature",)),
    "constant": (
        _text("customer_id,age,plan\nA,30,x\nB,30,x\nC,30,x\nD,30,x\n"),
        (),
        1,
        ("no usable feature", "age: constant", "plan: constant"),
    ),
    "ragged": (
        _text("customer_id,age,income\nA,30,100\nB,50,900,7\nC,20,5\n"),
        (),
        1,
        ("line 3", "4 fields", "expected 3"),
    ),
    "duplicate_header": (
        _text("customer_id,age,age\nA,1,2\nB,3,4\n"),
        (),
        1,
        ("duplicate column name 'age'",),
    ),
    "customer_id_not_the_id": (
        _text("CustomerID,customer_id,age\n" + "".join(f"{i},x{i},{20 + i}\n" for i in range(8))),
        ("--id", "CustomerID"),
        1,
        ("column 'customer_id' is not the customer id", "'CustomerID' is"),
    ),
    "k_too_large": (_text(CUSTOMERS_10), ("--k", "50"), 2, ("50", "10")),
    "k_not_a_number": (_text(CUSTOMERS_10), ("--k", "abc"), 2, ("'abc'",)),
    "k_zero": (_text(CUSTOMERS_10), ("--k", "0"), 2, ("at least 1",)),
    "k_reversed_range": (_text(CUSTOMERS_10), ("--k", "5-3"), 2, ("5-3",)),
    "id_not_a_column": (_text(CUSTOMERS_10), ("--id", "nope"), 2, ("'nope'",)),
    "exclude_not_a_column": (_text(CUSTOMERS_10), ("--exclude", "nope"), 2, ("'nope'",)),
    "sheet_on_csv": (_text(CUSTOMERS_10), ("--sheet", "S1"), 2, ("--sheet",)),
    "bad_as_of": (write_transactions, ("--as-of", "yesterday"), 2, ("--as-of", "'yesterday'")),
    "as_of_before_first": (write_transactions, ("--as-of", "2000-01-01"), 2, ("2000-01-01",)),
}

# The message does not name the file for these (the value at fault is named instead).
NO_FILE_IN_MESSAGE = {"k_not_a_number", "k_zero", "k_reversed_range", "k_too_large", "bad_as_of"}


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished fit, copied into each error test to check it survives untouched."""
    root = tmp_path_factory.mktemp("previous")
    out = root / "run"
    assert_ok(invoke("fit", write_customers(root / "c.csv"), "--out", out, "--k", "3"))
    return out


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_fit_error_cases(case: str, tmp_path: Path, previous_run: Path) -> None:
    writer, extra, code, fragments = ERROR_CASES[case]
    data = tmp_path / "data.csv"
    writer(data)
    names = [] if case in NO_FILE_IN_MESSAGE else [str(data)]

    fresh = tmp_path / "fresh-out"
    result = invoke("fit", data, "--out", fresh, *extra)
    assert_one_line_error(result, code, *names, *fragments)
    assert not fresh.exists()

    # a previous run in --out survives byte for byte, and no staging folder is left
    kept = tmp_path / "kept-out"
    shutil.copytree(previous_run, kept)
    before = snapshot(kept)
    result = invoke("fit", data, "--out", kept, *extra)
    assert_one_line_error(result, code, *names, *fragments)
    assert snapshot(kept) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "kept-out"]


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("data.xlsx", b"PK\x03\x04 not really a workbook", "not a readable Excel workbook"),
        ("data.xlsx", b"customer_id,age\nA,1\nB,2\n", "not a readable Excel workbook"),
        ("data.json", b'[{"customer_id": "A", "age": 1},', "invalid JSON"),
        ("data.json", b"[1, 2, 3]", "record 1"),
        ("data.parquet", b"PAR1 not really parquet", "not a readable Parquet file"),
    ],
)
def test_corrupt_files_of_other_formats(
    name: str, content: bytes, fragment: str, tmp_path: Path
) -> None:
    data = tmp_path / name
    data.write_bytes(content)
    out = tmp_path / "o"
    assert_one_line_error(invoke("fit", data, "--out", out), 1, str(data), fragment)
    assert not out.exists()


def test_all_dates_unparseable_is_an_error(tmp_path: Path) -> None:
    data = tmp_path / "dates.csv"
    _all_dates_unparseable(data)
    out = tmp_path / "o"
    result = invoke("fit", data, "--out", out)
    # Not taken for a customer table: the date column is named and the value shown.
    assert_one_line_error(result, 1, str(data), "'order_date'", "could not be read as dates")
    assert not out.exists()


def test_all_dates_unparseable_forced_transactions(tmp_path: Path) -> None:
    data = tmp_path / "dates.csv"
    _all_dates_unparseable(data)
    out = tmp_path / "o"
    result = invoke("fit", data, "--out", out, "--input", "transactions")
    assert_one_line_error(result, 1, str(data), "'order_date'", "'someday 0'")
    assert not out.exists()


@pytest.mark.parametrize("what", ["missing_file", "directory"])
def test_data_path_usage_errors(what: str, tmp_path: Path) -> None:
    if what == "missing_file":
        data, fragment = tmp_path / "nosuch.csv", "no such file"
    else:
        data, fragment = tmp_path / "folder", "is a directory"
        data.mkdir()
    out = tmp_path / "o"
    assert_one_line_error(invoke("fit", data, "--out", out), 2, str(data), fragment)
    assert not out.exists()


def test_out_is_a_foreign_folder(tmp_path: Path) -> None:
    data = write_customers(tmp_path / "c.csv")
    foreign = tmp_path / "documents"
    (foreign / "sub").mkdir(parents=True)
    (foreign / "thesis.docx").write_bytes(b"precious")
    (foreign / "sub" / "notes.txt").write_text("keep me", encoding="utf-8")
    before = snapshot(foreign)
    line = assert_one_line_error(invoke("fit", data, "--out", foreign), 2, str(foreign))
    assert "not a segmint output folder" in line
    assert snapshot(foreign) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "documents"]


def test_out_is_a_file(tmp_path: Path) -> None:
    data = write_customers(tmp_path / "c.csv")
    target = tmp_path / "out.csv"
    target.write_text("x", encoding="utf-8")
    assert_one_line_error(invoke("fit", data, "--out", target), 2, str(target))
    assert target.read_text(encoding="utf-8") == "x"


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    data = tmp_path / "empty.csv"
    data.write_text("", encoding="utf-8")
    result = invoke("fit", data, "--out", tmp_path / "o", "--debug")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "InputFileError" in result.stderr
    assert result.stderr.splitlines()[-1] == f"error: {data}: the file is empty"


def test_unexpected_exception_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, previous_run: Path
) -> None:
    """A bug while writing: one line, exit 1, the previous run untouched, no staging left."""
    import segmint.runner

    def broken(*_: object, **__: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(segmint.runner, "render_report", broken)
    kept = tmp_path / "kept"
    shutil.copytree(previous_run, kept)
    before = snapshot(kept)
    data = write_customers(tmp_path / "c.csv")
    result = invoke("fit", data, "--out", kept, "--k", "3")
    line = assert_one_line_error_internal(result)
    assert "RuntimeError: boom" in line
    assert snapshot(kept) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "kept"]


def assert_one_line_error_internal(result: Result) -> str:
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: internal error")
    return lines[0]


# --------------------------------------------------------------------------- re-runs


def test_rerun_replaces_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "segmint-output"
    first = write_transactions(tmp_path / "t.csv")
    assert_ok(invoke("fit", first, "--out", out))
    (out / "stale.txt").write_text("left over from an older run", encoding="utf-8")
    (out / "model" / "old.bin").write_bytes(b"\x00")

    second = write_customers(tmp_path / "c.csv")
    result = invoke("fit", second, "--out", out, "--json")
    assert_ok(result)
    assert {p.name for p in out.iterdir()} == OUTPUTS
    assert {p.name for p in (out / "model").iterdir()} == {"model.json", "arrays.npz"}
    assert json.loads(result.stdout)["input_kind"] == "customers"
    assert set(read_ids(out / "segments.csv")) == input_ids(second, "cust_no")
    # nothing beside it: no staging or retired folders
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "segmint-output", "t.csv"]


# --------------------------------------------------------------------------- executables


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    env["COLUMNS"] = "100"
    return env


def test_python_m_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "segmint", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"segmint {__version__}"
    assert proc.stderr == ""


def test_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("segmint")
    if not script.exists():
        found = shutil.which("segmint")
        assert found, "the segmint console script is not installed"
        script = Path(found)
    data = write_transactions(tmp_path / "t.csv")
    out = tmp_path / "o"
    proc = subprocess.run(
        [str(script), "fit", str(data), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert json.loads(proc.stdout) == json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # a data error from the real process: exactly one line, no blank line before it
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    proc = subprocess.run(
        [str(script), "fit", str(empty), "--out", str(tmp_path / "e")],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == f"error: {empty}: the file is empty\n"
    assert not (tmp_path / "e").exists()


def test_without_an_id_column_outputs_name_the_row_numbers(tmp_path: Path) -> None:
    rng = random.Random(4)
    rows = ["age,income,visits"] + [
        f"{rng.randint(20, 70)},{rng.randint(10, 200)},{rng.randint(0, 30)}" for _ in range(80)
    ]
    data = tmp_path / "people.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    assert_ok(invoke("fit", data, "--out", out))
    segments = pd.read_csv(out / "segments.csv")
    assert list(segments.columns[:2]) == ["row_number", "segment"]
    assert segments["row_number"].tolist() == list(range(1, 81))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any("in row_number: data row numbers, not ids" in w for w in summary["warnings"])
    labelled = tmp_path / "labelled.csv"
    assert_ok(invoke("assign", out, data, "--out", labelled))
    assigned = pd.read_csv(labelled)
    assert assigned["row_number"].tolist() == list(range(1, 81))
    assert assigned["segment"].tolist() == segments["segment"].tolist()
    printed = invoke("assign", out, data)
    assert_ok(printed)
    assert printed.stdout.splitlines()[0].startswith("row_number,segment")


@pytest.mark.parametrize(
    "command",
    [
        ["fit", "data.csv"],
        ["assign", "model", "data.csv"],
        ["features", "data.csv", "--out", "f.csv"],
        ["refresh", "data.csv", "--workspace", "ws"],
    ],
)
def test_every_command_rejects_an_unknown_engine(command: list[str]) -> None:
    result = invoke(*command, "--engine", "bogus")
    assert_one_line_error(result, 2, "--engine must be local or spark, not 'bogus'")
