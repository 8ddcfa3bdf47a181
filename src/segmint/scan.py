"""Streaming a CSV/TSV or Parquet transaction log through DuckDB, typed like :mod:`segmint.io`.

The log never becomes a pandas DataFrame: DuckDB reads the file in parallel chunks and
the feature engine (:mod:`segmint.features.engine`) works on what it reads, spilling to
a temporary folder when its memory limit is reached.

How the columns are typed is decided the way :func:`segmint.io.read_table` decides it,
on a sample: the first :data:`SAMPLE_BYTES` of a text file (or :data:`SAMPLE_ROWS` rows
of a Parquet file) are read with ``read_table`` itself, which gives the encoding, the
delimiter and quoting, the header, the decimal comma, each column's type and the date
format.  The same rules are then applied to every row in SQL: values are stripped,
:data:`segmint.io.NA_VALUES` are missing, numbers and dates are parsed with the sample's
decisions, and ids are normalised as :func:`segmint.features.roles.normalise_ids` does.
Every row that does not fit a decision is flagged and counted; when the decision would
have been different on the whole file (a text id after a run of numbers, a decimal comma
after a run of integers, month-first dates after a run of ambiguous ones), the scan is
run again with the decision the whole file calls for.  So the features equal those of
``read_table`` followed by the in-memory engine (tests check it).  Values DuckDB's date
reader accepts beyond ``read_table``'s formats (ISO dates without zero padding, say) are
read rather than counted as unparseable.

Non-UTF-8 text files are first re-encoded to a temporary UTF-8 file, in chunks.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmint.cells import DATE_SHAPES, NUMBER_DATE_HINT, money_evidence, number_date_kind
from segmint.dialect import blank_separated
from segmint.errors import DataError, InputFileError, UsageError
from segmint.features.clean import literal
from segmint.features.engine import Progress, TransactionFeatures, compute_features
from segmint.features.spec import FAMILIES, FeatureSpec
from segmint.io import (
    EXTENSIONS,
    LoadedTable,
    format_suffix,
    is_gzip,
    open_bytes,
    read_start,
    read_table,
)
from segmint.scan_sql import (
    MONEY_MARKS,
    Rule,
    date_parser,
    fast_or_slow,
    flag_value,
    missing_if_na,
    native_number,
    native_time,
    number_parser,
    plain_or_slow,
    quote_name,
    strip_spaces,
    text_value,
    time_parser,
)
from segmint.workplan import (  # noqa: F401 (re-exported: scan.plan_work, ...)
    IN_MEMORY_CAP,
    LINE_BYTES,
    OUT_OF_CORE_LIMIT,
    WorkPlan,
    parse_size,
    physical_memory,
    plan_work,
)

SAMPLE_BYTES = 4 << 20
"""Bytes of a text file read with :func:`segmint.io.read_table` to decide the types."""
SAMPLE_ROWS = 50_000
"""Rows of a Parquet file read to decide the types."""
STREAM_FORMATS = {
    suffix: fmt for suffix, fmt in EXTENSIONS.items() if fmt in ("csv", "tsv", "parquet")
}

_TEXT_ROLES = ("customer", "order", "product", "category", "channel")
_NUMBER_ROLES = ("quantity", "price", "amount", "discount")


@dataclass(frozen=True)
class ScanSource:
    """A data file DuckDB reads as a stream, and the typing decided on its sample."""

    path: Path
    fmt: str  # csv, tsv or parquet
    sample: LoadedTable
    whole: bool  # the sample is the whole file
    names: tuple[str, ...]  # column names as read_table gives them
    raw_names: tuple[str, ...]  # names in the file (Parquet) or the same
    delimiter: str = ","
    quote: str = '"'
    header: bool = True
    skip: int = 0
    rules: dict[str, Rule] = field(default_factory=dict)
    native_types: dict[str, str] = field(default_factory=dict)  # Parquet: name -> DuckDB type
    rows: int = 0  # lines in the file: exact for Parquet, estimated from the sample for text
    gzip: bool = False  # a gzip-compressed text file

    # -------------------------------------------------------------- reading
    def relation(self, data_path: Path | None = None) -> str:
        """The DuckDB table function reading the file (all text for CSV)."""
        target = literal(str(data_path or self.path))
        if self.fmt == "parquet":
            return f"read_parquet({target})"
        columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in self.names) + "}"
        # A UTF-8 copy (``data_path``) is plain text; the file itself may be compressed.
        compression = "gzip" if self.gzip and data_path is None else "none"
        return (
            f"read_csv({target}, auto_detect = false, header = {str(self.header).lower()}, "
            f"compression = '{compression}', "
            f"delim = {literal(self.delimiter)}, quote = {literal(self.quote)}, "
            f"escape = {literal(self.quote)}, skip = {self.skip}, columns = {columns}, "
            "null_padding = false, strict_mode = true)"
        )

    def _raw(self, name: str) -> str:
        return quote_name(self.raw_names[self.names.index(name)])

    def stripped(self, name: str) -> str:
        """SQL of the column's text without surrounding Unicode spaces.

        Stripping every Unicode space with ``trim(x, characters)`` is slow, so spaces go
        first and the rare values still starting or ending with another space get it.
        """
        return strip_spaces(f"trim({self._raw(name)})")

    def cleaned(self, columns: list[str], data_path: Path | None = None) -> str:
        """A subquery of the columns' cleaned text (stripped; NA spellings missing) as _c0..."""
        inner = ", ".join(f"{self.stripped(c)} AS _s{i}" for i, c in enumerate(columns))
        outer = ", ".join(f"{missing_if_na(f'_s{i}')} AS _c{i}" for i in range(len(columns)))
        return f"(SELECT {outer} FROM (SELECT {inner} FROM {self.relation(data_path)}))"

    def is_text(self, name: str) -> bool:
        """Whether the column is read as text (always for CSV, for string Parquet columns)."""
        return self.fmt != "parquet" or self.native_types.get(name, "VARCHAR") == "VARCHAR"

    def view_sql(self, spec: FeatureSpec, data_path: Path | None = None) -> str:
        """``CREATE VIEW src``: the canonical columns, the row hash and the check flags.

        The common value costs one cheap test: an id or code whose first and last
        characters are printable ASCII (and whose first is none of the first letters of
        the NA spellings) is its raw text; a number or date that DuckDB's cast reads from
        the raw text is that value.  Only the other values take the slow path that
        ``read_table`` calls for: every Unicode space stripped, NA spellings missing,
        then the same reading.
        """
        used = spec.used_columns()
        index = {col: i for i, col in enumerate(used)}
        text_roles = {getattr(spec, role) for role in _TEXT_ROLES} - {None}
        parsers = self._parsers(spec)
        level_a = []
        for i, col in enumerate(used):
            raw = self._raw(col)
            level_a.append(f"{raw} AS _r{i}")
            if self.is_text(col) and col in text_roles:
                level_a += [f"ascii({raw}) AS _a{i}", f"ascii({raw}[-1]) AS _z{i}"]
            elif self.is_text(col):
                level_a.append(f"{parsers[col](raw)} AS _f{i}")
        level_a.append("hash(" + ", ".join(quote_name(n) for n in self.raw_names) + ") AS row_hash")
        level_b = [f"_r{i}" for i in range(len(used))] + ["row_hash"]
        typed = []  # the _c columns: ids and codes cleaned, typed Parquet columns
        for i, col in enumerate(used):
            if not self.is_text(col):
                level_b.append(f"_r{i} AS _c{i}")
                typed.append(f"_c{i}")
            elif col in text_roles:
                level_b.append(f"{plain_or_slow(f'_r{i}', f'_a{i}', f'_z{i}')} AS _c{i}")
                typed.append(f"_c{i}")
            else:
                level_b.append(f"_f{i}")
        select: dict[str, str] = {}
        flags: dict[str, str] = {}
        canon = ("customer_id", "order_id", "product", "category", "channel")
        for role, name in zip(_TEXT_ROLES, canon, strict=True):
            col = getattr(spec, role)
            if col is None:
                select[name] = "NULL::VARCHAR"
                continue
            native = None if self.is_text(col) else self.native_types.get(col)
            select[name], checks = text_value(f"_c{index[col]}", self.rules[col], native)
            flags |= {f"chk_{role}_{kind}": sql for kind, sql in checks}
        roles: list[tuple[str, str | None, str, str]] = [("time", spec.time, "ts", "bad")]
        roles += [(role, getattr(spec, role), role, "text") for role in _NUMBER_ROLES]
        for role, number_col, name, kind in roles:
            if number_col is None:
                select[name] = "NULL::DOUBLE"
                continue
            i = index[number_col]
            if self.is_text(number_col):
                select[name], flag = fast_or_slow(
                    f"_f{i}", f"_r{i}", parsers[number_col], nan=role != "time"
                )
                flags[f"chk_{role}_{kind}"] = flag
                continue
            native = self.native_types.get(number_col, "VARCHAR")
            reader = native_time if role == "time" else native_number
            select[name], checks = reader(f"_c{i}", native)
            flags |= {f"chk_{role}_{kind}": sql for kind, sql in checks}
        value = "amount" if spec.amount is not None else "quantity * price"
        level_c = [f"{sql} AS {name}" for name, sql in select.items()]
        level_c += ["row_hash", *(f"_r{i}" for i in range(len(used)))]
        level_c += typed
        level_d = [
            f"({sql.replace('{value}', flag_value(name))}) AS {name}" for name, sql in flags.items()
        ]
        return f"""
            CREATE OR REPLACE TEMP VIEW src AS
            SELECT customer_id, ts, order_id, quantity, price,
                   CAST({value} AS DOUBLE) AS value, product, category, channel, discount,
                   row_hash{"".join(", " + f for f in level_d)}
            FROM (
                SELECT {", ".join(level_c)}
                FROM (SELECT {", ".join(level_b)} FROM (
                    SELECT {", ".join(level_a)} FROM {self.relation(data_path)}))
            )
        """

    def _parsers(self, spec: FeatureSpec) -> dict[str, Callable[[str], str]]:
        """For each number and time column read as text: SQL reading a value from text."""
        out: dict[str, Callable[[str], str]] = {}
        if spec.time is not None:
            out[spec.time] = time_parser(self.rules[spec.time])
        for role in _NUMBER_ROLES:
            col = getattr(spec, role)
            if col is not None:
                out[col] = number_parser(self.rules[col])
        return out


def can_stream(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is read as a stream: CSV/TSV/Parquet by extension, and not UTF-16
    text (whose lines DuckDB cannot split; those are read into memory)."""
    target = Path(path)
    fmt = STREAM_FORMATS.get(format_suffix(target))
    if fmt is None or not target.is_file():
        return fmt is not None
    compressed = is_gzip(target)
    if fmt == "parquet":
        return not compressed  # a compressed Parquet file is read into memory
    with open_bytes(target, compressed) as handle:
        head = handle.read(1 << 16)
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return False
    # columns separated by runs of blanks are beyond DuckDB's CSV reader: read into memory
    return not blank_separated(head.decode("utf-8", errors="replace").lstrip("\ufeff\r\n"))


def _text_sample(path: Path, size: int) -> tuple[bytes, bool, int]:
    """The first ``size`` bytes of text cut at a line end, whether that is the whole
    file, and the bytes of the file (compressed, for gzip) read to get them."""
    data, consumed = read_start(path, size + 1)
    if len(data) <= size:
        return data, True, consumed
    cut = data.rfind(b"\n", 0, size)
    if cut <= 0:
        return data, True, consumed  # one giant line: read it all the ordinary way
    return data[: cut + 1], False, round(consumed * (cut + 1) / len(data))


def read_sample(path: str | os.PathLike[str], *, sep: str | None = None) -> ScanSource:
    """Read the start of ``path`` with :func:`segmint.io.read_table` and plan the scan;
    ``sep`` is the delimiter of a text file when detection cannot decide (``--sep``).

    Raises
    ------
    UsageError
        The file is missing, a folder, or not CSV/TSV/Parquet.
    InputFileError
        :func:`segmint.io.read_table` refuses the sample.
    """
    target = Path(path)
    fmt = STREAM_FORMATS.get(format_suffix(target))
    if fmt is None:
        raise UsageError(f"{target}: only CSV, TSV and Parquet files can be streamed")
    if target.is_dir():
        raise UsageError(f"{target}: is a directory, not a data file")
    if not target.exists():
        raise UsageError(f"{target}: no such file")
    if fmt == "parquet":
        if sep is not None:
            raise UsageError(f"{target}: --sep applies to text files, not to Parquet")
        return _parquet_sample(target)
    return _text_source(target, fmt, sep)


def _text_source(target: Path, fmt: str, sep: str | None = None) -> ScanSource:
    compressed = is_gzip(target)
    data, whole, consumed = _text_sample(target, SAMPLE_BYTES)
    with tempfile.TemporaryDirectory(prefix="segmint-sample-") as tmp:
        sample_path = Path(tmp) / f"sample{format_suffix(target)}"
        sample_path.write_bytes(data)
        try:
            loaded = read_table(sample_path, sep=sep)
        except InputFileError as exc:
            raise InputFileError(str(exc).replace(str(sample_path), str(target))) from exc
        loaded = _named_as(loaded, sample_path, target)
        details = loaded.details
        text = data.decode(details["encoding"], errors="replace").removeprefix("\ufeff")
        stripped = text.lstrip("\r\n")
        skip = text[: len(text) - len(stripped)].count("\n")
        if re.match(r"sep=([,;\t|])\r?\n", stripped):
            skip += 1
        names = tuple(str(c) for c in loaded.frame.columns)
        rows = len(loaded.frame)
        if not whole and data:
            rows = round(rows * target.stat().st_size / max(consumed, 1))
        source = ScanSource(
            path=target,
            fmt=fmt,
            sample=loaded,
            whole=whole,
            rows=rows,
            names=names,
            raw_names=names,
            delimiter=details["delimiter"],
            quote=details["quotechar"],
            header=bool(details["header"]),
            skip=skip,
            rules={name: _rule(loaded, name) for name in names},
            gzip=compressed,
        )
        return _mark_zones(source, sample_path)


def _mark_zones(source: ScanSource, sample_path: Path) -> ScanSource:
    """Flag ISO date columns whose sample text carries UTC offsets (read_table drops them)."""
    iso = [
        n for n, r in source.rules.items() if r.kind == "datetime" and r.date_label == "YYYY-MM-DD"
    ]
    if not iso or source.sample.details.get("encoding") not in ("utf-8", "utf-8-sig"):
        return source
    con = duckdb.connect()
    try:
        tests = ", ".join(
            f"bool_or(regexp_matches(_c{i}, '(Z|[+-]\\d{{2}}:?\\d{{2}})$'))"
            for i in range(len(iso))
        )
        row = con.execute(f"SELECT {tests} FROM {source.cleaned(iso, sample_path)}").fetchall()[0]
    except duckdb.Error:
        return source
    finally:
        con.close()
    rules = dict(source.rules)
    for name, zoned in zip(iso, row or (), strict=False):
        if zoned:
            rules[name] = Rule("datetime", "YYYY-MM-DD", zoned=True)
    return replace(source, rules=rules)


def _parquet_sample(target: Path) -> ScanSource:
    try:
        file = pq.ParquetFile(target)
    except Exception as exc:
        raise InputFileError(f"{target}: not a readable Parquet file ({exc})") from exc
    batches = []
    rows = 0
    for batch in file.iter_batches(batch_size=min(SAMPLE_ROWS, 65_536)):
        batches.append(batch)
        rows += batch.num_rows
        if rows >= SAMPLE_ROWS:
            break
    table = (
        pa.Table.from_batches(batches, schema=file.schema_arrow)
        if batches
        else file.schema_arrow.empty_table()
    )
    whole = rows >= file.metadata.num_rows
    with tempfile.TemporaryDirectory(prefix="segmint-sample-") as tmp:
        sample_path = Path(tmp) / "sample.parquet"
        pq.write_table(table, sample_path)
        try:
            loaded = read_table(sample_path)
        except InputFileError as exc:
            raise InputFileError(str(exc).replace(str(sample_path), str(target))) from exc
    loaded = _named_as(loaded, sample_path, target)
    names = tuple(str(c) for c in loaded.frame.columns)
    con = duckdb.connect()
    try:
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({literal(str(target))})"
        ).fetchall()
    finally:
        con.close()
    raw_names = tuple(str(row[0]) for row in described)
    types = {name: str(row[1]) for name, row in zip(names, described, strict=True)}
    return ScanSource(
        path=target,
        fmt="parquet",
        sample=loaded,
        whole=whole,
        names=names,
        raw_names=raw_names,
        rules={name: _rule(loaded, name) for name in names},
        native_types=types,
        rows=int(file.metadata.num_rows),
    )


def _rule(loaded: LoadedTable, name: str) -> Rule:
    """The typing decision the sample makes for column ``name``."""
    series = loaded.frame[name]
    kind = loaded.details["column_types"].get(name, "text")
    if kind == "datetime":
        label = loaded.details["date_formats"].get(name, "YYYY-MM-DD")
        return Rule("datetime", label)
    if kind in ("integer", "float"):
        if name in loaded.details.get("decimal_comma_columns", []):
            return Rule("decimal_comma")
        if name in loaded.details.get("percent_columns", []):
            return Rule("percent")
        mark = loaded.details.get("money_columns", {}).get(name)
        if mark is not None:
            return Rule("money" if mark == "." else "money_comma")
        values = series.dropna().to_numpy(dtype=float)
        integral = bool(len(values) == 0 or (values == values.round()).all())
        return Rule("int" if integral else "float")
    return Rule("text")


# ----------------------------------------------------------------------------- running
@dataclass(frozen=True)
class StreamResult:
    """Features streamed from a file, and how the file was read."""

    features: TransactionFeatures
    load: dict[str, Any]
    source: ScanSource


@contextmanager
def _connection(plan: WorkPlan, threads: int | None) -> Iterator[duckdb.DuckDBPyConnection]:
    # Out of core, a database file in a temporary folder rather than an in-memory database:
    # the big tables (every row of the log, the orders) are then stored compressed, and
    # when they outgrow the memory limit DuckDB reads them back from compact blocks
    # instead of spilled raw ones (about twice as fast at 50 million lines).  In memory,
    # writing and compressing the lines is saved (about a fifth of the time).
    spill = tempfile.mkdtemp(prefix="segmint-spill-")
    con = duckdb.connect(":memory:" if plan.in_memory else str(Path(spill) / "work.duckdb"))
    try:
        # With the ICU extension zoned times must be read in UTC; without it they are.
        with contextlib.suppress(duckdb.Error):
            con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET temp_directory = {literal(spill)}")
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = true")
        con.execute("SET enable_progress_bar_print = false")
        con.execute(f"SET memory_limit = {literal(plan.memory_limit)}")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _utf8_copy(source: ScanSource, folder: Path) -> Path | None:
    """A UTF-8 copy of a text file in another encoding (None when already UTF-8)."""
    encoding = source.sample.details.get("encoding", "utf-8")
    if source.fmt == "parquet" or encoding in ("utf-8", "utf-8-sig"):
        return None
    target = folder / "utf8.csv"
    for attempt in [encoding] if encoding != "cp1252" else ["cp1252", "latin-1"]:
        decoder = codecs.getincrementaldecoder(attempt)()
        try:
            with (
                open_bytes(source.path, source.gzip) as raw,
                target.open("w", encoding="utf-8", newline="") as out,
            ):
                while chunk := raw.read(1 << 22):
                    out.write(decoder.decode(chunk))
                out.write(decoder.decode(b"", final=True))
            return target
        except UnicodeDecodeError:
            continue
    raise InputFileError(f"{source.path}: cannot decode the file as {encoding}")


def stream_features(
    source: ScanSource,
    spec: FeatureSpec,
    *,
    as_of: Any = None,
    today: Any = None,
    families: tuple[str, ...] = FAMILIES,
    progress: Progress | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> StreamResult:
    """Compute the customer features of a file without loading it into memory.

    Parameters
    ----------
    source : ScanSource
        From :func:`read_sample`.
    spec : FeatureSpec
        With every column named (see :func:`segmint.features.spec_from_roles`).
    as_of, today, families, progress
        As for :func:`segmint.features.compute_features`.
    memory_limit : str, optional
        DuckDB's memory limit (``"1GB"``); beyond it DuckDB spills to a temporary folder.
        Default: chosen from the log's size and the machine's memory (:func:`plan_work`).
    threads : int, optional
        DuckDB threads (default: one per core).

    Returns
    -------
    StreamResult
    """
    for col in spec.used_columns():
        if col not in source.names:
            raise DataError(f"{source.path}: column {col!r} not found")
    source = numbers_as_time(source, spec)
    _check_roles(source, spec)
    plan = plan_work(source.rows, memory_limit)
    with tempfile.TemporaryDirectory(prefix="segmint-scan-") as tmp:
        data_path = _utf8_copy(source, Path(tmp))
        current = source
        for _ in range(3):
            with _connection(plan, threads) as con:
                try:
                    con.execute(current.view_sql(spec, data_path))
                    result = compute_features(
                        con, spec, as_of=as_of, today=today, families=families,
                        source=str(source.path), progress=progress,
                    )  # fmt: skip
                except duckdb.Error as exc:
                    raise InputFileError(
                        f"{source.path}: cannot read the file ({_one_line(exc)})"
                    ) from exc
                revised = _revise(current, spec, result.checks, con, data_path)
            if revised is None:
                load = {**_load_details(current, spec, result), "work": plan.describe()}
                return StreamResult(result, load, current)
            current = revised
    raise DataError(f"{source.path}: the column types could not be settled")


def _named_as(loaded: LoadedTable, sample_path: Path, target: Path) -> LoadedTable:
    """The sample read as the file it was taken from: its source and its warnings name
    the file, not the temporary copy."""
    details = dict(loaded.details)
    if details.get("warnings"):
        details["warnings"] = [
            str(w).replace(str(sample_path), str(target)) for w in details["warnings"]
        ]
    return replace(loaded, source=str(target), details=details)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def numbers_as_time(source: ScanSource, spec: FeatureSpec) -> ScanSource:
    """The spec's time column read as dates when its sample holds numbers that are all
    plausible dates of one kind (:func:`segmint.features.engine.numbers_as_time`)."""
    col = spec.time
    if col is None or source.rules[col].kind not in ("int", "float"):
        return source
    sample = source.sample.frame
    if col not in sample.columns or not pd.api.types.is_numeric_dtype(sample[col]):
        return source
    label = number_date_kind(sample[col].to_numpy(dtype=np.float64, na_value=np.nan))
    if label is None:
        return source
    return replace(source, rules={**source.rules, col: Rule("datetime", label)})


def _check_roles(source: ScanSource, spec: FeatureSpec) -> None:
    """The roles must have the types the in-memory path requires (DataError otherwise)."""
    assert spec.time is not None
    if source.rules[spec.time].kind != "datetime" and source.is_text(spec.time):
        numeric = source.rules[spec.time].kind in ("int", "float")
        raise DataError(
            f"{source.path}: column {spec.time!r} is not a date/time column"
            + (NUMBER_DATE_HINT if numeric else "")
        )
    for role in _NUMBER_ROLES:
        col = getattr(spec, role)
        if col is not None and source.rules[col].kind == "text" and source.is_text(col):
            raise DataError(f"{source.path}: column {col!r} ({role}) is not numeric")


def _revise(
    source: ScanSource,
    spec: FeatureSpec,
    checks: dict[str, int],
    con: duckdb.DuckDBPyConnection,
    data_path: Path | None,
) -> ScanSource | None:
    """A source with the decisions the whole file calls for, or None when they held."""
    rules = dict(source.rules)
    for role in _TEXT_ROLES:
        col = getattr(spec, role)
        if col is None or not source.is_text(col):
            continue
        if checks.get(f"chk_{role}_text", 0):
            rules[col] = Rule("text")
        elif checks.get(f"chk_{role}_frac", 0):
            rules[col] = Rule("float")
    for role in _NUMBER_ROLES:
        col = getattr(spec, role)
        if col is None or not checks.get(f"chk_{role}_text", 0):
            continue
        settled = _settle_numbers(source, col, con, data_path) if source.is_text(col) else None
        if settled is None or settled == rules[col]:
            raise DataError(_bad_values(source, con, col, rules[col], data_path))
        rules[col] = settled
    assert spec.time is not None
    bad = checks.get("chk_time_bad", 0)
    if bad and source.is_text(spec.time):
        rules[spec.time] = _settle_dates(source, spec.time, con, data_path)
    if rules == source.rules:
        return None
    return replace(source, rules=rules)


def _settle_numbers(
    source: ScanSource, col: str, con: duckdb.DuckDBPyConnection, data_path: Path | None
) -> Rule | None:
    """io's choice on the whole column of numbers the sample's decision does not read:
    the first of decimal comma (not in a comma-separated file), money with that mark and
    money with a decimal point that reads every value; None when none does."""
    candidates = ["decimal_comma", "money_comma", "money"] if source.delimiter != "," else []
    candidates = candidates or ["money"]
    evidence = {
        "decimal_comma": "contains(t, ',')",
        **{
            kind: f"regexp_matches(t, {literal(money_evidence(mark))})"
            for kind, mark in MONEY_MARKS.items()
        },
    }
    tests = ", ".join(
        f"count(*) FILTER (WHERE ({number_parser(Rule(kind))('t')}) IS NULL), "
        f"bool_or({evidence[kind]})"
        for kind in candidates
    )
    row = con.execute(
        f"SELECT {tests} FROM (SELECT _c0 AS t FROM {source.cleaned([col], data_path)}) "
        "WHERE t IS NOT NULL"
    ).fetchall()[0]
    for i, kind in enumerate(candidates):
        if row[2 * i] == 0 and row[2 * i + 1]:
            return Rule(kind)
    return None


def _settle_dates(
    source: ScanSource, col: str, con: duckdb.DuckDBPyConnection, data_path: Path | None
) -> Rule:
    """io's choice on the whole column: the date format that parses most values."""
    current = source.rules[col].date_label or "YYYY-MM-DD"
    candidates = [current]
    for label, _, orders in DATE_SHAPES:
        for order in orders:
            if order == "ymd":
                name = label
            else:
                a, b = ("DD", "MM") if order == "dmy" else ("MM", "DD")
                name = f"{a}{label}{b}{label}YYYY"
            if name not in candidates:
                candidates.append(name)
    counts = ", ".join(
        f"count(*) FILTER (WHERE ({date_parser('t', c)}) IS NOT NULL)" for c in candidates
    )
    row = con.execute(
        f"SELECT count(t), {counts} FROM (SELECT _c0 AS t FROM {source.cleaned([col], data_path)})"
    ).fetchall()[0]
    present, parsed = int(row[0]), [int(v) for v in row[1:]]
    best = max(range(len(candidates)), key=lambda i: (parsed[i], i == 0))
    if parsed[best] < 0.9 * present:
        raise DataError(
            f"{source.path}: column {col!r}: only {parsed[best]:,} of {present:,} values are dates "
            f"in one format; it is not a date/time column"
        )
    return Rule("datetime", candidates[best])


def _bad_values(
    source: ScanSource,
    con: duckdb.DuckDBPyConnection,
    col: str,
    rule: Rule,
    data_path: Path | None,
) -> str:
    row = con.execute(
        f"SELECT t FROM (SELECT _c0 AS t FROM {source.cleaned([col], data_path)}) "
        f"WHERE t IS NOT NULL AND ({number_parser(rule)('t')}) IS NULL LIMIT 1"
    ).fetchall()
    example = f" (e.g. {row[0][0]!r})" if row else ""
    return f"{source.path}: column {col!r} has values that are not numbers{example}"


def _load_details(
    source: ScanSource, spec: FeatureSpec, result: TransactionFeatures
) -> dict[str, Any]:
    """``read_table``'s details, for the whole file: the sample's, with full-file counts."""
    details = dict(source.sample.details)
    details["rows_read"] = int(result.account.get("rows_read", 0))
    details["streamed"] = True
    details["typed_on_sample"] = not source.whole
    assert spec.time is not None
    rule = source.rules[spec.time]
    if rule.kind == "datetime" and rule.date_label:
        details["date_formats"] = {**details.get("date_formats", {}), spec.time: rule.date_label}
    unparseable = dict(details.get("unparseable", {}))
    bad = result.checks.get("chk_time_bad", 0)
    if bad:
        first = unparseable.get(spec.time, {})
        unparseable[spec.time] = {
            "count": bad,
            "first_line": first.get("first_line") if source.whole or first else None,
            "first_value": first.get("first_value"),
        }
    else:
        unparseable.pop(spec.time, None)
    details["unparseable"] = unparseable
    # the number columns as the whole file read them (the scan may have revised them)
    rules = source.rules
    details["decimal_comma_columns"] = [c for c in source.names if rules[c].kind == "decimal_comma"]
    details["money_columns"] = {
        c: MONEY_MARKS[rules[c].kind] for c in source.names if rules[c].kind in MONEY_MARKS
    }
    return details


def sample_frame(source: ScanSource) -> pd.DataFrame:
    """The typed sample (for detecting roles and PII)."""
    return source.sample.frame
