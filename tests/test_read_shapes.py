"""Awkward text shapes: blank-aligned columns, header-less files, dates written as
numbers, --sep and standard input, read alike by read_table and the streamed reader."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmint.cells import names_a_date, number_date_kind
from segmint.errors import InputFileError, UsageError
from segmint.features.roles import ColumnRoles, detect_roles
from segmint.featurize import log_features
from segmint.io import read_table
from tests.log_twins import write_headerless, write_twins

ALIGNED = (
    " customer_id   date      quantity  amount\r\n"
    "    00001  19970101         1    11.77\r\n"
    "    00002  19970112         5    77.00\r\n"
    "    00003  19970102         2    20.76\r\n"
)


def test_aligned_columns_with_crlf_and_padded_header(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes(ALIGNED.encode())
    loaded = read_table(path)
    assert list(loaded.frame.columns) == ["customer_id", "date", "quantity", "amount"]
    assert loaded.details["delimiter"] == "whitespace"
    assert loaded.frame["customer_id"].tolist() == ["00001", "00002", "00003"]
    assert loaded.frame["date"].tolist() == [
        pd.Timestamp(d) for d in ("1997-01-01", "1997-01-12", "1997-01-02")
    ]
    assert loaded.details["number_date_columns"] == {"date": "YYYYMMDD"}
    assert loaded.frame["amount"].tolist() == [11.77, 77.0, 20.76]


def test_headerless_file_named_and_warned(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("C001,1997-01-01,1,11.77\nC002,1997-01-02,2,3.5\n")
    loaded = read_table(path)
    assert list(loaded.frame.columns) == ["column_1", "column_2", "column_3", "column_4"]
    assert len(loaded.frame) == 2
    assert "--id column_1" in loaded.details["warnings"][0]


def test_header_of_words_and_years_stays_a_header(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Country,2010,2011\nFrance,1,2\nSpain,3,4\n")
    loaded = read_table(path)
    assert list(loaded.frame.columns) == ["Country", "2010", "2011"]
    assert "warnings" not in loaded.details


def test_one_column_read_is_refused_with_what_was_seen(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a b c\nfoo bar\nx y z w\n")
    with pytest.raises(InputFileError, match=r"read as 1 column .*first line: 'a b c'.*--sep"):
        read_table(path)


def test_sep_option(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id name\n1 x\n2 y\n")
    assert read_table(path, sep=" ").details["delimiter"] == "whitespace"
    assert list(read_table(path, sep="whitespace").frame.columns) == ["id", "name"]
    with pytest.raises(UsageError, match="--sep"):
        read_table(path, sep="::")


@pytest.mark.parametrize(
    ("values", "label"),
    [
        ([19970101, 20001231], "YYYYMMDD"),
        ([852076800, 1700000000], "epoch_s"),
        ([852076800123, 1700000000000], "epoch_ms"),
        ([35431, 45000], "excel_serial"),
        ([19971301, 19970101], None),
        ([12, 13], None),
    ],
)
def test_number_date_kinds(values: list[int], label: str | None) -> None:
    assert number_date_kind(np.array(values, dtype=float)) == label


def test_percentages_are_fractions(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,rate,note\n1,15%,5%\n2,2.5 %,n/a\n3,,x\n")
    loaded = read_table(path)
    assert loaded.frame["rate"].tolist()[:2] == [0.15, 0.025]
    assert loaded.details["percent_columns"] == ["rate"]
    assert loaded.frame["note"].tolist()[0] == "5%"  # not every value a percentage


def test_number_dates_need_a_date_name(tmp_path: Path) -> None:
    assert names_a_date("order_date") and names_a_date("InvoiceDate")
    assert names_a_date("purchase_time") and not names_a_date("amount")
    path = tmp_path / "t.csv"
    path.write_text("id,code,ts\n1,19970101,852076800\n2,19970102,852076801\n")
    loaded = read_table(path)
    assert loaded.details["number_date_columns"] == {"ts": "epoch_s"}
    assert loaded.frame["code"].dtype == np.int64


def _segmint(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "segmint", *args],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=600,
    )


def test_aligned_log_gives_the_features_of_its_comma_twin(tmp_path: Path) -> None:
    comma, aligned = write_twins(tmp_path)
    # the comma file is streamed by DuckDB (a), or read by read_table with --sep (c); the
    # aligned one is read by read_table (b).  The in-memory reads agree to the byte; the
    # streamed one sums in another order (last-digit differences).
    runs = (("a", comma, ()), ("b", aligned, ()), ("c", comma, ("--sep", ",")))
    for name, path, extra in runs:
        done = _segmint("features", str(path), "--out", str(tmp_path / f"{name}.csv"), *extra)
        assert done.returncode == 0, done.stderr.decode()
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "c.csv").read_bytes()
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"), rtol=1e-12
    )


def test_standard_input_plain_and_gzip(tmp_path: Path) -> None:
    comma, aligned = write_twins(tmp_path)
    for name, data in (("p", aligned.read_bytes()), ("g", gzip.compress(comma.read_bytes()))):
        done = _segmint("fit", "-", "--out", str(tmp_path / name), stdin=data)
        assert done.returncode == 0, done.stderr.decode()
        assert (tmp_path / name / "segments.csv").exists()


def test_headerless_log_with_number_dates_read_when_the_spec_names_the_time(
    tmp_path: Path,
) -> None:
    lines = "C001,19970101,11.77\nC002,19970102,3.5\nC001,19970105,2.0\nC003,19970301,8.25\n"
    path = tmp_path / "log.csv"
    path.write_text(lines)
    spec = tmp_path / "spec.toml"
    spec.write_text('[columns]\ncustomer = "column_1"\ntime = "column_2"\namount = "column_3"\n')
    headed = tmp_path / "headed.csv"
    headed.write_text("id,date,amount\n" + lines)
    reference = tmp_path / "reference.csv"
    done = _segmint("features", str(headed), "--as-of", "1997-04-01", "--out", str(reference))
    assert done.returncode == 0, done.stderr.decode()
    for name, extra in (("streamed", ()), ("memory", ("--sep", ","))):
        out = tmp_path / f"{name}.csv"
        done = _segmint(
            "features", str(path), "--spec", str(spec), "--as-of", "1997-04-01",
            "--out", str(out), *extra,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        assert "segmint-sample" not in done.stderr.decode()
        pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(reference), rtol=1e-12)
    # Without the spec, numbers are no dates: the no-header warning says how to name them.
    loaded = read_table(path)
    assert loaded.details["number_date_columns"] == {}
    assert "name the id with --id column_1" in loaded.details["warnings"][0]


def test_headerless_log_read_by_content_as_its_named_twin(tmp_path: Path) -> None:
    # no header: the repeating first column, the YYYYMMDD numbers and the decimals that grow
    # with the count beside them are the customer, the date and the line total
    reference, comma, aligned = write_headerless(tmp_path)
    today = dt.date(2024, 1, 1)
    expected = log_features(reference, today=today).result.features
    for path, extra in ((comma, {}), (comma, {"sep": ","}), (aligned, {})):
        run = log_features(path, today=today, **extra)
        assert run.roles == ColumnRoles(
            "transactions", "column_1", time="column_2", amount="column_4"
        )
        pd.testing.assert_frame_equal(run.result.features, expected, check_exact=False, rtol=1e-9)
    done = _segmint("fit", str(aligned), "--out", str(tmp_path / "run"), "--json")
    assert done.returncode == 0, done.stderr.decode()
    summary = json.loads(done.stdout)
    assert summary["n_customers"] == pd.read_csv(reference)["customer_id"].nunique()
    assert any(
        "read as a transaction log from what its columns hold: customer id column_1, date "
        "column_2 (YYYYMMDD), amount column_4" in w
        for w in summary["warnings"]
    ), summary["warnings"]


def test_headerless_content_that_does_not_decide_is_not_guessed(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    ids = rng.integers(1, 61, 400)
    dates = [19970101 + int(rng.integers(0, 12)) * 100 + int(rng.integers(0, 28)) for _ in ids]
    counts = rng.integers(1, 9, 400)
    prices = rng.uniform(1, 30, 400)  # a unit price: does not grow with the count
    lines = list(zip(ids, dates, counts, prices, strict=True))
    shapes = {
        "price": [f"{c:05d},{d},{q},{p:.2f}" for c, d, q, p in lines],
        "two decimals": [f"{c:05d},{d},{p:.2f},{p * q:.2f}" for c, d, q, p in lines],
    }
    for name, rows in shapes.items():
        path = tmp_path / f"{name}.csv"
        path.write_text("\n".join(rows) + "\n")
        frame = read_table(path).frame
        assert detect_roles(frame).kind == "customers", name
        done = _segmint("fit", str(path), "--out", str(tmp_path / name), "--json")
        assert done.returncode == 0, done.stderr.decode()
        warnings = json.loads(done.stdout)["warnings"]
        assert any(
            "column 'column_1' repeats" in w and "'column_2' holds dates" in w for w in warnings
        ), warnings


def test_first_row_of_data_with_names_and_a_date_is_no_header(tmp_path: Path) -> None:
    # product names and codes with letters in the first row, but a date over the dates:
    # data, not a header
    path = tmp_path / "lines.csv"
    path.write_text(
        "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850\n"
        "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850\n"
        "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17851\n"
    )
    loaded = read_table(path)
    assert loaded.details["header"] is False
    assert list(loaded.frame.columns) == [f"column_{j}" for j in range(1, 8)]
    assert len(loaded.frame) == 3
    # a header over dates and numbers stays a header
    path.write_text("InvoiceNo,StockCode,InvoiceDate\n536365,85123A,2010-12-01 08:26:00\n")
    assert read_table(path).details["header"] is True


@pytest.mark.parametrize("kind", ["epoch_s", "epoch_ms", "excel_serial"])
def test_number_dates_streamed_as_in_memory(tmp_path: Path, kind: str) -> None:
    comma, _ = write_twins(tmp_path, n_customers=30)
    log = pd.read_csv(comma)
    days = (pd.to_datetime(log["date"].astype(str)) - pd.Timestamp("1970-01-01")).dt.days
    log["date"] = {"epoch_s": days * 86_400, "epoch_ms": days * 86_400_000,
                   "excel_serial": days + 25_569}[kind]  # fmt: skip
    path = tmp_path / "numbers.csv"
    log.to_csv(path, index=False)
    assert read_table(path).details["number_date_columns"] == {"date": kind}
    for name, extra in (("streamed", ()), ("memory", ("--sep", ","))):
        done = _segmint("features", str(path), "--out", str(tmp_path / f"{name}.csv"), *extra)
        assert done.returncode == 0, done.stderr.decode()
    reference = tmp_path / "reference.csv"
    assert _segmint("features", str(comma), "--sep", ",", "--out", str(reference)).returncode == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "streamed.csv"), pd.read_csv(tmp_path / "memory.csv"), rtol=1e-12
    )
    assert (tmp_path / "memory.csv").read_bytes() == reference.read_bytes()
