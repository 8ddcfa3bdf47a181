"""Read any customer data file into a typed pandas DataFrame, and write tables back.

The format follows the extension (``.csv .txt .tsv .tab .parquet .pq .json .jsonl .ndjson
.xlsx .xlsm``); other extensions are sniffed from the content.  Every text column, whatever
the format, goes through the same typing rules (:mod:`segmint.cells`): values stripped,
NA spellings missing, then numbers, amounts written as money, dates, or text.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import re
import sys
import tempfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from segmint.blanks import SAMPLE, WHITESPACE, blank_rows, separator
from segmint.cells import (
    NA_VALUES,
    Typed,
    cell_text,
    floats,
    naive_ns,
    type_number_date,
    type_objects,
    type_strings,
)
from segmint.dialect import (
    blank_separated,
    decode_text,
    has_header,
    sample_rows,
    sniff_dialect,
    text_rows,
)
from segmint.errors import DataError, InputFileError, SegmintError, UsageError


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file beside it, then a rename,
    so a reader never sees half a file and a failure leaves the old one.  The file gets
    the permissions of an ordinary new file (``mkstemp`` would make it private)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["NA_VALUES", "LoadedTable", "read_table", "write_table"]

EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".xlsx": "excel",
    ".xlsm": "excel",
}
GZIP_MAGIC = b"\x1f\x8b"
"""The first bytes of a gzip file: ``log.csv.gz`` is read as ``log.csv``."""
_WRITERS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


@dataclass(frozen=True)
class LoadedTable:
    """A data file read into a typed DataFrame.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per data row; columns ``int64``, ``float64``, ``datetime64[ns]`` or ``str``.
    source : str
        The path as given, used in messages.
    format : str
        ``"csv"``, ``"tsv"``, ``"parquet"``, ``"json"`` or ``"excel"``.
    details : dict
        JSON-serialisable facts: ``rows_read``, ``column_types`` (column -> ``"integer"``,
        ``"float"``, ``"datetime"``, ``"text"`` or ``"empty"``), ``date_formats``,
        ``identifier_columns`` (kept as text for leading zeros), ``decimal_comma_columns``,
        ``money_columns`` (column -> decimal mark of amounts written as money),
        ``number_date_columns`` (column -> kind of dates written as numbers), ``percent_columns``
        and ``unparseable`` (column -> ``{"count", "first_line", "first_value"}``; the line
        is the 1-based file line, header = line 1, for text files and the 1-based data row
        otherwise).  Text files add ``encoding``, ``delimiter``, ``quotechar``, ``header``
        and ``decimal``; JSON adds ``encoding`` and ``json_layout``; Excel adds
        ``sheets_read``, ``sheets_skipped_empty``, ``sheet_rows`` and
        ``cross_sheet_duplicates_removed``.
    """

    frame: pd.DataFrame
    source: str
    format: str
    details: dict[str, Any] = field(default_factory=dict)


def format_suffix(path: str | os.PathLike[str]) -> str:
    """The extension that names a file's format, lower case: ``.csv`` for ``log.csv.gz``."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if len(suffixes) >= 2 and suffixes[-1] == ".gz":
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def is_gzip(path: str | os.PathLike[str]) -> bool:
    """Whether the file is gzip-compressed (by its first bytes, whatever its name)."""
    try:
        with Path(path).open("rb") as handle:
            return handle.read(2) == GZIP_MAGIC
    except OSError:
        return False


@contextmanager
def open_bytes(path: Path, compressed: bool) -> Iterator[Any]:
    """The file's bytes, decompressed when it is gzip."""
    with path.open("rb") as raw:
        if not compressed:
            yield raw
            return
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as unpacked:
                yield unpacked
        except (OSError, EOFError) as exc:
            raise InputFileError(f"{path}: cannot decompress ({exc})") from exc


def read_start(path: Path, size: int) -> tuple[bytes, int]:
    """At least ``size`` bytes from the start of a data file (all of it when smaller),
    decompressed when it is gzip, and the bytes of the file read for them (within one
    small chunk, so that a line count can be estimated from the file's size)."""
    with path.open("rb") as raw:
        if raw.read(2) != GZIP_MAGIC:
            raw.seek(0)
            data = raw.read(size)
            return data, len(data)
        raw.seek(0)
        unpack = zlib.decompressobj(wbits=31)
        out = bytearray()
        fed = 0
        try:
            while len(out) < size:
                chunk = raw.read(1 << 14)
                if not chunk:
                    if not unpack.eof:
                        raise EOFError("the compressed data ends before its end marker")
                    break
                fed += len(chunk)
                out += unpack.decompress(chunk)
                while unpack.eof and unpack.unused_data:  # a file of several gzip members
                    rest = unpack.unused_data
                    unpack = zlib.decompressobj(wbits=31)
                    out += unpack.decompress(rest)
        except (zlib.error, EOFError) as exc:
            raise InputFileError(f"{path}: cannot decompress ({exc})") from exc
    return bytes(out), fed


def read_table(
    path: str | os.PathLike[str], *, sheet: str | None = None, sep: str | None = None
) -> LoadedTable:
    """Read a CSV/TSV, Parquet, JSON or Excel file into a typed DataFrame.

    Parameters
    ----------
    path : str or os.PathLike
        The data file.  The format follows the extension; unknown extensions are sniffed.
        A gzip-compressed file is decompressed first (``log.csv.gz``, ``customers.json.gz``).
    sheet : str, optional
        Excel only: read just this sheet.  By default all sheets are read and stacked, and
        rows of a later sheet already present in an earlier one are dropped.
    sep : str, optional
        Text tables only: the delimiter, when detection cannot decide.  ``","``, ``";"``,
        ``"|"``, a tab (``"\\t"`` or ``"tab"``), or ``" "`` / ``"whitespace"`` for columns
        separated by runs of spaces or tabs (aligned or fixed-width tables).

    Returns
    -------
    LoadedTable
        The typed frame and the facts of the read.

    Raises
    ------
    UsageError
        The path is missing or a directory, or ``sheet`` names no sheet or is given for a
        file that is not a workbook.
    InputFileError
        The file is empty, binary, an HTML page, ragged, has duplicate column names or no
        data rows, or is a corrupt Parquet / Excel / JSON file.
    """
    source = os.fspath(path)
    target = Path(source)
    delimiter = None if sep is None else separator(sep)
    if source == "-":  # standard input: the format is found from the content
        source, target, data = "<stdin>", Path(""), sys.stdin.buffer.read()
    elif target.is_dir():
        raise UsageError(f"{source}: is a directory, not a data file")
    elif not target.exists():
        raise UsageError(f"{source}: no such file")
    else:
        try:
            data = target.read_bytes()
        except OSError as exc:
            raise InputFileError(f"{source}: cannot read the file ({exc.strerror})") from exc
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputFileError(f"{source}: cannot decompress ({_one_line(exc)})") from exc
    if not data[:4096].strip() and not data.strip():
        raise InputFileError(f"{source}: the file is empty")
    fmt = EXTENSIONS.get(format_suffix(target))
    if fmt is None:  # sniff: Parquet and xlsx magic numbers, JSON's first character
        head = data[:4096].removeprefix(codecs.BOM_UTF8).lstrip()
        fmt = {b"PAR1": "parquet", b"PK\x03\x04": "excel"}.get(data[:4], "csv")
        fmt = "json" if fmt == "csv" and head[:1] in (b"[", b"{") else fmt
    if sheet is not None and fmt != "excel":
        raise UsageError(f"{source}: --sheet applies only to Excel workbooks, this is {fmt}")
    if delimiter is not None and fmt not in ("csv", "tsv"):
        raise UsageError(f"{source}: --sep applies only to text tables, this is {fmt}")
    try:
        if fmt == "excel":
            return _read_excel(source, data, sheet)
        if fmt == "parquet":
            return read_parquet(source, data)
        if fmt == "json":
            return _read_json(source, data)
        return _read_delimited(source, data, fmt, delimiter)
    except (SegmintError, MemoryError):
        raise
    except Exception as exc:  # a safety net: no library traceback reaches the user
        raise InputFileError(f"{source}: cannot read as {fmt} ({_one_line(exc)})") from exc


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``frame`` atomically as CSV, Parquet or JSON, chosen by the extension.

    The table goes to a temporary file in the destination folder, which then replaces
    ``path`` (:func:`os.replace`), so nobody sees a half-written file.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; the index is not written.
    path : str or os.PathLike
        Destination ending in ``.csv`` (UTF-8), ``.parquet`` / ``.pq``, ``.json`` (an array
        of records, ISO dates) or ``.jsonl`` / ``.ndjson`` (one record per line).

    Raises
    ------
    UsageError
        Unknown extension, missing folder, a directory in the way, or the file cannot be
        written (permissions, disk full).
    DataError
        The frame cannot be represented in the format.
    """
    target = Path(os.fspath(path))
    kind = _WRITERS.get(target.suffix.lower())
    if kind is None:
        raise UsageError(
            f"{target}: cannot write {target.suffix or 'a file without extension'}"
            "; use .csv, .parquet or .json"
        )
    if not target.parent.is_dir():
        raise UsageError(f"{target}: folder {target.parent} does not exist")
    if target.is_dir():
        raise UsageError(f"{target}: is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write ({exc.strerror})") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            if kind == "csv":
                frame.to_csv(handle, index=False, encoding="utf-8", lineterminator="\n")
            elif kind == "parquet":
                # ids are distinct: a dictionary would only cost time (and fall back)
                frame.to_parquet(
                    handle,
                    index=False,
                    use_dictionary=[str(c) for c in frame.columns if c != "customer_id"],
                )
            else:
                handle.write(
                    frame.to_json(
                        orient="records",
                        date_format="iso",
                        date_unit="ns",
                        force_ascii=False,
                        lines=kind == "jsonl",
                    ).encode()
                )
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o644)
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise UsageError(f"{target}: cannot write ({exc.strerror or exc})") from exc
        if isinstance(exc, Exception) and not isinstance(exc, SegmintError):
            raise DataError(f"{target}: cannot write as {kind} ({_one_line(exc)})") from exc
        raise


# ----------------------------------------------------------------------------- text files


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` squeezed onto one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def clean_names(source: str, raw: Sequence[Any]) -> list[str]:
    """Stripped names, blank ones called ``column_N``; duplicates are refused."""
    names = [cell_text(v).strip() if v is not None else "" for v in raw]
    names = [name or f"column_{j}" for j, name in enumerate(names, start=1)]
    seen: dict[str, int] = {}
    for j, name in enumerate(names, start=1):
        if name in seen:
            raise InputFileError(
                f"{source}: duplicate column name {name!r} (columns {seen[name]} and {j})"
            )
        seen[name] = j
    return names


def _read_delimited(
    source: str, data: bytes, fmt: str, delimiter: str | None = None
) -> LoadedTable:
    """Read CSV/TSV text with pyarrow, every column as strings, then type the columns."""
    text, encoding = decode_text(source, data)
    head = text.lstrip()[:1024].lower()
    if head.startswith(("<!doctype html", "<html")) or (
        head.startswith("<") and ("<html" in head or "<body" in head)
    ):
        raise InputFileError(f"{source}: this is an HTML page, not a data table")
    stripped = text.lstrip("\r\n")
    offset = text[: len(text) - len(stripped)].count("\n")  # blank lines before the header
    text = stripped
    hint = re.match(r"sep=([,;\t|])\r?\n", text)  # Excel's "sep=;" first line
    if hint:
        text, offset = text[hint.end() :], offset + 1
    if delimiter is None and hint:
        delimiter = hint.group(1)
    quote = '"'
    if delimiter is None:
        delimiter, quote = sniff_dialect(text, fmt == "tsv")
        delimiter = WHITESPACE if blank_separated(text) else delimiter
    if delimiter == WHITESPACE:
        return _read_blank_separated(source, text, fmt, encoding, offset)
    sample = sample_rows(text, delimiter, quote)
    if sample and len(sample[0]) == 1:
        _refuse_one_column(source, text, delimiter)
    header = has_header(sample) if sample else True
    keep_bytes = encoding.startswith("utf-8") and not offset
    payload = data.removeprefix(codecs.BOM_UTF8) if keep_bytes else text.encode("utf-8")
    width = len(sample[0]) if sample else 1
    try:
        table = pacsv.read_csv(
            pa.BufferReader(payload),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char=quote,
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=True,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{j}": pa.string() for j in range(width + 64)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowException as exc:
        expected = None
        try:  # name the first ragged row by its file line, which pyarrow does not report
            for line, row in text_rows(text, delimiter, quote):
                expected = len(row) if expected is None else expected
                if len(row) != expected:
                    raise InputFileError(
                        f"{source}: line {line + offset} has {len(row)} fields, expected {expected}"
                    ) from exc
        except csv.Error:
            pass
        raise InputFileError(f"{source}: cannot parse the table ({_one_line(exc)})") from exc
    columns = [pc.cast(c, pa.string()) for c in table.columns]
    names = [f"column_{j}" for j in range(1, len(columns) + 1)]
    if header:
        names = clean_names(source, [c[0].as_py() for c in columns])
        columns = [c.slice(1) for c in columns]
    rows = table.num_rows - int(header)
    if rows == 0:
        raise InputFileError(f"{source}: no data rows (only a header)")
    simple = text.count("\n") + (not text.endswith("\n")) == table.num_rows
    starts: list[int] = []

    def line_of(position: int) -> int:
        if simple:  # one physical line per row
            return offset + 1 + int(header) + position
        if not starts:
            starts.extend(offset + line for line, _ in text_rows(text, delimiter, quote))
        return starts[position + int(header)]

    details: dict[str, Any] = {
        "encoding": encoding,
        "delimiter": delimiter,
        "quotechar": quote,
        "header": header,
        "rows_read": rows,
    }
    loaded = _finish(
        source,
        fmt,
        dict(zip(names, columns, strict=True)),
        line_of,
        details,
        decimal_comma=delimiter != ",",
    )
    loaded.details["decimal"] = "," if loaded.details["decimal_comma_columns"] else "."
    return _note_header(loaded)


def _note_header(loaded: LoadedTable) -> LoadedTable:
    """Warn, in ``details["warnings"]``, that a file was read without a header."""
    if not loaded.details["header"]:
        names = list(loaded.frame.columns)
        loaded.details.setdefault("warnings", []).append(
            f"{loaded.source}: no header row (the first row is typed like the others); the "
            f"columns are named {names[0]}..{names[-1]}: name the id with --id column_1 and "
            "the other roles with --spec, or add a header line"
        )
    return loaded


def _refuse_one_column(source: str, text: str, delimiter: str) -> None:
    """Refuse a text read as one column whose lines hold several blank-separated words:
    the delimiter was not found, and the column would be read as one text field."""
    rows = list(blank_rows(text[:SAMPLE]))[:200]
    if not rows or len(rows[0][1]) < 2 or sum(len(r) > 1 for _, r in rows) < 0.9 * len(rows):
        return
    first = text.splitlines()[0].strip("\r")
    first = first if len(first) <= 120 else first[:117] + "..."
    shown = {"\t": "tab"}.get(delimiter, delimiter)
    raise InputFileError(
        f"{source}: read as 1 column (delimiter {shown!r}; the lines do not split alike on "
        f"',', ';', tab, '|' or runs of spaces); first line: {first!r}; give the delimiter "
        "with --sep (--sep ' ', --sep '\\t', --sep ';'), and for a purchase log "
        "--input transactions --id COLUMN --spec SPEC"
    )


def _read_blank_separated(
    source: str, text: str, fmt: str, encoding: str, offset: int
) -> LoadedTable:
    """Read a table whose columns are separated by runs of spaces or tabs (blanks around
    cells are dropped; a cell cannot hold a blank, and quotes are kept as written)."""
    rows = list(blank_rows(text))
    width = len(rows[0][1])
    for line, row in rows:
        if len(row) != width:
            raise InputFileError(
                f"{source}: line {line + offset} has {len(row)} fields, expected {width} "
                f"(columns separated by runs of spaces or tabs); first line: "
                f"{' '.join(rows[0][1])[:120]!r}; if a delimiter other than blanks is used, "
                "give it with --sep"
            )
    header = has_header([r for _, r in rows[:200]])
    names = (
        clean_names(source, rows[0][1]) if header else [f"column_{j}" for j in range(1, width + 1)]
    )
    body = rows[1:] if header else rows
    if not body:
        raise InputFileError(f"{source}: no data rows (only a header)")
    columns = {
        name: pa.chunked_array([pa.array([r[j] for _, r in body], pa.string())])
        for j, name in enumerate(names)
    }
    details: dict[str, Any] = {
        "encoding": encoding,
        "delimiter": WHITESPACE,
        "quotechar": "",
        "header": header,
        "rows_read": len(body),
    }
    loaded = _finish(
        source, fmt, columns, lambda p: body[p][0] + offset, details, decimal_comma=True
    )
    loaded.details["decimal"] = "," if loaded.details["decimal_comma_columns"] else "."
    return _note_header(loaded)


def _finish(
    source: str,
    fmt: str,
    columns: dict[str, Typed | pa.ChunkedArray],
    line_of: Callable[[int], int],
    details: dict[str, Any],
    *,
    decimal_comma: bool = False,
) -> LoadedTable:
    """Type the remaining string columns, build the frame and record per-column facts."""
    out: dict[str, pd.Series] = {}
    facts: dict[str, Any] = {
        "column_types": {},
        "date_formats": {},
        "identifier_columns": [],
        "decimal_comma_columns": [],
        "money_columns": {},
        "number_date_columns": {},
        "percent_columns": [],
        "unparseable": {},
    }
    for name, column in columns.items():
        typed = (
            column
            if isinstance(column, Typed)
            else type_strings(column, decimal_comma=decimal_comma)
        )
        number_date = type_number_date(name, typed)
        if number_date is not typed:
            facts["number_date_columns"][name] = number_date.date_format
            typed = number_date
        out[name] = typed.series.reset_index(drop=True)
        facts["column_types"][name] = typed.kind
        if typed.date_format:
            facts["date_formats"][name] = typed.date_format
        if typed.identifier:
            facts["identifier_columns"].append(name)
        if typed.decimal_comma:
            facts["decimal_comma_columns"].append(name)
        if typed.money is not None:
            facts["money_columns"][name] = typed.money
        if typed.percent:
            facts["percent_columns"].append(name)
        if typed.bad:
            count, position, value = typed.bad
            facts["unparseable"][name] = {
                "count": count,
                "first_line": int(line_of(position)),
                "first_value": value,
            }
    details.update(facts)
    return LoadedTable(pd.DataFrame(out, copy=False), source, fmt, details)  # no block copy


# ----------------------------------------------------------------------------- other formats


def read_parquet(source: str, data: bytes, only: list[str] | None = None) -> LoadedTable:
    """Read Parquet (only the columns ``only`` when given); string columns get the typing
    rules, booleans become text."""
    try:
        table = pq.read_table(pa.BufferReader(data), columns=only)
    except Exception as exc:
        raise InputFileError(f"{source}: not a readable Parquet file ({_one_line(exc)})") from exc
    names = clean_names(source, table.column_names)
    if table.num_rows == 0:
        raise InputFileError(f"{source}: no data rows (only a header)")
    columns: dict[str, Typed | pa.ChunkedArray] = {}
    for name, column in zip(names, table.columns, strict=True):
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        kind = column.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            columns[name] = column
        elif pa.types.is_boolean(kind):
            columns[name] = pc.if_else(column, "True", "False")
        elif pa.types.is_integer(kind) and column.null_count == 0 and kind != pa.uint64():
            ints = pc.cast(column, pa.int64()).to_numpy()
            columns[name] = Typed(pd.Series(ints, dtype=np.int64), "integer")
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            columns[name] = Typed(pd.Series(floats(column)), "float")
        elif pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            try:
                stamps = pd.to_datetime(column.to_pandas(date_as_object=False))
                columns[name] = Typed(naive_ns(stamps), "datetime")
            except (ValueError, OverflowError):  # outside the datetime64[ns] range
                columns[name] = type_objects(column.to_pylist())
        else:
            columns[name] = type_objects(column.to_pylist())
    return _finish(source, "parquet", columns, lambda i: i + 1, {"rows_read": table.num_rows})


def _read_json(source: str, data: bytes) -> LoadedTable:
    """Read an array of records, ``{"key": [records]}``, or JSON lines (one object a line)."""
    text, encoding = decode_text(source, data)
    layout = "array"
    try:
        parsed: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("[") or exc.msg != "Extra data":
            raise InputFileError(
                f"{source}: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})"
            ) from exc
        layout, parsed = "lines", []
        for number, line in enumerate(text.splitlines(), start=1):
            try:
                parsed.extend([json.loads(line)] if line.strip() else [])
            except json.JSONDecodeError as err:
                raise InputFileError(
                    f"{source}: invalid JSON on line {number} ({err.msg})"
                ) from err
    if isinstance(parsed, dict):
        inner = next(iter(parsed.values())) if len(parsed) == 1 else None
        if isinstance(inner, list) and inner and all(isinstance(r, dict) for r in inner):
            parsed, layout = inner, "wrapped array"
        else:
            parsed, layout = [parsed], "lines"
    if not isinstance(parsed, list):
        raise InputFileError(
            f"{source}: expected an array of records or JSON lines, "
            f"got a JSON {type(parsed).__name__}"
        )
    for number, record in enumerate(parsed, start=1):
        if not isinstance(record, dict):
            raise InputFileError(
                f"{source}: record {number} is a JSON {type(record).__name__}, expected an object"
            )
    if not parsed:
        raise InputFileError(f"{source}: no data rows (empty JSON array)")
    nested = any(isinstance(v, dict) for record in parsed for v in record.values())
    frame = pd.json_normalize(parsed) if nested else pd.DataFrame.from_records(parsed)
    if frame.shape[1] == 0:
        raise InputFileError(f"{source}: the records have no fields")
    names = clean_names(source, list(frame.columns))
    columns = {
        name: type_objects(frame.iloc[:, j].to_numpy(dtype=object)) for j, name in enumerate(names)
    }
    details = {"encoding": encoding, "json_layout": layout, "rows_read": len(frame)}
    return _finish(source, "json", columns, lambda i: i + 1, details)


def _sheet_rows(sheet: Any) -> list[tuple[Any, ...]]:
    """Non-blank rows of a worksheet, padded to one width, empty trailing columns cut."""
    rows = [
        r
        for r in sheet.iter_rows(values_only=True)
        if any(v is not None and not (isinstance(v, str) and not v.strip()) for v in r)
    ]
    width = max((len(r) for r in rows), default=0)
    while width and all(len(r) < width or r[width - 1] is None for r in rows):
        width -= 1
    return [tuple(r[:width]) + (None,) * (width - len(r)) for r in rows]


def _read_excel(source: str, data: bytes, sheet: str | None) -> LoadedTable:
    """Read one sheet, or stack all sheets with the same columns minus cross-sheet repeats."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise InputFileError(f"{source}: not a readable Excel workbook ({_one_line(exc)})") from exc
    try:
        sheets = list(book.sheetnames)
        if sheet is not None and sheet not in sheets:
            raise UsageError(
                f"{source}: no sheet named {sheet!r}; the sheets are "
                + ", ".join(repr(s) for s in sheets)
            )
        wanted = [sheet] if sheet is not None else sheets
        raw: dict[str, list[tuple[Any, ...]]] = {}
        for name in wanted:
            try:
                raw[name] = _sheet_rows(book[name])
            except Exception as exc:
                raise InputFileError(
                    f"{source}: sheet {name!r} cannot be read ({_one_line(exc)})"
                ) from exc
    finally:
        book.close()
    raw = {name: rows for name, rows in raw.items() if rows}
    if not raw:
        raise InputFileError(
            f"{source}: the file is empty (no cells in " + ", ".join(repr(s) for s in wanted) + ")"
        )
    first = next(iter(raw))
    columns = clean_names(f"{source} sheet {first!r}", raw[first][0])
    frames = []
    for name, rows in raw.items():
        names = clean_names(f"{source} sheet {name!r}", rows[0])
        if sorted(names) != sorted(columns):
            raise InputFileError(
                f"{source}: sheet {name!r} has different columns from sheet {first!r}; "
                f'read one sheet with --sheet "{name}"'
            )
        frames.append(pd.DataFrame(rows[1:], columns=names, dtype=object)[columns])
    removed, kept = _drop_cross_sheet_duplicates(frames)
    stacked = pd.concat(kept, ignore_index=True)
    if len(stacked) == 0:
        raise InputFileError(f"{source}: no data rows (only a header)")
    typed = {name: type_objects(stacked[name].to_numpy(dtype=object)) for name in columns}
    details = {
        "sheets_read": list(raw),
        "sheets_skipped_empty": [s for s in wanted if s not in raw],
        "sheet_rows": {name: len(rows) - 1 for name, rows in raw.items()},
        "rows_read": sum(len(rows) - 1 for rows in raw.values()),
        "cross_sheet_duplicates_removed": removed,
    }
    return _finish(source, "excel", typed, lambda i: i + 1, details)


def _drop_cross_sheet_duplicates(frames: list[pd.DataFrame]) -> tuple[int, list[pd.DataFrame]]:
    """Drop from each sheet the rows already among the kept rows of earlier sheets.

    Rows count as a multiset: a row twice in an earlier sheet and twice in a later one loses
    both later copies, while duplicates within one sheet stay (a later step counts them).
    """
    seen: Counter[int] = Counter()
    removed, kept = 0, []
    for frame in frames:
        hashes = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
        occurrence = pd.Series(hashes).groupby(hashes).cumcount().to_numpy()
        keep = occurrence >= np.array([seen[h] for h in hashes.tolist()], dtype=np.int64)
        removed += int((~keep).sum())
        seen.update(hashes[keep].tolist())
        kept.append(frame[keep])
    return removed, kept
