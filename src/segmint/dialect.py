"""The dialect of a text table: its encoding, delimiter, quote character and header.

Guessed from the start of the text, as :func:`segmint.io.read_table` and the streamed
reader (:mod:`segmint.scan`) need it before reading the whole table.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from segmint.blanks import SAMPLE, blank_width
from segmint.cells import DATE_SHAPES, NA_VALUES, NUMBER
from segmint.errors import InputFileError

_DELIMITERS = (",", ";", "\t", "|")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def blank_separated(text: str) -> bool:
    """Whether ``text`` is read as columns separated by runs of spaces or tabs: no single
    delimiter splits its lines alike into several fields, and runs of blanks do."""
    delimiter, quote = sniff_dialect(text, False)
    sample = sample_rows(text, delimiter, quote)
    one = len({len(r) for r in sample}) != 1 or (bool(sample) and len(sample[0]) == 1)
    return one and bool(blank_width(text))


def decode_text(source: str, data: bytes) -> tuple[str, str]:
    """Decode text: UTF-16 with a BOM, UTF-8 (BOM dropped), else cp1252, else latin-1."""
    binary = InputFileError(f"{source}: not a text table (binary content)")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise binary from exc
    if b"\x00" in data:
        raise binary
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[3:] if bom else data
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            text = body.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    encoding = "utf-8-sig" if bom and encoding == "utf-8" else encoding
    if len(_CONTROL.findall(text[:SAMPLE])) > max(2, len(text[:SAMPLE]) // 100):
        raise binary
    if not text.strip():
        raise InputFileError(f"{source}: the file is empty")
    return text, encoding


def text_rows(text: str, delimiter: str, quote: str) -> Iterator[tuple[int, list[str]]]:
    """(1-based first line, fields) of each non-blank row, read like pyarrow reads them."""
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quotechar=quote,
        doublequote=True,
        strict=False,
    )
    previous = 0
    for row in reader:
        start, previous = previous + 1, reader.line_num
        if row:
            yield start, row


def sample_rows(text: str, delimiter: str, quote: str) -> list[list[str]]:
    """Up to 200 rows from the start of ``text``; a row possibly cut by the sample is dropped."""
    rows: list[list[str]] = []
    try:
        for _, row in text_rows(text[:SAMPLE], delimiter, quote):
            rows.append(row)
            if len(rows) == 200:
                return rows
    except csv.Error:
        return rows
    return rows[:-1] if len(text) > SAMPLE and len(rows) > 1 else rows


def sniff_dialect(text: str, prefer_tab: bool) -> tuple[str, str]:
    """(delimiter, quote): the header has the usual field count, most rows agree, then the
    extension's delimiter, then the most fields.  ``'`` quotes only when no ``"`` occurs."""
    default = "\t" if prefer_tab else ","
    best: tuple[Any, ...] = ()
    choice = (default, '"')
    quotes = ['"'] if '"' in text[:SAMPLE] or "'" not in text[:SAMPLE] else ['"', "'"]
    for quote in quotes:
        for delimiter in _DELIMITERS:
            counts = [len(r) for r in sample_rows(text, delimiter, quote)]
            mode = max(set(counts), key=counts.count) if counts else 0
            score = (
                (counts[0] == mode, counts.count(mode) / len(counts), delimiter == default, mode)
                if mode > 1
                else ()
            )
            if score > best:
                best, choice = score, (delimiter, quote)
    return choice


def _cell_kind(value: str) -> str:
    """``"na"``, ``"num"``, ``"date"`` or ``"text"``: a guess for header sniffing."""
    value = value.strip()
    if value in NA_VALUES:
        return "na"
    if re.match(NUMBER, value):
        return "num"
    return "date" if any(re.match(s, value) for _, s, _ in DATE_SHAPES) else "text"


def has_header(rows: list[list[str]]) -> bool:
    """The first row is a header unless all its cells are numbers, dates or blank, or it is
    typed like the rest: each cell of the kind of its column, at least one column numbers
    or dates, and its text cells codes with a digit (``C001``) -- or, whatever its text,
    a date over a column of dates (no header names a column by a date of its values), its
    other cells of their column's kind or codes with a digit over numbers (``85123A``).

    So ``Country,2010,2011`` is a header; a header-less file whose first row has a text
    cell without a digit and no date loses that row to the column names, which shows,
    while the opposite mistake (a header of years read as data) would silently mix the
    names into the values.
    """
    first = [_cell_kind(v) for v in rows[0]]
    if all(kind != "text" for kind in first):
        return False
    if len(rows) < 2:
        return True
    dominant = []
    for j in range(len(first)):
        kinds = Counter(_cell_kind(r[j]) for r in rows[1:] if j < len(r))
        kinds.pop("na", None)
        dominant.append(kinds.most_common(1)[0][0] if kinds else "na")
    pairs = list(zip(first, rows[0], dominant, strict=True))
    coded = [k == "text" and d == "num" and bool(re.search(r"\d", v)) for k, v, d in pairs]
    if any(k not in (d, "na") and not c for (k, _, d), c in zip(pairs, coded, strict=True)):
        return True
    if any(k == d == "date" for k, _, d in pairs):
        return False  # a date over dates: a row of data, whatever its text (85123A, names)
    if any(coded):
        return True
    if any(k == "text" and not re.search(r"\d", v) for k, v in zip(first, rows[0], strict=True)):
        return True
    return not any(d in ("num", "date") for d in dominant)
