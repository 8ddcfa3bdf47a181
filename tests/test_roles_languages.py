"""Customer ids found as a person finds them, and logs named in other languages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmint.features import detect_roles
from segmint.features.vocabulary import id_kind, name_key
from segmint.prepare import fit_preparation
from segmint.runner import fit_file


def basket_log(households: int = 120, seed: int = 3) -> pd.DataFrame:
    """A grocery basket log: households buy baskets of products in stores."""
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(households):
        for b in range(int(rng.integers(1, 8))):
            day = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 365)))
            store = int(rng.integers(1, 20))
            for _ in range(int(rng.integers(1, 4))):
                quantity = int(rng.integers(1, 4))
                rows.append((
                    7001 + 3 * h, store, 90_000 + 10 * h + b, int(rng.integers(10_000, 99_999)),
                    day.date().isoformat(), quantity, round(quantity * rng.gamma(2.0, 2.0), 2),
                ))  # fmt: skip
    columns = ["household_id", "store_id", "basket_id", "product_id", "date", "quantity",
               "sales_value"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def test_basket_log_of_households_with_no_options(tmp_path: Path) -> None:
    path = tmp_path / "transactions.csv"
    basket_log().to_csv(path, index=False)
    run = fit_file(path, out_dir=tmp_path / "out")
    summary = run.summary
    assert summary["input_kind"] == "transactions"
    assert summary["roles"] == {
        "kind": "transactions", "customer": "household_id", "time": "date",
        "amount": "sales_value", "quantity": None, "price": None, "order": "basket_id",
    }  # fmt: skip
    spec = run.result.model.params["feature_spec"]["columns"]
    assert spec["product"] == "product_id"
    assert "store_id" not in spec.values()  # not a feature, not a role
    assert not any("store" in f or "product_id" in f for f in summary["features_used"])
    segments = pd.read_csv(tmp_path / "out" / "segments.csv", dtype={"customer_id": str})
    assert set(segments["customer_id"]) == {str(7001 + 3 * h) for h in range(120)}


def test_demographics_keep_household_id_as_the_id(tmp_path: Path) -> None:
    n = 150
    rng = np.random.default_rng(1)
    demo = pd.DataFrame(
        {
            "household_id": 7001 + 3 * rng.permutation(n),  # unique, not 1, 2, 3, ...
            "age_band": rng.choice(["19-24", "25-34", "35-44", "45-54", "65+"], n),
            "income_band": rng.choice(["under 15K", "15-24K", "25-34K", "50-74K"], n),
            "household_size": rng.integers(1, 6, n),
            "home_store_id": rng.integers(1, 6, n),  # an id of stores: never a number
        }
    )
    path = tmp_path / "demographics.csv"
    demo.to_csv(path, index=False)
    summary = fit_file(path, out_dir=tmp_path / "out", k=3).summary
    assert summary["roles"]["customer"] == "household_id"
    segments = pd.read_csv(tmp_path / "out" / "segments.csv", dtype={"customer_id": str})
    assert sorted(segments["customer_id"]) == sorted(demo["household_id"].astype(str))
    decisions = {d["column"]: d for d in summary["preparation"]["decisions"]}
    assert decisions["home_store_id"]["action"] == "dropped"
    assert decisions["home_store_id"]["reason"].startswith("identifier-like (named as an id")
    assert summary["warnings"] == [] or not any("no customer id" in w for w in summary["warnings"])


LANGUAGES = {
    "de": ("Kundennummer", "Datum", "Betrag", "Menge", "Rechnungsnummer", "Artikel"),
    "es": ("Cliente", "Fecha", "Importe", "Cantidad", "Factura", "Producto"),
    "fr": ("N° client", "Date", "Montant", "Quantité", "Facture", "Produit"),
}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_a_log_named_in_another_language_is_segmented(language: str, tmp_path: Path) -> None:
    customer, date, amount, quantity, order, product = LANGUAGES[language]
    log = basket_log(households=100, seed=len(language))
    named = pd.DataFrame(
        {
            customer: log["household_id"], date: log["date"], amount: log["sales_value"],
            quantity: log["quantity"], order: log["basket_id"], product: log["product_id"],
        }
    )  # fmt: skip
    path = tmp_path / f"{language}.csv"
    named.to_csv(path, index=False, sep=";", encoding="utf-8")
    run = fit_file(path, out_dir=tmp_path / "out")
    roles = run.summary["roles"]
    assert roles["kind"] == "transactions"
    assert (roles["customer"], roles["time"], roles["amount"], roles["order"]) == (
        customer, date, amount, order,
    )  # fmt: skip
    assert run.result.model.params["feature_spec"]["columns"]["product"] == product
    assert run.summary["n_customers"] + run.summary["n_excluded"] == 100


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("household_id", "customer"), ("HOUSEHOLD_KEY", "customer"), ("KundenID", "customer"),
        ("Kunden-Nr.", "customer"), ("klantnummer", "customer"), ("id_cliente", "customer"),
        ("Nº Cliente", "customer"), ("loyalty_card_number", "customer"),
        ("customerId", "customer"), ("Kunde", "customer-word"), ("client", "customer-word"),
        ("store_id", "entity"), ("BASKET_ID", "entity"), ("InvoiceNo", "entity"),
        ("StockCode", "entity"), ("Rechnungsnummer", "entity"), ("ID", "generic"),
        ("person_id", "generic"),
        # words that only end or begin like an id word, and counts
        ("paid", None), ("Idade", None), ("valid", None), ("num_items", None),
        ("NumWebPurchases", None), ("no_children", None), ("zip_code", None),
        ("Dt_Customer", None), ("member_since", None), ("account_length", None),
    ],
)  # fmt: skip
def test_id_names(name: str, kind: str | None) -> None:
    assert id_kind(name) == kind


def test_name_keys_ignore_case_accents_and_separators() -> None:
    assert name_key("Quantité") == "quantite" == name_key("QUANTITE")
    assert name_key("Preço unitário") == "precounitario"
    assert name_key("Stückzahl") == "stuckzahl"


def test_customer_ids_rank_before_other_ids() -> None:
    frame = pd.DataFrame(
        {
            "store_id": [1, 2, 3, 4],  # unique here, yet not who buys
            "member_no": ["m1", "m2", "m1", "m3"],
            "basket_id": [10, 11, 12, 13],
        }
    )
    assert detect_roles(frame).customer == "member_no"
    stores = frame[["store_id"]].assign(sales=[1.0, 2.0, 3.0, 4.0])
    assert detect_roles(stores).customer == "store_id"  # a table of stores


def test_short_foreign_words_do_not_fire_inside_english_names() -> None:
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b"],
            "metadata": ["x", "y", "z", "w"],  # not Portuguese "data"
            "annotation": ["n", "n", "m", "m"],  # not Portuguese "nota"
            "when": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-02", "2024-02-01"]),
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    roles = detect_roles(log)
    assert (roles.kind, roles.time, roles.order) == ("transactions", "when", None)


def test_a_repeating_customer_id_beside_dates_without_amounts_is_said() -> None:
    from segmint.errors import DataError

    frame = pd.DataFrame(
        {
            "Kunde": ["a", "a", "b"],
            "Datum": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "Farbe": ["rot", "blau", "rot"],
        }
    )
    with pytest.raises(DataError, match="looks like a transaction log, but no amount column"):
        detect_roles(frame, source="x.csv")
    assert detect_roles(frame, kind="customers").customer == "Kunde"


def test_id_named_columns_are_never_numbers() -> None:
    n = 60
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "store_id": np.arange(n) % 4,
            "Filialnummer": np.arange(n) % 3,
            "spend": np.linspace(1.0, 9.0, n),
        }
    )
    prep = fit_preparation(frame, exclude=("customer_id",))
    assert prep.input_columns == ["spend"]


def test_a_table_without_an_id_says_how_to_name_one(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"age": rng.integers(18, 80, 90), "spend": rng.gamma(2.0, 50.0, 90)})
    path = tmp_path / "people.csv"
    table.to_csv(path, index=False)
    summary = fit_file(path, out_dir=tmp_path / "out", k=2).summary
    assert summary["roles"]["customer"] is None
    assert summary["data"]["customer_id"].startswith("row number")
    assert any(
        w.startswith("no customer id column found: each row is one customer, numbered by its "
                     "position (1 to 90 in row_number") and "--id COLUMN" in w
        for w in summary["warnings"]
    )  # fmt: skip
    segments = pd.read_csv(tmp_path / "out" / "segments.csv")
    assert segments["row_number"].tolist() == list(range(1, 91))
