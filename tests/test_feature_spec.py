"""The feature spec: TOML and YAML files, validation, hashing and column detection."""

from __future__ import annotations

import pandas as pd
import pytest

from segmint.errors import UsageError
from segmint.features import FIT_FAMILIES, FeatureSpec, detect_roles, parse_spec, spec_from_roles
from segmint.features.engine import choose_families
from segmint.features.spec import DEFAULT_NON_PRODUCT_CODES, detect_extra_columns

TOML = """
[columns]
customer = "CustomerID"
time = "InvoiceDate"
quantity = "Quantity"
price = "UnitPrice"
product = "StockCode"

[features]
families = ["rfm", "trend"]
trend_days = 30
windows = [7, 28]
hour_profile = false

[cleaning]
extra_non_product_codes = ["GIFTWRAP"]
absurd_quantity = 5000
"""

YAML = """
columns:
  customer: CustomerID
  time: InvoiceDate
  quantity: Quantity
  price: UnitPrice
  product: StockCode
features:
  families: [rfm, trend]
  trend_days: 30
  windows: [7, 28]
  hour_profile: false
cleaning:
  extra_non_product_codes: [GIFTWRAP]
  absurd_quantity: 5000
"""


def test_toml_and_yaml_give_the_same_spec_and_hash() -> None:
    toml = parse_spec(TOML, fmt="toml")
    yaml = parse_spec(YAML, fmt="yaml")
    assert toml == yaml
    assert toml.fingerprint() == yaml.fingerprint()
    assert toml.families == ("rfm", "trend")
    assert toml.windows == (7, 28)
    assert toml.hour_profile is False
    assert toml.non_product_codes == (*DEFAULT_NON_PRODUCT_CODES, "GIFTWRAP")
    assert toml.absurd_quantity == 5000.0


def test_round_trip_through_to_dict() -> None:
    spec = parse_spec(TOML)
    again = FeatureSpec.from_dict(spec.to_dict())
    assert again == spec and again.fingerprint() == spec.fingerprint()
    assert len(spec.fingerprint()) == 16
    assert FeatureSpec(trend_days=31).fingerprint() != FeatureSpec().fingerprint()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[column]\ncustomer = 'x'", "unknown section 'column'"),
        ("[features]\nfamily = ['rfm']", "unknown key features.family"),
        ("[features]\nfamilies = ['rfm', 'magic']", "unknown family 'magic'"),
        ("[features]\ntrend_days = 0", "trend_days must be at least 1"),
        ("[features]\ntrend_days = 'ninety'", "features.trend_days must be a whole number"),
        ("[features]\npeak_months = [13]", "peak_months must be months 1-12"),
        ("[features]\ndiscount_unit = 'euros'", "discount_unit must be one of"),
        ("[columns]\ncustomer = 3", "columns.customer must be a column name"),
        ("[columns]\namount = 'a'\nprice = 'p'", "give amount, or quantity and price, not both"),
        ("[cleaning]\nabsurd_quantity = -1", "absurd_quantity must be >= 0"),
        ("[cleaning]\nnon_product_codes = 'POST'", "must be a list of text values"),
        ("[features\n", "not valid TOML"),
    ],
)
def test_bad_specs_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_spec(text, source="spec.toml")


def test_bad_yaml_names_the_line() -> None:
    with pytest.raises(UsageError, match=r"not valid YAML at line [34]"):
        parse_spec("columns:\n  customer: x\n  time: [a, b\nfeatures: {}\n", fmt="yaml")


def log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "InvoiceNo": ["1", "1", "2"],
            "StockCode": ["A", "B", "A"],
            "Product Category": ["x", "y", "x"],
            "Sales Channel": ["web", "web", "app"],
            "Discount": [0.0, 0.1, 0.0],
            "CustomerID": ["c1", "c1", "c2"],
            "InvoiceDate": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02"]),
            "Quantity": [1, 2, 3],
            "UnitPrice": [1.0, 2.0, 3.0],
        }
    )


def test_extra_columns_are_detected_by_name() -> None:
    found = detect_extra_columns(log(), {"CustomerID", "InvoiceDate"})
    assert found == {
        "product": "StockCode",
        "category": "Product Category",
        "channel": "Sales Channel",
        "discount": "Discount",
    }


def test_spec_from_roles_keeps_what_the_spec_names() -> None:
    frame = log()
    roles = detect_roles(frame)
    spec = spec_from_roles(frame, roles, FeatureSpec.from_dict({"columns": {"channel": None}}))
    assert (spec.customer, spec.time, spec.quantity, spec.price, spec.order) == (
        "CustomerID", "InvoiceDate", "Quantity", "UnitPrice", "InvoiceNo",
    )  # fmt: skip
    assert spec.channel is None  # named as absent: not detected
    assert spec.product == "StockCode"


def test_default_families_skip_missing_columns_and_named_ones_are_checked() -> None:
    spec = FeatureSpec(customer="c", time="t", amount="a")
    assert choose_families(spec, FIT_FAMILIES) == ("rfm", "consistency", "trend", "seasonality")
    with pytest.raises(UsageError, match="'breadth' needs a product column"):
        choose_families(
            FeatureSpec(customer="c", time="t", amount="a", families=("breadth",)), FIT_FAMILIES
        )
