"""One row per customer: a customer table's rows, or a transaction log's derived features.

:func:`customer_table` turns the input into the table the segments are formed on and
accounts for every row. Duplicate customer ids in a customer table: exact duplicate rows
are dropped first; of the remaining rows sharing an id, the first row in the file is
kept and the others are counted (and listed by id in the summary). A customer table
without any id column uses the 1-based row number as the id, keeps every row, and its
output files name that column ``row_number`` (:func:`output_table`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from segmint.errors import DataError
from segmint.features.engine import QUALITY_COLUMNS
from segmint.features.rfm import transaction_features
from segmint.features.roles import ColumnRoles, content_note, normalise_ids
from segmint.features.spec import FeatureSpec

EXCLUDED_COLUMNS = ["customer_id", "reason", "detail"]
BATCH_ROWS = 10_000  # from this many rows, labelling runs BLAS on one thread
ROW_NUMBER_ID = "row number (the data has no customer id column)"
ROW_NUMBER_COLUMN = "row_number"


def output_table(table: pd.DataFrame, account: dict[str, Any]) -> pd.DataFrame:
    """``table`` as written to a file: when the data had no customer id column, the ids are
    data row numbers, and the column says so (``row_number``, not ``customer_id``)."""
    if account.get("customer_id") == ROW_NUMBER_ID and "customer_id" in table.columns:
        return table.rename(columns={"customer_id": ROW_NUMBER_COLUMN})
    return table


def with_quality(assignments: pd.DataFrame, quality: pd.DataFrame) -> pd.DataFrame:
    """``assignments`` with each customer's ``quality_score`` and ``quality_reasons``."""
    columns = quality[["customer_id", *QUALITY_COLUMNS]].astype({"customer_id": "string"})
    merged = assignments.merge(columns, on="customer_id", how="left", validate="one_to_one")
    merged["quality_reasons"] = merged["quality_reasons"].fillna("")
    return merged


@dataclass(frozen=True)
class CustomerTable:
    """One row per customer, ready for preparation, and what was set aside on the way."""

    frame: pd.DataFrame  # customer_id first, then feature columns
    excluded: pd.DataFrame
    account: dict[str, Any]
    spec: FeatureSpec | None = None  # transaction logs: the resolved feature spec
    quality: pd.DataFrame | None = None  # transaction logs: customer_id + QUALITY_COLUMNS
    warnings: tuple[str, ...] = ()  # the table's shape, said on the terminal and in the report


def customer_table(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    *,
    source: str = "data",
    as_of: dt.date | str | None = None,
    spec: FeatureSpec | None = None,
) -> CustomerTable:
    """Turn a loaded table into one row per customer according to ``roles``.

    A transaction log's features follow ``spec`` (see :mod:`segmint.features.spec`;
    detected when not given).
    """
    if roles.kind == "transactions":
        derived = transaction_features(frame, roles, source=source, as_of=as_of, spec=spec)
        note = content_note(frame, roles)
        return CustomerTable(
            derived.features, derived.excluded, derived.account, derived.spec, derived.quality,
            warnings=(note,) if note else (),
        )  # fmt: skip
    table = frame.copy()
    account: dict[str, Any] = {"rows_read": len(table)}
    id_col = roles.customer
    if "customer_id" in table.columns and id_col != "customer_id":
        raise DataError(
            f"{source}: column 'customer_id' is not the customer id "
            f"({'the row number' if id_col is None else repr(id_col)} is); outputs name the id "
            "customer_id: rename or remove that column"
        )
    if id_col is None:
        # No id column: the 1-based row number is the id, so every row is its own customer.
        id_col = "row number"
        while id_col in table.columns:
            id_col = f"_{id_col}"
        table[id_col] = np.arange(1, len(table) + 1)
        account["customer_id"] = ROW_NUMBER_ID
    before = len(table)
    ids = normalise_ids(table[id_col])
    codes = _codes(ids)  # ids hashed once: equal ids, equal codes
    if roles.customer is not None:
        # Without ids two equal rows may be two customers; with ids they are one, twice.
        # Equal rows have equal ids: only the rows whose id repeats are compared whole.
        repeated = pd.Series(codes).duplicated(keep=False).to_numpy()
        if repeated.any():
            keep = np.ones(len(table), dtype=bool)
            keep[np.flatnonzero(repeated)[table[repeated].duplicated().to_numpy()]] = False
            table, ids, codes = table[keep], ids[keep], codes[keep]
    account["duplicate_rows_dropped"] = before - len(table)
    rows = pd.Series(np.arange(len(frame)) + 1, index=frame.index)[table.index]
    excluded = rows_without_id(rows[ids.isna()].tolist(), id_col)
    account["rows_without_customer_id"] = int(ids.isna().sum())
    table = table.drop(columns=[id_col])
    table.insert(0, "customer_id", ids)
    present = ids.notna().to_numpy()
    table, codes = table[present], codes[present]
    duplicated = pd.Series(pd.Series(codes).duplicated().to_numpy(), index=table.index)
    account["duplicate_id_rows_dropped"] = int(duplicated.sum())
    if duplicated.any():
        account["duplicate_id_rule"] = "first row kept"
        account["duplicate_id_examples"] = table.loc[duplicated, "customer_id"].head(10).tolist()
    table = table[~duplicated].reset_index(drop=True)
    warnings = _shape_warnings(frame, roles, account)
    return CustomerTable(table, excluded.reset_index(drop=True), account, warnings=warnings)


def _shape_warnings(
    frame: pd.DataFrame, roles: ColumnRoles, account: dict[str, Any]
) -> tuple[str, ...]:
    """Signs that the rows of a customer table are not one customer each."""
    as_log = (
        "if each row is a purchase, fit the file as a transaction log (--input "
        "transactions, and --spec naming the time and amount columns where they are not "
        "detected)"
    )
    dropped = int(account.get("duplicate_id_rows_dropped", 0))
    if dropped:
        examples = ", ".join(map(str, account.get("duplicate_id_examples", [])[:3]))
        return (
            f"{dropped:,} of {account['rows_read']:,} rows repeat a customer id of column "
            f"{roles.customer!r} (e.g. {examples}) and were left out, the first row of each "
            f"id kept: a customer table has one row per customer; {as_log}",
        )
    if roles.customer is not None:
        return ()
    no_id = (
        f"no customer id column found: each row is one customer, numbered by its position "
        f"(1 to {len(frame):,} in {ROW_NUMBER_COLUMN}: data row numbers, not ids); if a column "
        "identifies the customers, name it with --id COLUMN"
    )
    if len(frame) < 40:
        return (no_id,)
    dates = [c for c in frame.columns if _date_like(frame[c])]
    for col in frame.columns:
        series = frame[col]
        if not dates or not pd.api.types.is_string_dtype(series):
            continue
        distinct = series.nunique(dropna=True)
        if distinct >= 20 and 2 * distinct <= series.notna().sum():
            return (
                f"each row was taken as one customer (no customer id column), but column "
                f"{col!r} repeats ({distinct:,} distinct values in {len(frame):,} rows) and "
                f"{dates[0]!r} holds dates: {as_log.replace('--input', f'--id {col} --input')}",
            )
    return (no_id,)


def _date_like(series: pd.Series) -> bool:
    """Dates, or integers that all read as YYYYMMDD dates (19970101): evidence enough for a
    warning, not for typing the column (that needs its name too, see :mod:`segmint.cells`)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return True
    if not pd.api.types.is_integer_dtype(series) or series.isna().all():
        return False
    values = series.dropna()
    if values.min() < 19000101 or values.max() > 21001231:
        return False
    parsed = pd.to_datetime(values.astype("int64").astype(str), format="%Y%m%d", errors="coerce")
    return bool(parsed.notna().all())


def rows_without_id(rows: list[int], id_col: str) -> pd.DataFrame:
    """The excluded-customers table of the data rows (1-based) with no id in ``id_col``."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series([""] * len(rows), dtype="string"),
            "reason": "no_customer_id",
            "detail": [f"data row {r} has no value in {id_col!r}" for r in rows],
        }
    )


def _codes(ids: pd.Series) -> np.ndarray:
    """An integer per distinct id (missing ids share one); Arrow hashes text several times
    faster than pandas on a million ids."""
    if isinstance(ids.array, pd.arrays.ArrowStringArray):
        import pyarrow as pa
        import pyarrow.compute as pc

        text = pa.chunked_array(pa.array(ids.array)).combine_chunks()
        encoded = pc.dictionary_encode(text, null_encoding="encode")
        return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    return cast(np.ndarray, pd.factorize(ids, use_na_sentinel=False)[0].astype(np.int64))
