"""Tests of segmint.io: reading customer data files into typed frames, writing them back."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmint.errors import InputFileError, SegmintError, UsageError
from segmint.io import LoadedTable, read_table, write_table

is_str = pd.api.types.is_string_dtype
is_num = pd.api.types.is_numeric_dtype
is_dt = pd.api.types.is_datetime64_any_dtype
T = pd.Timestamp


def put(tmp_path: Path, name: str, data: bytes | str) -> Path:
    """Write ``data`` (str as UTF-8) to ``tmp_path / name`` and return the path."""
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def fails(path: Path | str, error: type[SegmintError], *fragments: str, **kwargs: str) -> str:
    """Assert read_table raises ``error`` with a one-line message naming the file."""
    with pytest.raises(error) as info:
        read_table(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message, message
    return message


def assert_json_details(table: LoadedTable) -> None:
    assert json.loads(json.dumps(table.details)) == table.details


# ------------------------------------------------------------------ delimited text


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter(tmp_path: Path, delimiter: str) -> None:
    text = "\n".join(
        delimiter.join(r)
        for r in [
            [" id ", "name", "score"],
            ["1", "Ann", "2.5"],
            ["2", "Bob Smith", "3"],
            ["3", "Cy", ""],
        ]
    )
    table = read_table(put(tmp_path, "data.csv", text + "\n"))
    frame = table.frame
    assert list(frame.columns) == ["id", "name", "score"]
    assert frame["id"].dtype == np.int64 and frame["id"].tolist() == [1, 2, 3]
    assert is_str(frame["name"]) and frame["name"].tolist() == ["Ann", "Bob Smith", "Cy"]
    assert frame["score"].dtype == np.float64
    assert frame["score"].tolist()[:2] == [2.5, 3.0] and np.isnan(frame["score"].iloc[2])
    assert table.format == "csv"
    assert table.details["delimiter"] == delimiter
    assert table.details["rows_read"] == 3 and table.details["header"] is True
    assert table.details["column_types"] == {"id": "integer", "name": "text", "score": "float"}
    assert_json_details(table)


@pytest.mark.parametrize("name", ["data.tsv", "data.tab", "data.txt"])
def test_tab_separated_extensions(tmp_path: Path, name: str) -> None:
    table = read_table(put(tmp_path, name, "a\tb\n1\tx, y\n2\tz\n"))
    assert table.format == ("csv" if name.endswith(".txt") else "tsv")
    assert table.details["delimiter"] == "\t"
    assert table.frame["b"].tolist() == ["x, y", "z"]


def test_utf8_bom_is_stripped_from_first_column(tmp_path: Path) -> None:
    table = read_table(put(tmp_path, "bom.csv", b"\xef\xbb\xbfName,Age\nAnn,30\n"))
    assert list(table.frame.columns) == ["Name", "Age"]
    assert table.details["encoding"] == "utf-8-sig"
    assert table.frame["Age"].tolist() == [30]


def test_cp1252_file(tmp_path: Path) -> None:
    data = b"name,city,price\nZo\xeb,K\xf6ln,\xa35\nRen\xe9e,Paris,\x80 3\n"
    table = read_table(put(tmp_path, "cp.csv", data))
    assert table.details["encoding"] == "cp1252"
    assert table.frame["name"].tolist() == ["Zoë", "Renée"]
    assert table.frame["city"].tolist() == ["Köln", "Paris"]
    assert table.frame["price"].tolist() == [5.0, 3.0]  # the signs decoded, read as money


def test_utf8_text_is_not_mistaken_for_cp1252(tmp_path: Path) -> None:
    table = read_table(put(tmp_path, "u.csv", "name,price\nZoë,£5\n"))
    assert table.details["encoding"] == "utf-8"
    assert table.frame.iloc[0].tolist() == ["Zoë", 5.0]  # "£" decoded, the price money


def test_decimal_comma_with_semicolons(tmp_path: Path) -> None:
    text = "id;price;total;code\n1;1,5;1.234,56;A\n2;2,25;10;B\n3;;0,5;C\n"
    table = read_table(put(tmp_path, "eu.csv", text))
    frame = table.frame
    assert frame["price"].dtype == np.float64 and frame["total"].dtype == np.float64
    assert frame["price"].tolist()[:2] == [1.5, 2.25] and np.isnan(frame["price"].iloc[2])
    assert frame["total"].tolist() == [1234.56, 10.0, 0.5]
    assert frame["id"].dtype == np.int64
    assert table.details["decimal"] == ","
    assert table.details["decimal_comma_columns"] == ["price", "total"]


def test_comma_delimited_file_keeps_quoted_comma_numbers_as_text(tmp_path: Path) -> None:
    table = read_table(put(tmp_path, "c.csv", 'a,b\n1,"1,5"\n2,"2,5"\n'))
    assert is_str(table.frame["b"]) and table.frame["b"].tolist() == ["1,5", "2,5"]
    assert table.details["decimal"] == "."


def test_quoted_fields(tmp_path: Path) -> None:
    text = (
        'id,text,when\n1,"a, b",2021-01-01\n2,"line one\nline two",2021-01-02\n'
        '3,"say ""hi""",oops\n4,plain,2021-01-04\n5,x,2021-01-05\n6,y,2021-01-06\n'
        "7,z,2021-01-07\n8,w,2021-01-08\n9,v,2021-01-09\n10,u,2021-01-10\n"
    )
    table = read_table(put(tmp_path, "q.csv", text))
    assert table.frame["text"].tolist()[:4] == ["a, b", "line one\nline two", 'say "hi"', "plain"]
    assert table.frame["id"].tolist() == list(range(1, 11))
    # the bad date is on line 5 of the file: the quoted newline shifts it by one
    assert table.details["unparseable"] == {
        "when": {"count": 1, "first_line": 5, "first_value": "oops"}
    }


def test_single_quote_quoting_is_detected(tmp_path: Path) -> None:
    table = read_table(put(tmp_path, "sq.csv", "id,name\n1,'Smith, Ann'\n2,'Lee, Bo'\n"))
    assert table.details["quotechar"] == "'"
    assert table.frame["name"].tolist() == ["Smith, Ann", "Lee, Bo"]


def test_leading_zero_identifiers_stay_text(tmp_path: Path) -> None:
    text = "id,zip,n,small\n0001,007,0,0.5\n0002,123,1,0\n0010,450,2,1.25\n"
    table = read_table(put(tmp_path, "ids.csv", text))
    frame = table.frame
    assert is_str(frame["id"]) and frame["id"].tolist() == ["0001", "0002", "0010"]
    assert is_str(frame["zip"]) and frame["zip"].tolist() == ["007", "123", "450"]
    assert frame["n"].dtype == np.int64 and frame["n"].tolist() == [0, 1, 2]
    assert frame["small"].dtype == np.float64 and frame["small"].tolist() == [0.5, 0.0, 1.25]
    assert table.details["identifier_columns"] == ["id", "zip"]


def test_missing_value_spellings(tmp_path: Path) -> None:
    spellings = ["", "NA", "N/A", "null", "NULL", "NaN", "nan", "None", "  "]
    rows = "".join(f"{i},{s},{s},x\n" for i, s in enumerate(spellings))
    text = "i,num,txt,dash\n" + rows + "99,5,hello,-\n"
    frame = read_table(put(tmp_path, "na.csv", text)).frame
    assert frame["num"].dtype == np.float64
    assert frame["num"].isna().sum() == len(spellings) and frame["num"].iloc[-1] == 5.0
    assert is_str(frame["txt"]) and frame["txt"].isna().sum() == len(spellings)
    assert frame["dash"].iloc[-1] == "-"  # a lone dash is text, not missing


def test_integers_with_missing_become_float_and_integral_text_stays_float(tmp_path: Path) -> None:
    frame = read_table(put(tmp_path, "n.csv", "a,b,c\n1,1.0,+3\n,2.0,-4\n")).frame
    assert frame["a"].dtype == np.float64 and frame["a"].iloc[0] == 1.0
    assert frame["b"].dtype == np.float64  # written with a decimal point
    assert frame["c"].dtype == np.int64 and frame["c"].tolist() == [3, -4]


def test_yes_no_and_true_false_stay_text(tmp_path: Path) -> None:
    frame = read_table(put(tmp_path, "yn.csv", "a,b\nYes,True\nNo,False\n")).frame
    assert is_str(frame["a"]) and frame["a"].tolist() == ["Yes", "No"]
    assert is_str(frame["b"]) and frame["b"].tolist() == ["True", "False"]


def test_headerless_numeric_file(tmp_path: Path) -> None:
    table = read_table(put(tmp_path, "points.csv", "1.5,2,2021-01-01\n3.5,,2021-01-02\n"))
    assert table.details["header"] is False
    assert list(table.frame.columns) == ["column_1", "column_2", "column_3"]
    assert table.frame["column_1"].tolist() == [1.5, 3.5]
    assert table.frame["column_3"].tolist() == [T(2021, 1, 1), T(2021, 1, 2)]


def test_excel_sep_hint_line(tmp_path: Path) -> None:
    table = read_table(put(tmp_path, "hint.csv", "sep=;\na;d\n1,5;2021-01-01\n2;x\n"))
    assert table.details["delimiter"] == ";"
    assert list(table.frame.columns) == ["a", "d"]
    assert table.frame["a"].tolist() == [1.5, 2.0]


def test_header_of_years_is_a_header(tmp_path: Path) -> None:
    table = read_table(put(tmp_path, "wide.csv", "Country,2010,2011\nUK,5,6\nFR,7,8\n"))
    assert table.details["header"] is True
    assert list(table.frame.columns) == ["Country", "2010", "2011"]
    assert table.frame["2010"].tolist() == [5, 7]


def test_blank_lines_before_header_and_at_end(tmp_path: Path) -> None:
    rows = "".join(f"2021-01-{i:02d},{i}\n" for i in range(3, 12))
    text = "\n\nd,v\n2021-01-01,1\nbad,2\n" + rows
    table = read_table(put(tmp_path, "blank.csv", text + "\n\n"))
    assert len(table.frame) == 11
    assert table.details["unparseable"]["d"] == {"count": 1, "first_line": 5, "first_value": "bad"}


# ------------------------------------------------------------------ dates


DATES = [
    dt.datetime(2021, 1, 13),
    dt.datetime(2021, 3, 4, 10, 5),
    dt.datetime(2021, 12, 25),
    dt.datetime(2020, 2, 29),
    dt.datetime(2021, 7, 1),
    dt.datetime(2021, 8, 9, 23, 59, 58),
    dt.datetime(2021, 9, 30),
    dt.datetime(2021, 10, 2),
    dt.datetime(2021, 11, 11),
    dt.datetime(2021, 5, 6),
]


def _stamp(value: dt.datetime, date_format: str, sep: str = " ") -> str:
    text = value.strftime(date_format)
    if value.hour or value.minute or value.second:
        text += sep + value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return text


@pytest.mark.parametrize(
    ("date_format", "label", "sep"),
    [
        ("%Y-%m-%d", "YYYY-MM-DD", " "),
        ("%Y-%m-%d", "YYYY-MM-DD", "T"),
        ("%d/%m/%Y", "DD/MM/YYYY", " "),
        ("%m/%d/%Y", "MM/DD/YYYY", " "),
        ("%d-%m-%Y", "DD-MM-YYYY", " "),
        ("%d.%m.%Y", "DD.MM.YYYY", " "),
        ("%Y/%m/%d", "YYYY/MM/DD", " "),
    ],
)
def test_date_formats_with_one_bad_value(
    tmp_path: Path, date_format: str, label: str, sep: str
) -> None:
    values = [_stamp(v, date_format, sep) for v in DATES]
    values.insert(6, "31/31/2021" if "/" in label else "not a date")
    text = "id,when\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values, start=1))
    table = read_table(put(tmp_path, "dates.csv", text))
    when = table.frame["when"]
    assert when.dtype == "datetime64[ns]"
    expected = [T(v) for v in DATES]
    expected.insert(6, pd.NaT)
    assert when.tolist() == expected
    assert table.details["date_formats"] == {"when": label}
    assert table.details["unparseable"] == {
        "when": {"count": 1, "first_line": 8, "first_value": values[6]}
    }


def test_ambiguous_slash_dates_are_day_first(tmp_path: Path) -> None:
    table = read_table(put(tmp_path, "amb.csv", "d\n01/02/2021\n03/04/2021\n12/11/2021\n"))
    assert table.frame["d"].tolist() == [T(2021, 2, 1), T(2021, 4, 3), T(2021, 11, 12)]
    assert table.details["date_formats"] == {"d": "DD/MM/YYYY"}


def test_iso_fractions_and_offsets(tmp_path: Path) -> None:
    text = "d\n2021-01-02T03:04:05.5\n2021-01-02T03:04:05Z\n2021-01-02T03:04:05+02:00\n"
    frame = read_table(put(tmp_path, "iso.csv", text)).frame
    assert frame["d"].tolist() == [
        T("2021-01-02 03:04:05.5"),
        T("2021-01-02 03:04:05"),
        T("2021-01-02 01:04:05"),
    ]


def test_numbers_are_dates_only_with_a_date_name(tmp_path: Path) -> None:
    # YYYYMMDD numbers are dates when the name says so (``day``), never otherwise
    text = "year,day,code\n2012,20120101,20120101\n2013,20120102,20120102\n"
    frame = read_table(put(tmp_path, "y.csv", text)).frame
    assert frame["year"].dtype == np.int64 and frame["code"].dtype == np.int64
    assert frame["day"].tolist() == [T(2012, 1, 1), T(2012, 1, 2)]


def test_mostly_unparseable_dates_stay_text(tmp_path: Path) -> None:
    text = "d\n2021-01-01\n2021-01-02\nsoon\nlater\n"
    table = read_table(put(tmp_path, "few.csv", text))
    assert is_str(table.frame["d"]) and table.details["unparseable"] == {}


# ------------------------------------------------------------------ JSON, Parquet, writing


def test_json_array_of_records(tmp_path: Path) -> None:
    records = [
        {
            "id": "0001",
            "n": 1,
            "x": 1.5,
            "when": "2021-01-02",
            "ok": True,
            "addr": {"city": "Oslo"},
        },
        {
            "id": "0002",
            "n": 2,
            "x": None,
            "when": "2021-01-03 04:05",
            "ok": False,
            "addr": {"city": "Rome"},
        },
    ]
    table = read_table(put(tmp_path, "r.json", json.dumps(records)))
    frame = table.frame
    assert table.format == "json" and table.details["json_layout"] == "array"
    assert frame["id"].tolist() == ["0001", "0002"] and is_str(frame["id"])
    assert frame["n"].dtype == np.int64 and frame["n"].tolist() == [1, 2]
    assert frame["x"].dtype == np.float64 and np.isnan(frame["x"].iloc[1])
    assert frame["when"].tolist() == [T(2021, 1, 2), T(2021, 1, 3, 4, 5)]
    assert frame["ok"].tolist() == ["True", "False"]
    assert frame["addr.city"].tolist() == ["Oslo", "Rome"]


@pytest.mark.parametrize("name", ["r.jsonl", "r.ndjson", "r.json", "r.data"])
def test_json_lines(tmp_path: Path, name: str) -> None:
    text = '{"a": 1, "b": "x"}\n\n{"a": 2, "b": null, "c": "2021-01-01"}\n'
    table = read_table(put(tmp_path, name, text))
    assert table.format == "json" and table.details["json_layout"] == "lines"
    assert table.frame["a"].tolist() == [1, 2]
    assert table.frame["b"].iloc[0] == "x" and pd.isna(table.frame["b"].iloc[1])
    assert pd.isna(table.frame["c"].iloc[0]) and table.frame["c"].iloc[1] == T(2021, 1, 1)


def test_json_wrapped_records(tmp_path: Path) -> None:
    table = read_table(put(tmp_path, "w.json", '{"customers": [{"a": 1}, {"a": 2}]}'))
    assert table.frame["a"].tolist() == [1, 2]


def sample_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": pd.Series(["0001", "0002", "0003"], dtype="str"),
            "n": np.array([1, 2, 3], dtype=np.int64),
            "x": [1.5, np.nan, 2.0],
            "when": pd.to_datetime(["2021-01-02 03:04:05", "2021-02-03 00:00:00", None]).astype(
                "datetime64[ns]"
            ),
            "text": pd.Series(["a", None, 'Zoë, "q"'], dtype="str"),
        }
    )


@pytest.mark.parametrize("name", ["t.parquet", "t.pq", "t.csv", "t.json", "t.jsonl"])
def test_write_read_round_trip(tmp_path: Path, name: str) -> None:
    frame = sample_frame()
    write_table(frame, tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file left
    back = read_table(tmp_path / name).frame
    pd.testing.assert_frame_equal(back, frame)


def test_write_replaces_existing_file_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    write_table(pd.DataFrame({"a": [1]}), str(target))
    assert target.read_text() == "a\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_write_errors(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1]})
    for target in (tmp_path / "x.xls", tmp_path / "missing" / "x.csv", tmp_path):
        with pytest.raises(UsageError) as info:
            write_table(frame, target)
        assert "\n" not in str(info.value) and str(target) in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_parquet_types(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "i": [1, 2],
            "f": [12346.0, 12347.0],
            "b": [True, False],
            "s": ["2021-01-01", "2021-01-02"],
            "tz": pd.to_datetime(["2021-01-01 12:00", "2021-01-02 12:00"]).tz_localize(
                "Europe/Oslo"
            ),
        }
    )
    frame.to_parquet(tmp_path / "p.parquet")
    back = read_table(tmp_path / "p.parquet").frame
    assert back["i"].dtype == np.int64 and back["f"].dtype == np.float64
    assert back["b"].tolist() == ["True", "False"]
    assert back["s"].dtype == "datetime64[ns]"
    assert back["tz"].dtype == "datetime64[ns]" and back["tz"].iloc[0] == T(2021, 1, 1, 11)


# ------------------------------------------------------------------ Excel


def make_book(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


HEAD = ["Invoice", "Customer ID", "When", "Price", "Code"]
R1 = [1001, 12346, dt.datetime(2010, 11, 30, 9, 0), 2.5, "0001"]
R2 = ["C1002", None, dt.datetime(2010, 12, 1, 8, 26), 3, "0002"]
R3 = [1003, 12347, dt.datetime(2010, 12, 2), 1.25, "0003"]
R4 = [1004, 12348, dt.datetime(2011, 1, 5), 4.0, "0004"]


def test_excel_stacks_sheets_and_drops_cross_sheet_duplicates(tmp_path: Path) -> None:
    path = make_book(
        tmp_path / "book.xlsx",
        {"2010": [HEAD, R1, R2, R2, R3], "Empty": [], "2011": [HEAD, R2, R3, R4, R4]},
    )
    table = read_table(path)
    frame = table.frame
    assert table.format == "excel"
    assert table.details["sheets_read"] == ["2010", "2011"]
    assert table.details["sheets_skipped_empty"] == ["Empty"]
    assert table.details["rows_read"] == 8
    # R2 appears twice in 2010 and once in 2011: the 2011 copy goes; R3 likewise; the
    # within-sheet duplicates (R2 twice in 2010, R4 twice in 2011) stay.
    assert table.details["cross_sheet_duplicates_removed"] == 2
    assert frame["Invoice"].tolist() == ["1001", "C1002", "C1002", "1003", "1004", "1004"]
    assert frame["Customer ID"].dtype == np.float64
    assert frame["Customer ID"].isna().sum() == 2
    assert frame["When"].dtype == "datetime64[ns]"
    assert frame["When"].iloc[1] == T(2010, 12, 1, 8, 26)
    assert frame["Price"].dtype == np.float64 and frame["Price"].tolist()[:2] == [2.5, 3.0]
    assert frame["Code"].tolist() == ["0001", "0002", "0002", "0003", "0004", "0004"]
    assert_json_details(table)


def test_excel_one_sheet_and_unknown_sheet(tmp_path: Path) -> None:
    path = make_book(tmp_path / "book.xlsx", {"A": [HEAD, R1], "B b": [HEAD, R1, R4]})
    table = read_table(path, sheet="B b")
    assert table.frame["Invoice"].tolist() == [1001, 1004]  # all numbers here: int64
    assert table.details["cross_sheet_duplicates_removed"] == 0
    message = fails(path, UsageError, "'Zed'", "'A'", "'B b'", sheet="Zed")
    assert "no sheet" in message


def test_excel_sheet_with_other_columns(tmp_path: Path) -> None:
    path = make_book(tmp_path / "book.xlsx", {"A": [HEAD, R1], "Notes": [["note"], ["hi"]]})
    fails(path, InputFileError, "'Notes'", "--sheet")
    assert read_table(path, sheet="Notes").frame["note"].tolist() == ["hi"]


def test_excel_mixed_cells_are_typed_like_text(tmp_path: Path) -> None:
    rows = [["d", "n"]] + [[dt.datetime(2021, 1, i), i] for i in range(1, 10)]
    rows += [["n/a", "#DIV/0!"], ["soon", 3]]
    table = read_table(make_book(tmp_path / "m.xlsx", {"S": rows}))
    assert table.frame["d"].dtype == "datetime64[ns]"
    assert table.frame["n"].dtype == np.float64 and table.frame["n"].isna().sum() == 1
    assert table.details["unparseable"] == {
        "d": {"count": 1, "first_line": 11, "first_value": "soon"}
    }


# ------------------------------------------------------------------ errors


def test_missing_file_and_directory(tmp_path: Path) -> None:
    fails(tmp_path / "nope.csv", UsageError, "no such file")
    fails(tmp_path, UsageError, "is a directory")


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("blank.csv", b" \n\t\r\n ", "the file is empty"),
        ("empty.xlsx", b"", "the file is empty"),
        ("head.csv", b"a,b,c\n", "no data rows (only a header)"),
        ("head2.csv", b"a,b,c\r\n\r\n", "no data rows (only a header)"),
        ("bin.csv", bytes(range(256)) * 4, "not a text table (binary content)"),
        (
            "ctl.csv",
            b"\x01\x02\x03\x04\x05\x06abc\x07\x08" * 50,
            "not a text table (binary content)",
        ),
        (
            "page.csv",
            b"\n<!DOCTYPE html>\n<html><body><table></table></body></html>\n",
            "this is an HTML page, not a data table",
        ),
        ("page2.csv", b"<html lang='en'>\n<head></head></html>", "this is an HTML page"),
        (
            "more.csv",
            b"a,b,c,d\n1,2,3,4\n1,2,3,4\n1,2,3,4\n1,2,3,4\n1,2,3,4\n1,2,3,4,5\n",
            "line 7 has 5 fields, expected 4",
        ),
        ("fewer.csv", b"a,b,c\n1,2,3\n1,2\n", "line 3 has 2 fields, expected 3"),
        ("quoted.csv", b'a,b\n"x\ny",2\n3,4,5\n', "line 4 has 3 fields, expected 2"),
        ("dup.csv", b"id,name, id\n1,2,3\n", "duplicate column name 'id'"),
        ("bad.parquet", b"PAR1 this is not parquet", "not a readable Parquet file"),
        ("bad.xlsx", b"PK\x03\x04 broken zip", "not a readable Excel workbook"),
        ("text.xlsx", b"a,b\n1,2\n", "not a readable Excel workbook"),
        ("bad.json", b'[{"a": 1}, {"a": }]', "invalid JSON at line 1"),
        ("bad.jsonl", b'{"a": 1}\n{"a": 2}\n{"a" 3}\n', "invalid JSON on line 3"),
        ("scalars.json", b"[1, 2]", "record 1 is a JSON int"),
        ("none.json", b"[]", "no data rows"),
        ("string.json", b'"hello"', "expected an array of records"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, data: bytes, fragment: str) -> None:
    path = put(tmp_path, name, data)
    error = InputFileError
    fails(path, error, fragment)
    fails(str(path), error, fragment)


def test_sheet_option_on_a_csv_is_a_usage_error(tmp_path: Path) -> None:
    fails(put(tmp_path, "a.csv", "a\n1\n"), UsageError, "--sheet", sheet="S")


def test_unknown_extensions_are_sniffed(tmp_path: Path) -> None:
    assert read_table(put(tmp_path, "a.dat", "a;b\n1;2\n")).format == "csv"
    sample_frame().to_parquet(tmp_path / "frame.bin")
    assert read_table(tmp_path / "frame.bin").format == "parquet"
    make_book(tmp_path / "book.xlsx", {"S": [HEAD, R1]})
    os.replace(tmp_path / "book.xlsx", tmp_path / "book")
    assert read_table(tmp_path / "book").format == "excel"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ints=st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=20),
    floats=st.lists(
        st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=20
    ),
)
def test_numbers_round_trip_through_csv(
    tmp_path: Path, ints: list[int], floats: list[float]
) -> None:
    size = min(len(ints), len(floats))
    frame = pd.DataFrame(
        {"i": np.array(ints[:size], dtype=np.int64), "f": np.array(floats[:size], dtype=np.float64)}
    )
    write_table(frame, tmp_path / "h.csv")
    back = read_table(tmp_path / "h.csv").frame
    assert back["i"].tolist() == frame["i"].tolist()
    assert back["f"].tolist() == frame["f"].tolist()
    assert back["i"].dtype == np.int64 and is_num(back["f"])


# ------------------------------------------------------------------ the public datasets


@pytest.fixture(scope="module")
def online_retail(shared_data: Path) -> LoadedTable:
    return read_table(shared_data / "online-retail" / "online_retail.csv")


@pytest.mark.realdata
def test_online_retail(online_retail: LoadedTable) -> None:
    frame = online_retail.frame
    assert frame.shape == (541_909, 8)
    assert list(frame.columns) == [
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    ]
    assert frame["InvoiceDate"].dtype == "datetime64[ns]"
    assert frame["InvoiceDate"].isna().sum() == 0
    assert frame["InvoiceDate"].min() == T(2010, 12, 1, 8, 26)
    assert frame["InvoiceDate"].max() == T(2011, 12, 9, 12, 50)
    assert is_num(frame["CustomerID"]) and frame["CustomerID"].isna().sum() == 135_080
    assert frame["UnitPrice"].dtype == np.float64 and (frame["UnitPrice"] == 0).sum() == 2_515
    assert frame["Quantity"].dtype == np.int64 and (frame["Quantity"] < 0).sum() == 10_624
    assert is_str(frame["InvoiceNo"]) and frame["InvoiceNo"].str.startswith("C").sum() == 9_288
    assert frame.iloc[0]["Description"] == "WHITE HANGING HEART T-LIGHT HOLDER"
    assert frame.duplicated().sum() == 5_268
    assert online_retail.details["unparseable"] == {}


@pytest.mark.realdata
def test_online_retail_loads_quickly(shared_data: Path) -> None:
    import time

    start = time.perf_counter()
    read_table(shared_data / "online-retail" / "online_retail.csv")
    assert time.perf_counter() - start < 15  # ~1.5 s measured; generous for busy machines


@pytest.mark.realdata
def test_telco(shared_data: Path) -> None:
    frame = read_table(shared_data / "telco-churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv").frame
    assert frame.shape == (7043, 21)
    assert frame["TotalCharges"].dtype == np.float64
    assert frame["TotalCharges"].isna().sum() == 11
    assert (frame.loc[frame["TotalCharges"].isna(), "tenure"] == 0).all()
    assert frame["tenure"].dtype == np.int64 and frame["SeniorCitizen"].dtype == np.int64
    assert is_str(frame["Churn"]) and set(frame["Churn"]) == {"Yes", "No"}


@pytest.mark.realdata
def test_mall_customers(shared_data: Path) -> None:
    table = read_table(shared_data / "mall-customers" / "Mall_Customers.csv")
    frame = table.frame
    assert is_str(frame["CustomerID"])
    assert frame["CustomerID"].tolist() == [f"{i:04d}" for i in range(1, 201)]
    assert list(frame.columns)[1] == "Genre"
    assert frame["Annual Income (k$)"].dtype == np.int64


@pytest.mark.realdata
def test_customer_personality(shared_data: Path) -> None:
    path = shared_data / "customer-personality" / "marketing_campaign.csv"
    table = read_table(path)
    frame = table.frame
    assert frame.shape == (2240, 29) and table.details["delimiter"] == "\t"
    assert frame["Dt_Customer"].dtype == "datetime64[ns]"
    assert table.details["date_formats"]["Dt_Customer"] == "DD-MM-YYYY"
    with path.open(newline="") as handle:
        raw = list(csv.reader(handle, delimiter="\t"))
    column = raw[0].index("Dt_Customer")
    for i in (0, 1, 2239):
        day, month, year = (int(p) for p in raw[i + 1][column].split("-"))
        assert frame["Dt_Customer"].iloc[i] == T(year, month, day)
    assert frame["Dt_Customer"].iloc[0] == T(2012, 9, 4)  # raw "04-09-2012"
    assert frame["Income"].dtype == np.float64 and frame["Income"].isna().sum() == 24
    assert (frame["Income"] == 666_666).sum() == 1
    assert frame["Year_Birth"].dtype == np.int64 and frame["Year_Birth"].min() == 1893


@pytest.mark.realdata
def test_wholesale(shared_data: Path) -> None:
    frame = read_table(shared_data / "wholesale-customers" / "Wholesale customers data.csv").frame
    assert frame.shape == (440, 8)
    assert all(dtype == np.int64 for dtype in frame.dtypes)


@pytest.mark.realdata
def test_online_retail_ii_workbook(shared_data: Path) -> None:
    folder = shared_data / "online-retail-ii-subset"
    stem = "online_retail_II.country-subset"
    table = read_table(folder / f"{stem}.xlsx")
    first = read_table(folder / f"{stem}.Year_2009-2010.csv").frame
    second = read_table(folder / f"{stem}.Year_2010-2011.csv").frame
    assert len(table.frame) == 14_269 + 20_497 - 441
    assert table.details["cross_sheet_duplicates_removed"] == 441
    assert table.details["sheet_rows"] == {"Year 2009-2010": 14_269, "Year 2010-2011": 20_497}
    # expected: the second CSV minus its rows already in the first (as a multiset)
    earlier = Counter(map(tuple, first.astype(str).to_numpy().tolist()))
    keep = []
    for row in map(tuple, second.astype(str).to_numpy().tolist()):
        keep.append(earlier[row] == 0)
        earlier[row] -= earlier[row] > 0
    expected = pd.concat([first, second[keep]], ignore_index=True)
    pd.testing.assert_frame_equal(table.frame, expected)
    frame = table.frame
    assert frame["InvoiceDate"].dtype == "datetime64[ns]"
    assert is_num(frame["Customer ID"]) and is_str(frame["Invoice"])
    single = read_table(folder / f"{stem}.xlsx", sheet="Year 2010-2011")
    pd.testing.assert_frame_equal(single.frame, second)
    assert single.details["sheets_read"] == ["Year 2010-2011"]


@pytest.mark.parametrize("name", ["orders.csv.gz", "orders.jsonl.gz", "orders.gz"])
def test_gzip_files_are_read_as_the_file_inside(tmp_path: Path, name: str) -> None:
    frame = pd.DataFrame({"customer_id": ["a", "b"], "spend": [1.5, 2.0]})
    plain = tmp_path / ("orders.jsonl" if "jsonl" in name else "orders.csv")
    write_table(frame, plain)
    packed = tmp_path / name
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    loaded = read_table(packed)
    pd.testing.assert_frame_equal(loaded.frame, read_table(plain).frame)
    assert loaded.format == read_table(plain).format


def test_corrupt_gzip_is_an_input_error(tmp_path: Path) -> None:
    packed = tmp_path / "orders.csv.gz"
    packed.write_bytes(gzip.compress(b"a,b\n1,2\n")[:12])
    with pytest.raises(InputFileError, match=r"orders\.csv\.gz: cannot decompress"):
        read_table(packed)


def test_amounts_written_as_money(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer,total,refund,code\n"
        'a,"$1,234.50",(12.00),123 456\n'
        "b,$5,-$3.25,789 012\n"
        'c,,"($1,000)",345 678\n'
        "d,17.5,0,901 234\n",
        encoding="utf-8",
    )
    table = read_table(path)
    assert table.frame["total"].tolist()[:2] == [1234.5, 5.0]
    assert np.isnan(table.frame["total"][2]) and table.frame["total"][3] == 17.5
    assert table.frame["refund"].tolist() == [-12.0, -3.25, -1000.0, 0.0]
    assert table.frame["code"].tolist()[0] == "123 456"  # spaced digits alone stay text
    assert table.details["money_columns"] == {"total": ".", "refund": "."}
    assert table.details["column_types"]["total"] == "float"


def test_amounts_written_as_money_with_a_decimal_comma(tmp_path: Path) -> None:
    path = tmp_path / "umsatz.csv"
    path.write_text(
        "kunde;betrag;preis\nA;1.234,50 €;12,5\nB;€ 3,00;1\nC;-2 €;\u00a02.000,25 €\n",
        encoding="utf-8",
    )
    table = read_table(path)
    assert table.frame["betrag"].tolist() == [1234.5, 3.0, -2.0]
    assert table.frame["preis"].tolist() == [12.5, 1.0, 2000.25]
    assert table.details["money_columns"] == {"betrag": ",", "preis": ","}
