"""Streaming a file through DuckDB gives exactly what reading it into memory gives."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pandas as pd
import pytest

from segmint import scan, workplan
from segmint.datasets import write_transactions
from segmint.errors import DataError, InputFileError, UsageError
from segmint.features import FAMILIES, detect_roles, frame_features, spec_from_roles
from segmint.features.engine import TransactionFeatures
from segmint.io import read_table
from segmint.scan import read_sample, stream_features

TODAY = dt.date(2026, 1, 1)


def in_memory(path: Path, **kwargs: object) -> TransactionFeatures:
    loaded = read_table(path)
    spec = spec_from_roles(loaded.frame, detect_roles(loaded.frame, kind="transactions"))
    return frame_features(loaded.frame, spec, families=FAMILIES, today=TODAY, **kwargs)  # type: ignore[arg-type]


def streamed(path: Path, **kwargs: object) -> scan.StreamResult:
    source = read_sample(path)
    spec = spec_from_roles(
        source.sample.frame, detect_roles(source.sample.frame, kind="transactions")
    )
    return stream_features(
        source, spec, families=FAMILIES, today=TODAY, memory_limit="256MB", **kwargs
    )  # type: ignore[arg-type]


def assert_same(memory: TransactionFeatures, stream: TransactionFeatures) -> None:
    pd.testing.assert_frame_equal(memory.features, stream.features, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(memory.excluded, stream.excluded)
    assert memory.quality is not None and stream.quality is not None
    pd.testing.assert_frame_equal(memory.quality, stream.quality, check_exact=False, rtol=1e-9)
    a, b = dict(memory.account), dict(stream.account)
    a.pop("timings_seconds")
    b.pop("timings_seconds")
    assert a == b
    assert memory.spec == stream.spec


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("generated")
    paths = {}
    for suffix in ("csv", "parquet"):
        paths[suffix] = root / f"log.{suffix}"
        write_transactions(paths[suffix], 400, seed=7, chunk_customers=150)
    return paths


@pytest.mark.parametrize("work", ["memory", "file"])
@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_generator_log_streamed_equals_in_memory(
    generated: dict[str, Path], suffix: str, work: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = generated[suffix]
    if work == "file":
        monkeypatch.setattr(workplan, "LINE_BYTES", 1 << 40)  # the log "does not fit"
    result = streamed(path)
    assert result.load["work"]["work_database"] == work
    assert_same(in_memory(path), result.features)
    assert result.load["rows_read"] == len(pd.read_parquet(generated["parquet"]))
    assert result.features.spec is not None and result.features.spec.channel == "Channel"


def test_as_of_streamed_equals_in_memory(generated: dict[str, Path]) -> None:
    path = generated["parquet"]
    assert_same(in_memory(path, as_of="2024-06-30"), streamed(path, as_of="2024-06-30").features)


@pytest.mark.parametrize("work", ["memory", "file"])
def test_gzip_log_streamed_equals_the_plain_file(
    generated: dict[str, Path], tmp_path: Path, work: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = generated["csv"]
    packed = tmp_path / "log.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    if work == "file":
        monkeypatch.setattr(workplan, "LINE_BYTES", 1 << 40)
    assert scan.can_stream(packed)
    result = streamed(packed)
    assert result.load["work"]["work_database"] == work
    assert_same(streamed(plain).features, result.features)
    assert_same(in_memory(packed), result.features)  # read_table decompresses too
    assert result.load["rows_read"] == len(pd.read_parquet(generated["parquet"]))


def test_gzip_log_line_count_is_estimated_from_the_compressed_size(
    generated: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed = tmp_path / "log.csv.gz"
    packed.write_bytes(gzip.compress(generated["csv"].read_bytes()))
    monkeypatch.setattr(scan, "SAMPLE_BYTES", 50_000)  # a sample of part of the file
    source = read_sample(packed)
    assert not source.whole and source.gzip
    lines = len(pd.read_parquet(generated["parquet"]))
    assert 0.5 * lines < source.rows < 2 * lines


def test_gzip_log_in_another_encoding(tmp_path: Path) -> None:
    text = "customer;date;amount\r\n" + "".join(
        f"Müller{i % 3};0{1 + i % 9}.02.2024;{i},50\r\n" for i in range(12)
    )
    packed = tmp_path / "umsatz.csv.gz"
    packed.write_bytes(gzip.compress(text.encode("latin-1")))
    result = streamed(packed)
    assert result.load["encoding"] == "cp1252"
    assert_same(in_memory(packed), result.features)
    assert sorted(result.features.features["customer_id"]) == ["Müller0", "Müller1", "Müller2"]


def test_truncated_gzip_is_a_one_line_error(tmp_path: Path) -> None:
    packed = tmp_path / "log.csv.gz"
    packed.write_bytes(gzip.compress(b"customer,date,amount\n" + b"c1,2024-01-01,3\n" * 500)[:40])
    with pytest.raises(InputFileError, match=r"log\.csv\.gz: cannot decompress"):
        read_sample(packed)


def test_money_amounts_streamed_equal_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the sample sees plain numbers; money further down makes the whole file money, as
    # read_table decides it on the whole column
    lines = ["customer,date,amount"]
    lines += [f"c{i % 7},2024-0{1 + i % 9}-1{i % 10},{10 + i}.5" for i in range(300)]
    lines += ['c1,2024-03-03,"$1,200.00"', "c2,2024-03-04,($15.25)", "c3,2024-03-05,-$2"]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(scan, "SAMPLE_BYTES", 2_000)
    result = streamed(path)
    assert result.source.rules["amount"].kind == "money"
    assert result.load["money_columns"] == {"amount": "."}
    assert_same(in_memory(path), result.features)
    monetary = result.features.features.set_index("customer_id")["monetary"]
    assert monetary["c1"] == pytest.approx(sum(10 + i + 0.5 for i in range(1, 300, 7)) + 1200)


def test_money_with_a_decimal_comma_streamed_equals_in_memory(tmp_path: Path) -> None:
    lines = ["customer;date;amount"]
    lines += [f"K{i % 5};0{1 + i % 9}.02.2024;{i}.{i:03d},50 €" for i in range(1, 40)]
    path = tmp_path / "umsatz.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = streamed(path)
    assert result.load["money_columns"] == {"amount": ","}
    assert_same(in_memory(path), result.features)


def test_european_latin1_file(tmp_path: Path) -> None:
    lines = [
        "customer;order;date;product;quantity;price",
        " 0042 ;B1;03.02.2024 10:15;Käse;2;3,50",
        "0042;B1;03.02.2024 10:15;Brötchen;10;0,45",
        "",
        "0042;B2;17.02.2024 09:00;Käse;1;1.203,50",
        "0107;B3;05.01.2024 18:30;Wein;3;12,00",
        "0107;B4;NA;Wein;1;12,00",
        "0107;C5;06.01.2024 08:00;Wein;-1;12,00",
        "0999;B6;31.13.2024 08:00;Wein;1;12,00",
    ]
    lines += [f"0107;D{i};{i + 10:02d}.03.2024 12:00;Tee;1;2,50" for i in range(10)]
    path = tmp_path / "bestellungen.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    result = streamed(path)
    assert_same(in_memory(path), result.features)
    rows = result.features.features.set_index("customer_id")
    assert list(rows.index) == ["0042", "0107"]  # ids keep their zeros, spaces stripped
    assert rows.loc["0042", "monetary"] == pytest.approx(2 * 3.5 + 10 * 0.45 + 1203.5)
    assert rows.loc["0107", "frequency"] == 1 + 10
    assert result.load["encoding"] == "cp1252" and result.load["delimiter"] == ";"
    assert result.load["date_formats"] == {"date": "DD.MM.YYYY"}
    assert result.features.account["rows_with_unparseable_time"] == 2  # NA and 31.13.
    assert result.features.excluded.to_dict("records")[0]["reason"] == "no_valid_dates"


def test_decisions_revised_when_the_rest_of_the_file_disagrees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample sees numeric ids, integer prices and ambiguous day/month dates; later
    rows bring a text id, decimal commas and month-first dates: read_table's whole-file
    decisions are reproduced by a second pass."""
    lines = ["customer;order;date;amount"]
    for i in range(1, 6):
        lines.append(f"{i};o{i};0{i}/0{i}/2024 10:00;{i}")
    for i in range(6, 16):
        lines.append(f"{i % 4 + 1};p{i};01/{i + 10}/2024 12:00;{i},5")
    lines.append("X9;q1;02/20/2024 08:00;3")
    path = tmp_path / "later.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(scan, "SAMPLE_BYTES", 120)
    source = read_sample(path)
    assert not source.whole
    assert (
        source.rules["customer"].kind == "int" and source.rules["date"].date_label == "DD/MM/YYYY"
    )
    result = streamed(path)
    assert result.source.rules["customer"].kind == "text"
    assert result.source.rules["amount"].kind == "decimal_comma"
    assert result.source.rules["date"].date_label == "MM/DD/YYYY"
    assert result.load["date_formats"] == {"date": "MM/DD/YYYY"}
    assert_same(in_memory(path), result.features)
    assert "X9" in set(result.features.features["customer_id"])


def test_fractional_ids_beyond_the_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ["client,when,amount"] + [f"{i % 3 + 1},2024-01-{i + 1:02d},{i}.25" for i in range(12)]
    lines.append("2.5,2024-02-01,4.0")
    path = tmp_path / "ids.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(scan, "SAMPLE_BYTES", 80)
    result = streamed(path)
    assert result.source.rules["client"].kind == "float"
    assert_same(in_memory(path), result.features)
    assert set(result.features.features["customer_id"]) == {"1.0", "2.0", "3.0", "2.5"}


def test_parquet_native_types(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "CustomerID": [12346.0, 12346.0, None, 777.0],
            "InvoiceDate": pd.to_datetime(
                ["2024-01-01 10:00", "2024-01-03 11:00", "2024-01-04 00:00", "2024-01-02 00:00"]
            ).tz_localize("Europe/Paris"),
            "Quantity": [1, 2, 3, 4],
            "UnitPrice": [1.5, 2.0, 3.0, 4.0],
        }
    )
    path = tmp_path / "native.parquet"
    frame.to_parquet(path)
    result = streamed(path)
    assert_same(in_memory(path), result.features)
    rows = result.features.features.set_index("customer_id")
    assert list(rows.index) == ["12346", "777"]
    assert result.features.account["as_of"] == "2024-01-04"  # 11:00 Paris is 10:00 UTC


def test_non_numeric_values_in_a_value_column_are_a_data_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["customer,when,amount"] + [f"c{i % 2},2024-01-{i + 1:02d},{i}" for i in range(10)]
    lines.append("c1,2024-02-01,lots")
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(scan, "SAMPLE_BYTES", 60)
    with pytest.raises(
        DataError, match=r"column 'amount' has values that are not numbers \(e.g. 'lots'\)"
    ):
        streamed(path)


def test_unparseable_dates_beyond_the_sample_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["customer,when,amount"] + [f"c{i % 2},2024-01-{i + 1:02d},{i}" for i in range(20)]
    lines.append("c1,someday,5")
    path = tmp_path / "dates.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(scan, "SAMPLE_BYTES", 100)
    result = streamed(path)
    assert result.features.account["rows_with_unparseable_time"] == 1
    assert result.load["unparseable"]["when"]["count"] == 1
    assert_same(in_memory(path), result.features)


def test_unicode_spaces_around_values_are_stripped_as_in_memory(tmp_path: Path) -> None:
    rows = ["customer,order,when,product,quantity,price"]
    spaced = ["c1\u00a0", "\u2003c1", " c2\t", "c2", "\u3000c3 ", "c3", "c4\u00a0"]
    for i, cid in enumerate(spaced * 3):
        rows.append(f"{cid},o{i},2024-01-{i % 28 + 1:02d} 10:00,POST\u00a0 ,1,2.5")
        rows.append(f"{cid},o{i},2024-01-{i % 28 + 1:02d} 10:00,p{i % 4}\u2009,2,1.5")
    path = tmp_path / "spaces.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = streamed(path)
    assert_same(in_memory(path), result.features)
    assert list(result.features.features["customer_id"]) == ["c1", "c2", "c3", "c4"]
    assert result.features.account["cleaning"]["lines"]["non_product"] == len(spaced) * 3


def test_values_off_the_common_path_are_typed_as_in_memory(tmp_path: Path) -> None:
    # ids starting like an NA spelling (N..., n..., #..., <...), NA spellings, NaN and
    # blanks among numbers, numbers and dates with spaces: each takes the slow path
    rows = ["customer,order,when,product,quantity,price"]
    ids = ["Nora", "nils", "#7", "<b>", "NA", "c1", " c2 ", "N/A"]
    quantities = ["1", " 2 ", "nan", "NaN", "", "N/A", "3\u00a0", "4"]
    prices = ["1.5", "2.5 ", "\u20032", "NA", "1e1", "7", "0.5", "NULL"]
    whens = ["2024-01-02 10:00", " 2024-01-03 10:00", "2024-01-04 10:00\u00a0", "NaT",
             "2024-01-05", "", "2024-01-06 11:00 ", "2024-01-07"]  # fmt: skip
    for rep in range(3):
        for i, cid in enumerate(ids):
            q, p, w = quantities[(i + rep) % 8], prices[(i + 2 * rep) % 8], whens[(i + rep) % 8]
            rows.append(f"{cid},o{rep}{i},{w},p{i % 3},{q},{p}")
            rows.append(f"{cid},x{rep}{i},2024-02-0{rep + 1} 09:00,p{i % 3},2,3.5")
    path = tmp_path / "odd.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = streamed(path)
    assert_same(in_memory(path), result.features)
    found = set(result.features.features["customer_id"])
    assert {"Nora", "nils", "#7", "<b>", "c1", "c2"} <= found and "NA" not in found


def test_excel_separator_hint_and_blank_lines_before_the_header(tmp_path: Path) -> None:
    rows = ["", "", "sep=;", "customer;when;amount"]
    rows += [f"k{i % 5};2024-0{i % 9 + 1}-1{i % 10} 10:00;{i},{i % 10}" for i in range(40)]
    path = tmp_path / "hinted.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = streamed(path)
    assert result.source.skip == 3 and result.source.delimiter == ";"
    assert_same(in_memory(path), result.features)
    assert result.features.account["rows_read"] == 40


def test_utf16_files_are_read_into_memory(tmp_path: Path) -> None:
    from segmint.featurize import log_features
    from segmint.scan import can_stream

    rows = ["customer,when,amount"] + [f"k{i % 4},2024-01-{i + 1:02d},{i}.5" for i in range(20)]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-16")
    assert not can_stream(path)
    run = log_features(path, today=TODAY)
    assert "streamed" not in run.load and run.load["encoding"] == "utf-16"
    assert len(run.result.features) == 4


def test_sizes_are_read_as_duckdb_spells_them() -> None:
    assert scan.parse_size("1GB") == 10**9
    assert scan.parse_size(" 512 MiB ") == 512 << 20
    assert scan.parse_size("1.5gib") == 3 << 29
    assert scan.parse_size("2000") == 2000
    with pytest.raises(UsageError, match="'lots' is not a size"):
        scan.parse_size("lots")


def test_work_plan_keeps_small_logs_in_memory_and_bounds_large_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workplan, "physical_memory", lambda: 24 << 30)
    small = scan.plan_work(1_000_000)
    assert (small.in_memory, small.memory_limit) == (True, "4096MiB")  # a quarter, capped
    large = scan.plan_work(50_000_000)
    assert (large.in_memory, large.memory_limit) == (False, "1GB")
    assert scan.plan_work(16_000_000).in_memory is True
    assert scan.plan_work(18_000_000).in_memory is False
    monkeypatch.setattr(workplan, "physical_memory", lambda: 4 << 30)  # a small machine
    assert scan.plan_work(5_000_000).in_memory is False
    assert scan.plan_work(4_000_000).in_memory is True
    # a limit given is DuckDB's either way; the log stays in memory only within it
    assert scan.plan_work(1_000_000, "1GB") == scan.WorkPlan(
        True, "1GB", "about 1,000,000 lines fit the memory limit"
    )
    assert scan.plan_work(10_000_000, "1GB").in_memory is False
