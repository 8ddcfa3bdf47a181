"""SQL databases through SQLAlchemy URLs: read customer data, upsert segment assignments.

Needs the ``db`` extra (``pip install 'segmint[db]'``: SQLAlchemy and the psycopg
PostgreSQL driver) except for reading ``duckdb:///path`` and ``sqlite:///path``, which use
DuckDB's and Python's own modules. PostgreSQL is tested for real.

Reading (:func:`read_database`): ``query`` (any SELECT) or ``table`` (``name`` or
``schema.name``). Column types follow the database: numbers (``NUMERIC`` included) become
floats or integers, timestamps become naive UTC ``datetime64``, dates become dates; text is
typed by the rules of every file reader (:mod:`segmint.cells`: a ``TEXT`` column of
numbers, amounts or dates reads as it would from a CSV); booleans become the text
``"True"`` / ``"False"`` as from a file.

Writing (:func:`upsert_assignments`): one transaction that creates the table when missing
(``customer_id`` primary key, ``segment``, ``segment_name``, ``confidence``, ``run_id``,
``assigned_at``) and inserts or updates every row by ``customer_id``
(``INSERT ... ON CONFLICT DO UPDATE`` on PostgreSQL and SQLite, ``ON DUPLICATE KEY
UPDATE`` on MySQL/MariaDB, delete-then-insert elsewhere). Any error rolls the whole
transaction back: the table is as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import importlib
import os
import sqlite3
from typing import Any

import numpy as np
import pandas as pd

from segmint.cells import Typed, type_objects, type_strings
from segmint.errors import DataError, UsageError
from segmint.io import LoadedTable

EXPORT_COLUMNS = ("customer_id", "segment", "segment_name", "confidence", "run_id", "assigned_at")
_CHUNK = 10_000


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ImportError:  # pragma: no cover - the db extra is installed with the tests
        raise UsageError(
            "databases need SQLAlchemy and a driver: pip install 'segmint[db]'"
        ) from None
    return sqlalchemy


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "orig", None) or exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def redact(url: str) -> str:
    """The URL with its password hidden, for messages and run records."""
    sa = _sqlalchemy()
    try:
        return str(sa.engine.make_url(url).render_as_string(hide_password=True))
    except Exception:
        return "<database URL>"


def _engine(url: str) -> Any:
    sa = _sqlalchemy()
    try:
        return sa.create_engine(url)
    except sa.exc.NoSuchModuleError as exc:
        raise UsageError(
            f"{redact(url)}: no SQLAlchemy driver for this URL ({_one_line(exc)})"
        ) from exc
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise UsageError(
            f"--db/--to {url.split('://')[0]}://...: not a database URL ({_one_line(exc)})"
        ) from exc
    except ImportError as exc:
        raise UsageError(
            f"{redact(url)}: the database driver is not installed ({_one_line(exc)})"
        ) from exc


def _split(table: str) -> tuple[str | None, str]:
    schema, _, name = table.rpartition(".")
    if not name:
        raise UsageError(f"--table {table!r} is not a table name")
    return (schema or None), name


def read_database(url: str, *, query: str | None = None, table: str | None = None) -> LoadedTable:
    """Run ``query`` (or read ``table``) and return the rows as a typed table.

    Raises
    ------
    UsageError
        Neither or both of ``query`` and ``table``, a bad URL, no driver, SQL the database
        rejects, or a table that does not exist.
    DataError
        The database cannot be reached, or the result has no rows.
    """
    if (query is None) == (table is None):
        raise UsageError("--db needs exactly one of --query SQL or --table NAME")
    embedded = _read_embedded(url, query=query, table=table)
    if embedded is not None:
        return embedded
    sa = _sqlalchemy()
    engine = _engine(url)
    where = redact(url)
    source = f"{where} ({'query' if query is not None else 'table ' + str(table)})"
    try:
        with engine.connect() as con:
            if table is not None:
                schema, name = _split(table)
                reflected = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=con)
                cursor = con.execute(sa.select(reflected))
            else:
                cursor = con.execute(sa.text(str(query)))
            if not cursor.returns_rows:
                raise UsageError(f"{source}: the query returns no rows (use a SELECT)")
            columns = list(cursor.keys())
            rows = cursor.fetchall()
    except sa.exc.NoSuchTableError:
        raise UsageError(f"{where}: no table {table!r}") from None
    except (sa.exc.ProgrammingError, sa.exc.StatementError) as exc:
        if isinstance(exc, sa.exc.OperationalError):
            raise DataError(f"{where}: cannot read ({_one_line(exc)})") from exc
        raise UsageError(f"{source}: the database rejected it ({_one_line(exc)})") from exc
    except sa.exc.DBAPIError as exc:
        raise DataError(f"{where}: cannot read ({_one_line(exc)})") from exc
    finally:
        engine.dispose()
    return _loaded(columns, rows, source, engine.dialect.name)


def _loaded(columns: list[str], rows: list[Any], source: str, dialect: str) -> LoadedTable:
    if len(set(columns)) != len(columns):
        raise DataError(f"{source}: duplicate column names in the result: {columns}")
    frame = pd.DataFrame.from_records(rows, columns=columns)
    if frame.empty:
        raise DataError(f"{source}: no rows")
    frame, types = _type_columns(frame)
    details = {"rows_read": len(frame), "column_types": types, "dialect": dialect}
    return LoadedTable(frame=frame, source=source, format="database", details=details)


def _read_embedded(url: str, *, query: str | None, table: str | None) -> LoadedTable | None:
    """``duckdb:///path`` and ``sqlite:///path`` read with DuckDB's and Python's own
    modules (no SQLAlchemy needed); None for any other URL."""
    scheme, _, rest = url.partition(":///")
    if scheme not in ("duckdb", "sqlite") or not rest:
        return None
    path = rest.split("?", 1)[0]
    if not os.path.isfile(path):
        raise UsageError(f"{url}: no such database file")
    if table is not None:
        schema, name = _split(table)
        quoted = ".".join('"' + part.replace('"', '""') + '"' for part in (schema, name) if part)
        sql = f"SELECT * FROM {quoted}"
    else:
        sql = str(query)
    source = f"{url} ({'query' if query is not None else 'table ' + str(table)})"
    if scheme == "duckdb":
        import duckdb

        errors: tuple[type[BaseException], ...] = (duckdb.Error,)
        connect: Any = lambda: duckdb.connect(path, read_only=True)  # noqa: E731
    else:
        errors = (sqlite3.Error,)
        connect = lambda: contextlib.closing(  # noqa: E731
            sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        )
    try:
        with connect() as con:
            cursor = con.execute(sql)
            if cursor.description is None:
                raise UsageError(f"{source}: the query returns no rows (use a SELECT)")
            columns = [str(d[0]) for d in cursor.description]
            rows = cursor.fetchall()
    except errors as exc:
        missing = table is not None and (
            "no such table" in str(exc) or "does not exist" in str(exc)
        )
        if missing:
            raise UsageError(f"{url}: no table {table!r}") from None
        raise UsageError(f"{source}: the database rejected it ({_one_line(exc)})") from exc
    return _loaded(columns, rows, source, scheme)


def _type_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    out: dict[str, pd.Series] = {}
    types: dict[str, str] = {}
    for column in frame.columns:
        series = frame[column]
        values = series.dropna()
        kind = "text"
        if pd.api.types.is_bool_dtype(series) or (
            len(values) and all(isinstance(v, (bool, np.bool_)) for v in values)
        ):
            series = series.map(lambda v: None if v is None or v is pd.NA else str(bool(v)))
        elif pd.api.types.is_numeric_dtype(series) or (
            len(values)
            and all(isinstance(v, (int, float, decimal.Decimal, np.number)) for v in values)
        ):
            numbers = pd.to_numeric(
                series.map(lambda v: float(v) if isinstance(v, decimal.Decimal) else v)
            )
            integral = numbers.notna().all() and np.all(
                np.mod(numbers.to_numpy(dtype=float), 1) == 0
            )
            series = (
                numbers.astype("int64") if integral and len(numbers) else numbers.astype("float64")
            )
            kind = "integer" if integral else "float"
        elif pd.api.types.is_datetime64_any_dtype(series) or (
            len(values) and all(isinstance(v, (dt.datetime, dt.date, pd.Timestamp)) for v in values)
        ):
            stamps = pd.to_datetime(series, utc=True, errors="coerce")
            series = stamps.dt.tz_localize(None).astype("datetime64[ns]")
            kind = "datetime"
        elif len(values) == 0:
            kind = "empty"
        else:
            # Text is typed by the rules every file reader uses (segmint.cells): numbers,
            # amounts and dates kept as text by the database read as they would from a CSV.
            typed = type_objects(series.tolist())
            if not isinstance(typed, Typed):
                typed = type_strings(typed, decimal_comma=False)
            series, kind = typed.series.set_axis(frame.index), typed.kind
        out[str(column)] = series
        types[str(column)] = kind
    return pd.DataFrame(out), types


def upsert_assignments(url: str, table: str, frame: pd.DataFrame) -> int:
    """Insert or update ``frame``'s rows by ``customer_id`` in one transaction.

    Parameters
    ----------
    url : str
        SQLAlchemy URL.
    table : str
        ``name`` or ``schema.name``; created when missing.
    frame : DataFrame
        Columns :data:`EXPORT_COLUMNS`.

    Returns
    -------
    int
        Rows written.

    Raises
    ------
    UsageError
        An existing table lacks a column or a unique key on ``customer_id``.
    DataError
        The database refused the rows; nothing was changed.
    """
    sa = _sqlalchemy()
    schema, name = _split(table)
    engine = _engine(url)
    where = redact(url)
    rows = _records(frame)
    try:
        with engine.begin() as con:  # one transaction: commit at the end, roll back on error
            target = _target_table(sa, con, schema, name, where)
            for start in range(0, len(rows), _CHUNK):
                _upsert_chunk(sa, con, target, rows[start : start + _CHUNK])
    except sa.exc.DBAPIError as exc:
        raise DataError(
            f"{where}: export to {table!r} failed, nothing changed ({_one_line(exc)})"
        ) from exc
    finally:
        engine.dispose()
    return len(rows)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    missing = [c for c in EXPORT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"assignments lack columns {missing}")
    data = frame[list(EXPORT_COLUMNS)]
    stamps = pd.to_datetime(data["assigned_at"], utc=True).dt.tz_localize(None)
    return [
        {
            "customer_id": str(c),
            "segment": int(s),
            "segment_name": str(n),
            "confidence": None if pd.isna(f) else float(f),
            "run_id": str(r),
            "assigned_at": t.to_pydatetime(),
        }
        for c, s, n, f, r, t in zip(
            data["customer_id"],
            data["segment"],
            data["segment_name"],
            data["confidence"],
            data["run_id"],
            stamps,
            strict=True,
        )
    ]


def _export_table(sa: Any, name: str, schema: str | None) -> Any:
    """The export table's definition (used to create it, and to write to an existing one)."""
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("customer_id", sa.String(255), primary_key=True),
        sa.Column("segment", sa.Integer, nullable=False),
        sa.Column("segment_name", sa.String(255)),
        sa.Column("confidence", sa.Float),
        sa.Column("run_id", sa.String(64)),
        sa.Column("assigned_at", sa.DateTime),
        schema=schema,
    )


def _target_table(sa: Any, con: Any, schema: str | None, name: str, where: str) -> Any:
    inspector = sa.inspect(con)
    target = _export_table(sa, name, schema)
    if not inspector.has_table(name, schema=schema):
        target.create(con)
        return target
    # An existing table is checked, not reflected whole: its other columns, defaults and
    # constraints stay the database's business.
    label = f"{where}: table {name!r}"
    present = {c["name"] for c in inspector.get_columns(name, schema=schema)}
    missing = [c for c in EXPORT_COLUMNS if c not in present]
    if missing:
        raise UsageError(f"{label} exists without the columns {', '.join(missing)}")
    keys = [list(inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or [])]
    keys += [u["column_names"] for u in inspector.get_unique_constraints(name, schema=schema)]
    keys += [
        i["column_names"] for i in inspector.get_indexes(name, schema=schema) if i.get("unique")
    ]
    if ["customer_id"] not in keys:
        raise UsageError(f"{label} exists without a primary or unique key on customer_id")
    return target


def _upsert_chunk(sa: Any, con: Any, target: Any, rows: list[dict[str, Any]]) -> None:
    dialect = con.dialect.name
    updates = [c for c in EXPORT_COLUMNS if c != "customer_id"]
    if dialect in ("postgresql", "sqlite"):
        stmt = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(target)
        stmt = stmt.on_conflict_do_update(
            index_elements=[target.c.customer_id], set_={c: stmt.excluded[c] for c in updates}
        )
        con.execute(stmt, rows)
    elif dialect in ("mysql", "mariadb"):
        stmt = importlib.import_module("sqlalchemy.dialects.mysql").insert(target)
        con.execute(stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in updates}), rows)
    else:
        ids = [r["customer_id"] for r in rows]
        con.execute(sa.delete(target).where(target.c.customer_id.in_(ids)))
        con.execute(sa.insert(target), rows)


def load_source(
    data: str | None,
    *,
    db: str | None = None,
    query: str | None = None,
    table: str | None = None,
    sheet: str | None = None,
    sep: str | None = None,
) -> str | LoadedTable:
    """What the command line's DATA / ``--db`` options name: a file path, or a table read now.

    Raises
    ------
    UsageError
        Neither or both of a file and ``--db``; ``--query`` / ``--table`` without ``--db``;
        ``--sheet`` with ``--db``.
    """
    if db is None:
        if query is not None or table is not None:
            raise UsageError("--query and --table read from a database: give --db URL too")
        if data is None:
            raise UsageError("give a DATA file, or --db URL with --query SQL or --table NAME")
        if sep is not None or data == "-":  # standard input, or a delimiter given: read now
            from segmint.io import read_table

            return read_table(data, sheet=sheet, sep=sep)
        return data
    if data is not None:
        raise UsageError(f"give either a DATA file ({data}) or --db, not both")
    if sheet is not None or sep is not None:
        raise UsageError("--sheet and --sep apply to files, not to --db")
    return read_database(db, query=query, table=table)
