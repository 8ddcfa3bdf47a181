"""`segmint features`, and the feature spec and id options of `fit` and `assign`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from segmint.cli import app
from segmint.datasets import make_transactions
from segmint.features.spec import FAMILIES

SPEC_TOML = """
[features]
families = ["rfm", "trend", "discount"]
trend_days = 30

[cleaning]
extra_non_product_codes = ["GIFT"]
"""
SPEC_YAML = """
features:
  families: [rfm, trend, discount]
  trend_days: 30
cleaning:
  extra_non_product_codes: [GIFT]
"""


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def usage_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1, (
        result.stderr
    )
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture(scope="module")
def log_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    log = make_transactions(150, seed=3)
    path = tmp_path_factory.mktemp("log") / "log.csv"
    log.to_csv(path, index=False)
    return path


def read_features(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"customer_id": str}, keep_default_na=False, na_values=[""])


def test_features_writes_the_table_the_summary_and_the_excluded(
    log_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "features.csv"
    result = ok(invoke("features", log_csv, "--out", out))
    assert "customers" in result.stdout and str(out) in result.stdout
    table = read_features(out)
    assert list(table.columns[:6]) == [
        "customer_id",
        "recency_days",
        "frequency",
        "monetary",
        "avg_order_value",
        "tenure_days",
    ]
    assert list(table.columns[-2:]) == ["quality_score", "quality_reasons"]
    assert table["quality_score"].between(0, 1).all()
    assert table["customer_id"].is_unique
    summary = json.loads((tmp_path / "features.summary.json").read_text(encoding="utf-8"))
    assert summary["customers"] == len(table)
    assert summary["feature_spec"]["features"]["families"] == list(FAMILIES)
    assert len(summary["feature_spec_hash"]) == 16
    lines = summary["data"]["cleaning"]["lines"]
    assert lines["non_product"] > 0 and lines["voided"] == 2  # the absurd line and its cancellation
    assert summary["load"]["format"] == "csv" and summary["load"]["streamed"] is True
    log = pd.read_csv(log_csv, dtype={"CustomerID": str})
    customers = set(log["CustomerID"].dropna())
    excluded = (
        set(pd.read_csv(tmp_path / "features.excluded.csv", dtype=str)["customer_id"])
        if summary["excluded"]
        else set()
    )
    assert set(table["customer_id"]) | excluded == customers


def test_parquet_output_and_spec_files(log_csv: Path, tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(SPEC_TOML, encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(SPEC_YAML, encoding="utf-8")
    ok(
        invoke(
            "features", log_csv, "--out", tmp_path / "a.parquet", "--spec", tmp_path / "spec.toml"
        )
    )
    ok(invoke("features", log_csv, "--out", tmp_path / "b.csv", "--spec", tmp_path / "spec.yaml"))
    a = pd.read_parquet(tmp_path / "a.parquet")
    b = read_features(tmp_path / "b.csv")
    expected = [
        "customer_id", "recency_days", "frequency", "monetary", "avg_order_value", "tenure_days",
        "spend_last_30d", "spend_prev_30d", "orders_last_30d", "orders_prev_30d", "spend_trend",
        "orders_trend", "monthly_spend_slope", "discounted_share", "mean_discount",
        "quality_score", "quality_reasons",
    ]  # fmt: skip
    assert list(a.columns) == list(b.columns) == expected
    pd.testing.assert_series_equal(a["monetary"], b["monetary"], check_exact=False, rtol=1e-9)
    hashes = [
        json.loads((tmp_path / f"{n}.summary.json").read_text())["feature_spec_hash"] for n in "ab"
    ]
    assert hashes[0] == hashes[1]


def test_families_option_and_as_of(log_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    ok(
        invoke(
            "features",
            log_csv,
            "--out",
            out,
            "--families",
            "rfm,breadth",
            "--as-of",
            "2024-07-01",
            "--json",
        )
    )
    summary = json.loads((tmp_path / "f.summary.json").read_text())
    assert summary["data"]["as_of"] == "2024-07-01"
    assert summary["features"] == [
        "recency_days", "frequency", "monetary", "avg_order_value", "tenure_days",
        "distinct_products", "distinct_categories",
    ]  # fmt: skip
    assert (
        read_features(out)["tenure_days"].max()
        <= (pd.Timestamp("2024-07-01") - pd.Timestamp("2023-01-01")).days
    )


def test_usage_errors(log_csv: Path, tmp_path: Path) -> None:
    usage_error(
        invoke("features", log_csv, "--out", tmp_path / "f.txt"),
        "--out must end in .csv or .parquet",
    )
    usage_error(
        invoke("features", tmp_path / "none.csv", "--out", tmp_path / "f.csv"), "no such file"
    )
    usage_error(
        invoke("features", log_csv, "--out", tmp_path / "f.csv", "--families", "rfm,nope"),
        "unknown family 'nope'",
    )
    usage_error(
        invoke("features", log_csv, "--out", tmp_path / "f.csv", "--id-map", tmp_path / "m.csv"),
        "--id-map needs --hash-ids",
    )
    bad = tmp_path / "bad.toml"
    bad.write_text("[features]\ntrend_days = 'x'\n", encoding="utf-8")
    usage_error(
        invoke("features", log_csv, "--out", tmp_path / "f.csv", "--spec", bad),
        str(bad),
        "trend_days",
    )
    usage_error(
        invoke("features", log_csv, "--out", tmp_path / "f.csv", "--spec", tmp_path / "s.json"),
        ".toml, .yaml or .yml",
    )
    usage_error(
        invoke("features", log_csv, "--out", tmp_path / "f.csv", "--as-of", "1.1.2024"), "--as-of"
    )
    assert not (tmp_path / "f.csv").exists()


def test_hash_ids_with_an_id_map(log_csv: Path, tmp_path: Path) -> None:
    out, mapping = tmp_path / "f.csv", tmp_path / "map.csv"
    ok(
        invoke(
            "features", log_csv, "--out", out, "--hash-ids", "--salt", "pepper", "--id-map", mapping
        )
    )
    table = read_features(out)
    pairs = pd.read_csv(mapping, dtype=str)
    assert list(pairs.columns) == ["customer_id", "pseudonym"]
    expected = {
        c: hashlib.sha256(f"pepper:{c}".encode()).hexdigest()[:16] for c in pairs["customer_id"]
    }
    assert dict(zip(pairs["customer_id"], pairs["pseudonym"], strict=True)) == expected
    assert set(table["customer_id"]) <= set(expected.values())
    assert not set(table["customer_id"]) & set(expected)
    summary = json.loads((tmp_path / "f.summary.json").read_text())
    assert summary["ids"]["pseudonymised"] is True and "pepper" not in json.dumps(summary)


def test_email_ids_are_pseudonymised_unless_kept(tmp_path: Path) -> None:
    log = make_transactions(40, seed=5, dirty=False)
    log["CustomerID"] = log["CustomerID"].str.lower() + "@example.com"
    data = tmp_path / "mails.csv"
    log.to_csv(data, index=False)
    ok(invoke("features", data, "--out", tmp_path / "f.csv"))
    ids = read_features(tmp_path / "f.csv")["customer_id"]
    assert not ids.str.contains("@").any()
    summary = json.loads((tmp_path / "f.summary.json").read_text())
    assert summary["personal_data"][0] == {
        "column": "CustomerID",
        "kind": "email",
        "evidence": "values",
        "share": 1.0,
    }
    ok(invoke("features", data, "--out", tmp_path / "g.csv", "--keep-pii"))
    assert read_features(tmp_path / "g.csv")["customer_id"].str.endswith("@example.com").all()


def test_fit_stores_the_spec_and_assign_recomputes_the_same_features(
    log_csv: Path, tmp_path: Path
) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC_TOML, encoding="utf-8")
    out = tmp_path / "run"
    ok(invoke("fit", log_csv, "--out", out, "--spec", spec, "--k", "4", "--json"))
    summary = json.loads((out / "summary.json").read_text())
    model = json.loads((out / "model" / "model.json").read_text())
    assert model["params"]["feature_spec_hash"] == summary["feature_spec_hash"]
    assert model["params"]["feature_spec"]["features"]["families"] == ["rfm", "trend", "discount"]
    assert model["params"]["feature_spec"]["columns"]["discount"] == "Discount"
    assert summary["features"][-2:] == ["discounted_share", "mean_discount"]
    assert summary["load"]["streamed"] is True
    labels = tmp_path / "labels.csv"
    ok(invoke("assign", out, log_csv, "--out", labels))
    assert labels.read_bytes() == (out / "segments.csv").read_bytes()


def test_fit_and_assign_with_hashed_ids(log_csv: Path, tmp_path: Path) -> None:
    out, mapping = tmp_path / "run", tmp_path / "ids.csv"
    ok(
        invoke(
            "fit",
            log_csv,
            "--out",
            out,
            "--hash-ids",
            "--salt",
            "s1",
            "--id-map",
            mapping,
            "--k",
            "3",
        )
    )
    segments = pd.read_csv(out / "segments.csv", dtype=str)
    pairs = pd.read_csv(mapping, dtype=str)
    assert set(segments["customer_id"]) <= set(pairs["pseudonym"])
    everything = "".join(p.read_text(errors="ignore") for p in out.rglob("*") if p.is_file())
    assert not any(original in everything for original in pairs["customer_id"].head(50))
    labels = tmp_path / "labels.csv"
    ok(invoke("assign", out, log_csv, "--out", labels, "--hash-ids", "--salt", "s1"))
    assert labels.read_bytes() == (out / "segments.csv").read_bytes()
    usage_error(
        invoke("fit", log_csv, "--out", tmp_path / "r2", "--id-map", mapping),
        "--id-map needs --hash-ids",
    )


def test_personal_columns_of_a_customer_table_are_never_features(tmp_path: Path) -> None:
    rows = ["customer_id,email,full_name,phone,age,visits"]
    for i in range(60):
        rows.append(
            f"u{i},person{i}@mail.org,Person Number{i},+33 1 44 55 {i:02d} 00,{20 + i % 40},{i % 7}"
        )
    data = tmp_path / "people.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    ok(invoke("fit", data, "--out", out, "--k", "2", "--json"))
    summary = json.loads((out / "summary.json").read_text())
    kinds = {p["column"]: p["kind"] for p in summary["personal_data"]}
    assert kinds == {"email": "email", "full_name": "name", "phone": "phone"}
    assert set(summary["preparation"]["columns"]) <= {"age", "visits"}
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "person1@mail.org" not in report and "Person Number1" not in report


def test_fit_writes_the_quality_score_with_the_segments(log_csv: Path, tmp_path: Path) -> None:
    log = pd.read_csv(log_csv, dtype=str, keep_default_na=False)
    first = log.iloc[[0]]
    data = tmp_path / "log.csv"
    pd.concat([log, first, first], ignore_index=True).to_csv(data, index=False)
    ok(invoke("features", data, "--out", tmp_path / "features.csv"))
    features = read_features(tmp_path / "features.csv").set_index("customer_id")
    out = tmp_path / "run"
    ok(invoke("fit", data, "--out", out, "--k", "3"))
    segments = pd.read_csv(out / "segments.csv", dtype={"customer_id": str}, keep_default_na=False)
    assert list(segments.columns[-2:]) == ["quality_score", "quality_reasons"]
    by_id = segments.set_index("customer_id")
    assert by_id["quality_score"].to_dict() == features.loc[by_id.index, "quality_score"].to_dict()
    reasons = features.loc[by_id.index, "quality_reasons"].fillna("")
    assert by_id["quality_reasons"].to_dict() == reasons.to_dict()
    doubled = str(first["CustomerID"].iloc[0])
    rows = pd.read_csv(data, dtype=str, keep_default_na=False)
    copies = int(rows[rows["CustomerID"] == doubled].duplicated().sum())
    assert by_id.loc[doubled, "quality_reasons"].startswith(f"{copies} duplicate lines")
    assert by_id.loc[doubled, "quality_score"] < 1
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert not {"quality_score", "quality_reasons"} & set(summary["features_used"])
    assert not {"quality_score", "quality_reasons"} & set(summary["features"])


def test_a_log_of_returns_only_is_a_data_error_and_writes_nothing(tmp_path: Path) -> None:
    # no order at all: no top months to find, no customer to describe
    lines = ["customer_id,date,amount"]
    lines += [f"c{i % 4},2024-0{1 + i % 9}-15,-{5 + i}.0" for i in range(24)]
    data = tmp_path / "returns.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "features.csv"
    result = invoke("features", data, "--out", out)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stderr == f"error: {data}: no customer has an order (4 excluded)\n"
    assert list(tmp_path.iterdir()) == [data]
    fitted = invoke("fit", data, "--out", tmp_path / "run")
    assert fitted.exit_code == 1
    assert fitted.stderr == f"error: {data}: no customer could be segmented (4 excluded)\n"
    assert not (tmp_path / "run").exists()
