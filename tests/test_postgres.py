"""A real PostgreSQL: read customer data from it, export assignments into it.

The session fixture starts a throwaway cluster from the Debian PostgreSQL binaries
(``make test`` installs them when missing): ``initdb`` in a temporary folder, the server
on a free loopback port (127.0.0.1 only, its socket in that folder), stopped and removed
at the end. As root (CI), the server runs as the ``postgres`` user (or ``nobody``),
because ``initdb`` refuses to run as root.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from segmint.cli import app
from segmint.database import read_database, upsert_assignments
from segmint.errors import DataError, UsageError
from segmint.pipeline import segment
from segmint.store import Workspace
from tests.workspace_data import FIT_AS_OF, shop_log

runner = CliRunner()
COLUMNS = {  # the generated log's columns as they would be named and typed in a database
    "InvoiceNo": ("invoice_no", "TEXT"),
    "StockCode": ("stock_code", "TEXT"),
    "Quantity": ("quantity", "INTEGER"),
    "InvoiceDate": ("invoice_date", "TIMESTAMP"),
    "UnitPrice": ("unit_price", "NUMERIC(12, 2)"),
    "CustomerID": ("customer_id", "TEXT"),
    "Country": ("country", "TEXT"),
}


def _server_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail(
            "PostgreSQL server binaries not found; `make test` installs them "
            "(apt-get install postgresql)"
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL server, for this test session only."""
    binaries = _server_binaries()
    root = Path(tempfile.mkdtemp(prefix="segmint-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        account = "postgres" if "postgres" in {p.pw_name for p in pwd.getpwall()} else "nobody"
        entry = pwd.getpwnam(account)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        prefix = ["runuser", "-u", account, "--"]

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, cwd=root)
        if done.returncode:
            log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
            pytest.fail(f"{args[0]} failed: {done.stderr.strip()} {log[-2000:]}")

    data = root / "data"
    run(
        str(binaries / "initdb"),
        "-D",
        str(data),
        "-U",
        "segmint",
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-locale",
        "--no-sync",
    )
    port = _free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
        "-c full_page_writes=off -c synchronous_commit=off"
    )
    run(
        str(binaries / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(root / "server.log"),
        "-w",
        "-o",
        options,
        "start",
    )
    try:
        yield f"postgresql+psycopg://segmint@127.0.0.1:{port}/postgres"
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def database_log() -> pd.DataFrame:
    """The shop log with database column names."""
    log = shop_log()[list(COLUMNS)]
    return log.rename(columns={k: v[0] for k, v in COLUMNS.items()})


@pytest.fixture(scope="session")
def orders(postgres_url: str) -> str:
    """An ``orders`` table with the shop log, typed as a database would type it."""
    log = database_log()
    columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.values())
    engine = sa.create_engine(postgres_url)
    with engine.begin() as con:
        con.execute(sa.text(f"CREATE TABLE orders ({columns})"))
        names = [name for name, _ in COLUMNS.values()]
        insert = sa.text(f"INSERT INTO orders VALUES ({', '.join(':' + n for n in names)})")
        rows = [dict(zip(names, row, strict=True)) for row in log.itertuples(index=False)]
        con.execute(
            insert, [{**r, "invoice_date": r["invoice_date"].to_pydatetime()} for r in rows]
        )
    engine.dispose()
    return postgres_url


def run(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def table(url: str, name: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    with engine.connect() as con:
        frame = pd.read_sql(f"SELECT * FROM {name} ORDER BY customer_id", con)
    engine.dispose()
    return frame


def test_read_keeps_the_database_types(orders: str) -> None:
    loaded = read_database(orders, table="orders")
    assert loaded.details["column_types"] == {
        "invoice_no": "text",
        "stock_code": "text",
        "quantity": "integer",
        "invoice_date": "datetime",
        "unit_price": "float",
        "customer_id": "text",
        "country": "text",
    }
    assert loaded.source.endswith("(table orders)") and loaded.format == "database"
    expected = database_log()
    assert len(loaded.frame) == len(expected)
    assert loaded.frame["unit_price"].sum() == pytest.approx(expected["unit_price"].sum())
    query = read_database(
        orders, query="SELECT customer_id, count(*) AS lines FROM orders GROUP BY 1"
    )
    assert query.frame["lines"].sum() == len(expected)


def test_fit_from_a_query_matches_the_same_data_from_a_file(orders: str, tmp_path: Path) -> None:
    result = run(
        "fit",
        "--db",
        orders,
        "--query",
        "SELECT * FROM orders",
        "--as-of",
        FIT_AS_OF,
        "--k",
        "3",
        "--workspace",
        tmp_path / "ws",
    )
    assert result.exit_code == 0, result.output
    recorded = Workspace(tmp_path / "ws").assignments("run-0001")
    expected = segment(database_log(), as_of=FIT_AS_OF, k=3).assignments.sort_values("customer_id")
    assert recorded["customer_id"].tolist() == expected["customer_id"].tolist()
    assert recorded["segment"].tolist() == expected["segment"].tolist()
    run_record = Workspace(tmp_path / "ws").runs().iloc[0]
    assert run_record["source"].startswith("postgresql+psycopg://segmint@127.0.0.1")
    # refresh and monitor read the table, and assign labels from it
    refreshed = run("refresh", "--db", orders, "--table", "orders", "--workspace", tmp_path / "ws")
    assert refreshed.exit_code == 0, refreshed.output
    monitored = run(
        "monitor", "--db", orders, "--table", "orders", "--workspace", tmp_path / "ws", "--json"
    )
    # fine when the refresh was promoted; else the champion trained on the older data serves
    # a log with 22% new customers: retrain
    promoted = bool(Workspace(tmp_path / "ws").runs().iloc[-1]["promoted"])
    verdict = json.loads(monitored.stdout)["verdict"]
    assert monitored.exit_code == 0 and verdict == ("fine" if promoted else "retrain")
    assigned = run(
        "assign", tmp_path / "ws", "--db", orders, "--table", "orders", "--out", tmp_path / "l.csv"
    )
    assert assigned.exit_code == 0, assigned.output
    assert len(pd.read_csv(tmp_path / "l.csv")) == len(
        Workspace(tmp_path / "ws").assignments("run-0002")
    )


@pytest.fixture(scope="module")
def two_runs(orders: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("pg") / "ws"
    assert (
        run(
            "fit",
            "--db",
            orders,
            "--table",
            "orders",
            "--as-of",
            FIT_AS_OF,
            "--k",
            "3",
            "--workspace",
            ws,
        ).exit_code
        == 0
    )
    assert run("refresh", "--db", orders, "--table", "orders", "--workspace", ws).exit_code == 0
    return ws


def test_export_upserts_by_customer_id(postgres_url: str, two_runs: Path) -> None:
    first = run(
        "export",
        "--workspace",
        two_runs,
        "--to",
        postgres_url,
        "--table",
        "segments",
        "--run",
        "run-0001",
    )
    assert first.exit_code == 0, first.output
    stored = table(postgres_url, "segments")
    june = Workspace(two_runs).assignments("run-0001")
    assert stored["customer_id"].tolist() == june["customer_id"].tolist()
    assert list(stored.columns) == [
        "customer_id",
        "segment",
        "segment_name",
        "confidence",
        "run_id",
        "assigned_at",
    ]
    second = run("export", "--workspace", two_runs, "--to", postgres_url, "--table", "segments")
    assert (
        second.exit_code == 0
        and "customers exported to postgresql+psycopg://segmint@" in second.output
    )
    stored = table(postgres_url, "segments")
    latest = Workspace(two_runs).assignments("run-0002")
    assert stored["customer_id"].is_unique and len(stored) == len(latest)  # updated, not duplicated
    assert set(stored["run_id"]) == {"run-0002"}
    merged = stored.merge(latest, on="customer_id")
    assert (merged["segment_x"] == merged["segment_y"]).all()
    assert (merged["confidence_x"] - merged["confidence_y"]).abs().max() < 1e-9
    engine = sa.create_engine(postgres_url)
    assert sa.inspect(engine).get_pk_constraint("segments")["constrained_columns"] == [
        "customer_id"
    ]
    engine.dispose()


def test_a_failing_export_leaves_the_table_unchanged(postgres_url: str, two_runs: Path) -> None:
    missing = run("export", "--workspace", two_runs, "--to", postgres_url, "--table", "crm.labels")
    assert missing.exit_code == 1 and 'schema "crm" does not exist' in missing.output
    engine = sa.create_engine(postgres_url)
    with engine.begin() as con:
        con.execute(sa.text("CREATE SCHEMA crm"))
    engine.dispose()
    assert (
        run(
            "export",
            "--workspace",
            two_runs,
            "--to",
            postgres_url,
            "--table",
            "crm.labels",
            "--run",
            "run-0001",
        ).exit_code
        == 0
    )
    before = table(postgres_url, "crm.labels")
    latest = Workspace(two_runs).assignments("run-0002")
    refused = int(latest["segment"].iloc[len(latest) // 2])  # rows of this segment come mid-batch
    engine = sa.create_engine(postgres_url)
    with engine.begin() as con:
        con.execute(
            sa.text(
                "ALTER TABLE crm.labels ADD CONSTRAINT no_seg "
                f"CHECK (segment <> {refused}) NOT VALID"
            )
        )
    engine.dispose()
    result = run("export", "--workspace", two_runs, "--to", postgres_url, "--table", "crm.labels")
    assert (
        result.exit_code == 1 and "nothing changed" in result.output and "no_seg" in result.output
    )
    after = table(postgres_url, "crm.labels")
    pd.testing.assert_frame_equal(after, before)


def test_database_errors(orders: str, postgres_url: str) -> None:
    with pytest.raises(UsageError, match="the database rejected it"):
        read_database(orders, query="SELECT * FROM no_such_table")
    with pytest.raises(UsageError, match="no table 'missing'"):
        read_database(orders, table="missing")
    with pytest.raises(DataError, match="no rows"):
        read_database(orders, query="SELECT * FROM orders WHERE false")
    closed = f"postgresql+psycopg://segmint@127.0.0.1:{_free_port()}/postgres"
    with pytest.raises(DataError, match="cannot read"):
        read_database(closed, table="orders")
    with pytest.raises(UsageError, match="without the columns"):
        upsert_assignments(
            postgres_url,
            "orders",
            pd.DataFrame(
                {
                    c: []
                    for c in (
                        "customer_id",
                        "segment",
                        "segment_name",
                        "confidence",
                        "run_id",
                        "assigned_at",
                    )
                }
            ),
        )


def test_telco_from_postgres_segments_as_from_the_csv(postgres_url: str, shared_data: Path) -> None:
    """The same table read from the database and from the CSV: same features, k and labels
    (``TotalCharges`` stored as text, its blanks included, reads as a number either way)."""
    from segmint.io import read_table

    path = shared_data / "telco-churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    types = {"tenure": "INTEGER", "MonthlyCharges": "NUMERIC(10, 2)", "SeniorCitizen": "INTEGER"}
    columns = ", ".join(f'"{c}" {types.get(c, "TEXT")}' for c in raw.columns)
    engine = sa.create_engine(postgres_url)
    with engine.begin() as con:
        con.execute(sa.text(f"CREATE TABLE telco ({columns})"))
        marks = ", ".join(f":c{i}" for i in range(len(raw.columns)))
        rows = [
            {f"c{i}": (int(v) if raw.columns[i] in ("tenure", "SeniorCitizen") else v)
             for i, v in enumerate(row)}
            for row in raw.itertuples(index=False)
        ]  # fmt: skip
        con.execute(sa.text(f"INSERT INTO telco VALUES ({marks})"), rows)
    engine.dispose()
    from_db = read_database(postgres_url, query='SELECT * FROM telco ORDER BY "customerID"')
    assert from_db.details["column_types"]["TotalCharges"] == "float"
    from_csv = read_table(path).frame.sort_values("customerID").reset_index(drop=True)
    db_result = segment(from_db.frame, source="db")
    csv_result = segment(from_csv, source="csv")
    assert db_result.summary["features_used"] == csv_result.summary["features_used"]
    assert "TotalCharges" in db_result.summary["features_used"]
    assert db_result.model.k == csv_result.model.k
    assert db_result.assignments["customer_id"].tolist() == (
        csv_result.assignments["customer_id"].tolist()
    )
    assert db_result.assignments["segment"].tolist() == csv_result.assignments["segment"].tolist()
