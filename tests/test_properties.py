"""Properties of :func:`segmint.segment` checked with hypothesis.

* Row order does not matter: shuffling a customer table or a transaction log gives the
  same partition of the customers (segment ids may be relabelled; whether they were
  identical is recorded as a hypothesis event, shown with --hypothesis-show-statistics).
* Every customer is accounted for: assignments and excluded together list every distinct
  non-missing id exactly once, and every row without an id is excluded as
  ``no_customer_id``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import event, given, settings
from hypothesis import strategies as st

import segmint

FAST = settings(max_examples=15, deadline=None)


def partition(result: segmint.SegmentationResult) -> dict[str, int]:
    """customer id -> segment id."""
    frame = result.assignments
    return dict(zip(frame["customer_id"].astype(str), frame["segment"].astype(int), strict=True))


def assert_same_partition(before: dict[str, int], after: dict[str, int]) -> bool:
    """The two labellings split the customers the same way; returns whether ids are equal too."""
    assert before.keys() == after.keys()
    mapping: dict[int, int] = {}
    for customer, old in before.items():
        new = after[customer]
        assert mapping.setdefault(old, new) == new, f"segment {old} is split by the shuffle"
    assert len(set(mapping.values())) == len(mapping), f"segments merged by the shuffle: {mapping}"
    identical = all(old == new for old, new in mapping.items())
    event(
        "segment ids identical after shuffle" if identical else "segment ids relabelled by shuffle"
    )
    return identical


@st.composite
def grouped_customers(draw: st.DrawFn) -> pd.DataFrame:
    """30-90 customers in 3 well separated groups on two numbers and a category."""
    n = draw(st.integers(30, 90))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    sizes = [10, 10, 10]
    for _ in range(n - 30):
        sizes[int(rng.integers(3))] += 1
    group = np.repeat([0, 1, 2], sizes)
    rng.shuffle(group)
    age = np.array([25.0, 45.0, 65.0])[group] + rng.normal(0, 2.0, n)
    spend = np.array([200.0, 1200.0, 3000.0])[group] + rng.normal(0, 60.0, n)
    channel = np.array(["web", "store", "phone"])[group]
    ids = rng.permutation(n) + 1000
    return pd.DataFrame(
        {
            "customer_id": [f"K{i}" for i in ids],
            "age": np.round(age, 1),
            "spend": np.round(spend, 2),
            "channel": channel,
        }
    )


@FAST
@given(frame=grouped_customers(), order_seed=st.integers(0, 2**32 - 1))
def test_shuffled_customer_table_same_partition(frame: pd.DataFrame, order_seed: int) -> None:
    before = segmint.segment(frame, random_state=0)
    shuffled = frame.sample(frac=1.0, random_state=np.random.RandomState(order_seed % 2**32))
    after = segmint.segment(shuffled.reset_index(drop=True), random_state=0)
    assert before.model.k == after.model.k
    assert_same_partition(partition(before), partition(after))
    assert sorted(s["size"] for s in before.summary["segments"]) == sorted(
        s["size"] for s in after.summary["segments"]
    )


@st.composite
def grouped_log(draw: st.DrawFn) -> pd.DataFrame:
    """A transaction log of 18-45 customers in 3 behaviour groups."""
    per_group = draw(st.integers(6, 15))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    end = dt.datetime(2024, 12, 31, 12, 0)
    profiles = [  # orders, days back (low, high), order value (low, high)
        (10, (0, 40), (200.0, 400.0)),
        (1, (300, 360), (5.0, 15.0)),
        (4, (100, 200), (50.0, 90.0)),
    ]
    rows = []
    order = 0
    for g, (count, (near, far), (low, high)) in enumerate(profiles):
        for c in range(per_group):
            customer = f"G{g}-{c:02d}"
            for _ in range(count + int(rng.integers(0, 2))):
                order += 1
                when = end - dt.timedelta(
                    days=int(rng.integers(near, far + 1)), minutes=int(rng.integers(0, 600))
                )
                rows.append(
                    (customer, f"INV{order:05d}", when, round(float(rng.uniform(low, high)), 2))
                )
    return pd.DataFrame(rows, columns=["customer_id", "invoice", "invoice_date", "amount"])


@FAST
@given(log=grouped_log(), order_seed=st.integers(0, 2**32 - 1))
def test_shuffled_transaction_log_same_partition(log: pd.DataFrame, order_seed: int) -> None:
    before = segmint.segment(log, random_state=0)
    assert before.summary["input_kind"] == "transactions"
    shuffled = log.sample(frac=1.0, random_state=np.random.RandomState(order_seed % 2**32))
    after = segmint.segment(shuffled.reset_index(drop=True), random_state=0)
    assert before.model.k == after.model.k
    assert_same_partition(partition(before), partition(after))
    # the derived features do not depend on the row order either
    pd.testing.assert_frame_equal(before.features, after.features, check_exact=False, rtol=1e-9)


ID_POOL = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]


@st.composite
def messy_customers(draw: st.DrawFn) -> pd.DataFrame:
    """5-40 rows; ids from a small pool (so duplicates), some missing, some padded."""
    n = draw(st.integers(5, 40))
    raw_ids = draw(
        st.lists(
            st.one_of(
                st.sampled_from(ID_POOL),
                st.sampled_from(ID_POOL).map(lambda s: f"  {s} "),  # same id, padded
                st.sampled_from([None, "", "   "]),  # missing
            ),
            min_size=n,
            max_size=n,
        )
    )
    noise = draw(st.lists(st.floats(0, 5, allow_nan=False), min_size=n, max_size=n))
    plan = draw(st.lists(st.sampled_from(["basic", "plus"]), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "customer_id": pd.Series(raw_ids, dtype=object),
            # distinct on every row: no exact duplicate rows, never constant
            "spend": [10.0 * i + x for i, x in enumerate(noise)],
            "plan": plan,
        }
    )


def distinct_ids(frame: pd.DataFrame) -> set[str]:
    return {str(v).strip() for v in frame["customer_id"] if v is not None and str(v).strip()}


def missing_rows(frame: pd.DataFrame) -> int:
    return sum(1 for v in frame["customer_id"] if v is None or not str(v).strip())


@FAST
@given(frame=messy_customers())
def test_every_customer_accounted_for(frame: pd.DataFrame) -> None:
    expected = distinct_ids(frame)
    if len(expected) < 2:
        event("fewer than two customers: refused")
        try:
            segmint.segment(frame, random_state=0)
        except segmint.DataError:
            return
        raise AssertionError("segmenting fewer than two customers should be a DataError")
    result = segmint.segment(frame, random_state=0)
    assigned = result.assignments["customer_id"].astype(str).tolist()
    excluded = result.excluded
    named = [str(i) for i in excluded["customer_id"] if isinstance(i, str) and i]
    assert len(assigned) == len(set(assigned))
    assert len(named) == len(set(named))
    assert not set(assigned) & set(named)
    assert set(assigned) | set(named) == expected
    no_id = excluded[excluded["reason"] == "no_customer_id"]
    assert len(no_id) == missing_rows(frame)
    assert (no_id["customer_id"].fillna("") == "").all()
    assert result.summary["data"]["rows_without_customer_id"] == missing_rows(frame)
    kept = sum(1 for v in frame["customer_id"] if v is not None and str(v).strip())
    assert result.summary["data"]["duplicate_id_rows_dropped"] == kept - len(expected)
    assert result.summary["n_customers"] + len(named) == len(expected)
    # the first row of each id is the one kept
    first = {}
    for raw, spend in zip(frame["customer_id"], frame["spend"], strict=True):
        if raw is not None and str(raw).strip():
            first.setdefault(str(raw).strip(), spend)
    kept_spend = dict(
        zip(result.features["customer_id"].astype(str), result.features["spend"], strict=True)
    )
    assert kept_spend == {k: first[k] for k in kept_spend}
