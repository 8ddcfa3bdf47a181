"""``duckdb:///`` and ``sqlite:///`` URLs read with the databases' own modules, and text
columns typed by the same rules as a file's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from segmint.database import read_database
from segmint.errors import UsageError
from segmint.io import read_table

ROWS = [  # everything stored as text, as a naive import leaves it
    ("C1", "2024-01-03", "12.50", "2", "0001"),
    ("C1", "2024-02-10", "7.25", "1", "0002"),
    ("C2", "2024-01-15", "", "3", "0003"),
    ("C3", "2024-03-01", "40.00", "1", "0004"),
]
COLUMNS = ["customer", "day", "amount", "quantity", "code"]


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "log.csv"
    pd.DataFrame(ROWS, columns=COLUMNS).to_csv(path, index=False)
    return path


def _sqlite(tmp_path: Path) -> str:
    path = tmp_path / "shop.sqlite"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE log (customer TEXT, day TEXT, amount TEXT, quantity TEXT, code TEXT)"
        )
        con.executemany("INSERT INTO log VALUES (?, ?, NULLIF(?, ''), ?, ?)", ROWS)
    return f"sqlite:///{path}"


def _duckdb(tmp_path: Path) -> str:
    path = tmp_path / "shop.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE log (customer TEXT, day TEXT, amount TEXT, quantity TEXT, code TEXT)"
        )
        con.executemany("INSERT INTO log VALUES (?, ?, NULLIF(?, ''), ?, ?)", ROWS)
    return f"duckdb:///{path}"


@pytest.mark.parametrize("make", [_sqlite, _duckdb])
def test_embedded_url_reads_like_the_csv(make, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make(tmp_path)
    loaded = read_database(url, table="log")
    from_file = read_table(_csv(tmp_path))
    assert loaded.details["column_types"] == {
        "customer": "text", "day": "datetime", "amount": "float", "quantity": "integer",
        "code": "text",  # leading zeros: an identifier, kept as written
    }  # fmt: skip
    assert {c: from_file.details["column_types"][c] for c in COLUMNS} == loaded.details[
        "column_types"
    ]
    pd.testing.assert_frame_equal(
        loaded.frame.reset_index(drop=True), from_file.frame[COLUMNS], check_dtype=False
    )
    query = read_database(
        url, query="SELECT customer, count(*) AS n FROM log GROUP BY 1 ORDER BY 1"
    )
    assert query.frame["n"].tolist() == [2, 1, 1]
    assert query.details["dialect"] == url.split(":")[0]


@pytest.mark.parametrize("make", [_sqlite, _duckdb])
def test_embedded_url_errors(make, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = make(tmp_path)
    with pytest.raises(UsageError, match="no table 'missing'"):
        read_database(url, table="missing")
    with pytest.raises(UsageError, match="the database rejected it"):
        read_database(url, query="SELECT nope FROM log")
    scheme = url.split(":")[0]
    with pytest.raises(UsageError, match="no such database file"):
        read_database(f"{scheme}:///{tmp_path / 'absent.db'}", table="log")


def test_fit_from_a_duckdb_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from segmint.cli import app
    from tests.test_roles_languages import basket_log

    path = tmp_path / "shop.duckdb"
    log = basket_log(households=80).astype(str)  # every column text in the database
    with duckdb.connect(str(path)) as con:
        con.register("frame", log)
        con.execute("CREATE TABLE baskets AS SELECT * FROM frame")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["fit", "--db", f"duckdb:///{path}", "--table", "baskets", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    segments = pd.read_csv(out / "segments.csv", dtype={"customer_id": str})
    assert len(segments) == 80
    import json

    summary = json.loads((out / "summary.json").read_text())
    assert summary["input_kind"] == "transactions"
    assert summary["roles"]["customer"] == "household_id"


def test_a_dataframe_of_text_segments_as_the_typed_one() -> None:
    """A DataFrame whose numbers are text (as pasted or read without types) is typed by the
    same rules as a file: same features, k and labels."""
    import numpy as np

    from segmint.pipeline import segment

    rng = np.random.default_rng(5)
    typed = pd.DataFrame(
        {
            "customer_id": [f"{i:04d}" for i in range(120)],
            "spend": np.round(np.r_[rng.normal(20, 3, 60), rng.normal(80, 5, 60)], 2),
            "visits": np.r_[rng.integers(1, 4, 60), rng.integers(8, 12, 60)],
        }
    )
    text = typed.astype(str)
    a, b = segment(typed, k=2), segment(text, k=2)
    assert a.summary["features_used"] == b.summary["features_used"]
    assert b.features["visits"].dtype.kind == "i"  # typed, not text
    assert a.assignments["customer_id"].tolist() == b.assignments["customer_id"].tolist()
    assert a.assignments["segment"].tolist() == b.assignments["segment"].tolist()
    assert b.model.assign(text).assignments["segment"].tolist() == b.labels.tolist()
