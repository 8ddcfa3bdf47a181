"""The service's single-customer fast path gives exactly the answer of ``segmint assign``:
for every clustering family's assigner (nearest centre, mixture posterior, nearest core
point with HDBSCAN's unassigned -1, tiers), for random and awkward values, and on a real
dataset against the batch path."""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmint import segment
from segmint.errors import DataError
from segmint.io import read_table
from segmint.pipeline import SegmentationModel
from segmint.web.assigner import FastAssigner


def _training(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    groups = np.repeat([0, 1, 2], n // 3)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:03d}" for i in range(n)],
            "spend": np.array([50.0, 400.0, 1500.0])[groups] * rng.uniform(0.8, 1.2, n),
            "visits": np.array([2, 10, 30])[groups] + rng.integers(0, 3, n),
            "plan": np.array(["basic", "plus", "pro"])[groups],
            "region": rng.choice(["north", "south"], n),
        }
    )
    frame.loc[::17, "spend"] = np.nan  # an imputed column with a missing indicator
    return frame


FAMILIES = ["kmeans", "gmm", "ward", "genie", "birch", "hdbscan", "consensus", "tiers"]


@functools.cache
def _models() -> dict[str, SegmentationModel]:
    """One model of every family (and one within tiers), fitted once."""
    frame = _training()
    out = {}
    for family in FAMILIES:
        if family == "tiers":
            result = segment(frame, customer_col="customer_id", algorithm="kmeans", within="region")
        else:
            k: Any = "auto" if family == "hdbscan" else 3
            result = segment(frame, k=k, customer_col="customer_id", algorithm=family)
        out[family] = result.model
    return out


def _queries(n: int = 300, seed: int = 1) -> pd.DataFrame:
    """Half near the training customers, half anywhere; unseen, blank and padded levels."""
    rng = np.random.default_rng(seed)
    near = _training(n // 2, seed=seed + 10).drop(columns="customer_id")
    anywhere = pd.DataFrame(
        {
            "spend": rng.uniform(-100, 5000, n - len(near)),
            "visits": rng.integers(0, 60, n - len(near)),
            "plan": rng.choice(["basic", "plus", "pro", "gold", " pro ", ""], n - len(near)),
            "region": rng.choice(["north", "south", "east"], n - len(near)),
        }
    )
    frame = pd.concat([near, anywhere], ignore_index=True)
    frame.insert(0, "customer_id", [f"N{i}" for i in range(len(frame))])
    return frame


def _features(record: dict[str, Any]) -> dict[str, Any]:
    """A frame row as a JSON client sends it (Python scalars; NaN as null)."""
    out = {}
    for key, value in record.items():
        if key == "customer_id":
            continue
        value = value.item() if hasattr(value, "item") else value
        out[key] = None if isinstance(value, float) and math.isnan(value) else value
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_labels_one_customer_as_the_batch_does(family: str) -> None:
    model = _models()[family]
    queries = _queries()
    expected, _ = model.label_customers(queries)
    fast = FastAssigner(model)
    got = [fast.assign(r["customer_id"], _features(r)) for r in queries.to_dict(orient="records")]
    assert [g.segment for g in got] == expected["segment"].tolist()
    assert [g.segment_name for g in got] == expected["segment_name"].tolist()
    assert [g.confidence for g in got] == expected["confidence"].tolist()
    if family == "hdbscan":  # both outcomes are exercised: assigned and unassigned (-1)
        assert 0 < (expected["segment"] == -1).sum() < len(queries)


_number = st.one_of(
    st.none(),
    st.floats(),  # any magnitude: prepared values are held within +/- 1e100
    st.floats(-1e12, 1e12),
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.integers(-(2**60), 2**60),
    st.booleans(),
    st.sampled_from(["12.5", "", " 7 ", "n/a"]),
)
_level = st.one_of(
    st.none(), st.sampled_from(["basic", "plus", "pro", " plus", "", "gold"]), st.integers(0, 3)
)


@settings(max_examples=150, deadline=None)
@given(
    spend=_number,
    visits=_number,
    plan=_level,
    region=st.sampled_from(["north", "south", " south ", "east", None]),
    dropped=st.sets(st.sampled_from(["spend", "visits", "plan", "region"]), max_size=1),
    family=st.sampled_from(["kmeans", "gmm", "hdbscan", "tiers"]),
)
def test_any_values_follow_the_rules_of_segmint_assign(
    spend: Any,
    visits: Any,
    plan: Any,
    region: Any,
    dropped: set[str],
    family: str,
) -> None:
    """Missing columns and nulls imputed, unseen levels, non-numbers: same segment,
    confidence and notes as :meth:`SegmentationModel.label_customers` on that one row."""
    features = {"spend": spend, "visits": visits, "plan": plan, "region": region}
    for column in dropped:
        del features[column]
    model = _models()[family]
    frame = pd.DataFrame({"customer_id": ["X"], **{k: [v] for k, v in features.items()}})
    try:
        expected, notes = model.label_customers(frame)
    except DataError as exc:  # a model within tiers without its tier column
        with pytest.raises(DataError, match=re.escape(str(exc))):
            FastAssigner(model).assign("X", features)
        return
    got = FastAssigner(model).assign("X", features)
    assert got.segment == int(expected["segment"].iloc[0])
    assert got.confidence == float(expected["confidence"].iloc[0])
    assert got.notes == notes


def test_real_customers_match_the_batch_path(shared_data: Path) -> None:
    """Telco churn (categorical, yes/no and text-number columns): 400 customers one by one
    against ``model.assign`` of the file, the path of ``segmint assign``."""
    loaded = read_table(shared_data / "telco-churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv")
    model = segment(loaded.frame, k=4, algorithm="kmeans", exclude=("Churn",)).model
    sample = loaded.frame.sample(400, random_state=0)
    batch = model.assign(sample).assignments.set_index("customer_id")
    fast = FastAssigner(model)
    for record in sample.to_dict(orient="records"):
        customer = str(record["customerID"])
        got = fast.assign(customer, _features(record))
        want = batch.loc[customer]
        assert (got.segment, got.confidence) == (want["segment"], want["confidence"]), customer


@pytest.mark.parametrize("family", FAMILIES)
def test_absurd_magnitudes_get_a_segment_and_a_finite_confidence(family: str) -> None:
    model = _models()[family]
    queries = pd.DataFrame(
        {
            "customer_id": ["huge", "tiny", "inf"],
            "spend": [1e200, -1e300, math.inf],
            "visits": [1e250, 3, -math.inf],
            "plan": ["pro", "basic", "plus"],
            "region": ["north", "south", "north"],
        }
    )
    expected, _ = model.label_customers(queries)
    assert np.isfinite(expected["confidence"]).all()
    fast = FastAssigner(model)
    got = [fast.assign(r["customer_id"], _features(r)) for r in queries.to_dict(orient="records")]
    assert [g.segment for g in got] == expected["segment"].tolist()
    assert [g.confidence for g in got] == expected["confidence"].tolist()
