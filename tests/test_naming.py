"""Names: planted archetypes get the expected names; names are always unique."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmint.io import read_table
from segmint.naming import (
    ALL_CUSTOMERS_NAME,
    ARCHETYPES,
    UNASSIGNED_NAME,
    Differentiator,
    archetype_fits,
    archetype_names,
    differentiator_name,
    unique_names,
)
from segmint.pipeline import segment
from segmint.profile import segment_profiles

# recency days, orders, spend, tenure days, customers; each group sits where its
# archetype sits *relative to the others* (names follow relative position).
PLANTED = {
    "Champions": (4, 40, 20_000, 700, 50),
    "Loyal": (25, 15, 5_000, 650, 70),
    "New customers": (7, 1, 90, 9, 50),
    "About to sleep": (150, 2, 250, 420, 60),
    "At risk": (230, 12, 4_000, 640, 60),
    "Can't lose them": (270, 35, 18_000, 720, 30),
    "Lost": (340, 1, 60, 345, 60),
}


def _planted(
    groups: dict[str, tuple[float, float, float, float, int]], seed: int = 1
) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frames, labels = [], []
    for label, (r, f, m, t, n) in enumerate(groups.values()):
        frames.append(
            pd.DataFrame(
                {
                    "recency_days": rng.normal(r, r * 0.1 + 1, n),
                    "frequency": np.maximum(1, np.round(rng.normal(f, f * 0.1 + 0.1, n))),
                    "monetary": rng.normal(m, m * 0.1, n),
                    "tenure_days": rng.normal(t, t * 0.1, n),
                }
            )
        )
        labels += [label] * n
    return pd.concat(frames, ignore_index=True), np.array(labels)


def test_seven_planted_archetypes_get_their_names() -> None:
    values, labels = _planted(PLANTED)
    profiles = segment_profiles(values, labels, np.ones(len(labels)), len(PLANTED))
    assert [p.name for p in profiles] == list(PLANTED)
    assert all(p.action == ARCHETYPES[p.name][1] and p.name_source == "archetype" for p in profiles)


def test_names_follow_relative_position_not_cut_offs() -> None:
    # The same shop with every amount ten times larger and every gap twice as long:
    # positions (ranks) are unchanged, and so are the names.
    scaled = {k: (r * 2, f, m * 10, t * 2, n) for k, (r, f, m, t, n) in PLANTED.items()}
    values, labels = _planted(scaled)
    names = [p.name for p in segment_profiles(values, labels, np.ones(len(labels)), len(PLANTED))]
    assert names == list(PLANTED)


def test_column_names_in_other_spellings_are_recognised() -> None:
    values, labels = _planted(PLANTED)
    values.columns = ["Recency", "Frequency", "Monetary Value", "Tenure"]
    names = [p.name for p in segment_profiles(values, labels, np.ones(len(labels)), len(PLANTED))]
    assert names == list(PLANTED)


def test_more_segments_than_archetypes_still_unique() -> None:
    rng = np.random.default_rng(0)
    n = 14 * 20
    values = pd.DataFrame(
        {
            "recency_days": rng.uniform(1, 400, n),
            "frequency": rng.integers(1, 50, n).astype(float),
            "monetary": rng.uniform(10, 10_000, n),
        }
    )
    labels = np.repeat(np.arange(14), 20)
    profiles = segment_profiles(values, labels, np.ones(n), 14)
    names = [p.name for p in profiles]
    assert len(set(names)) == 14
    # Random segments all sit near the middle: only archetypes their recency, frequency
    # and monetary value agree with are given, the others are named by differences.
    named = [p for p in profiles if p.name_source == "archetype"]
    assert 0 < len(named) <= len(ARCHETYPES)
    assert all(archetype_fits(p.name, p.position) for p in named)


def test_one_segment_and_unassigned() -> None:
    values, labels = _planted(PLANTED)
    single = segment_profiles(values, np.zeros(len(labels), dtype=int), np.ones(len(labels)), 1)
    assert [p.name for p in single] == [ALL_CUSTOMERS_NAME]
    noisy = labels.copy()
    noisy[:5] = -1
    profiles = segment_profiles(values, noisy, np.ones(len(labels)), len(PLANTED))
    assert [p.id for p in profiles] == [*range(len(PLANTED)), -1]
    assert profiles[-1].name == UNASSIGNED_NAME and profiles[-1].size == 5
    assert profiles[-1].nearest is None
    assert sum(p.size for p in profiles) == len(labels)


def test_archetype_matching_is_one_to_one() -> None:
    # Two segments at the same position still get two different archetypes.
    same = {"recency": 0.9, "frequency": 0.9, "monetary": 0.9, "tenure": 0.7}
    names = archetype_names([same, same])
    assert names[0] != names[1] and set(names) <= set(ARCHETYPES)
    assert archetype_names([]) == []


def test_differentiator_names() -> None:
    high = Differentiator("income", 90.0, 50.0, 1.2)
    low = Differentiator("score", 10.0, 50.0, -1.1)
    level = Differentiator("Contract=Month-to-month", 0.9, 0.5, 0.8)
    absent = Differentiator("Partner=Yes", 0.1, 0.5, -0.8)
    assert differentiator_name([high, low], set())[0] == "High income, low score"
    assert differentiator_name([level, absent], set())[0] == (
        "Mostly month-to-month contract, no partner"
    )
    assert differentiator_name([high, low, level], {"High income, low score"})[0] == (
        "High income, low score, mostly month-to-month contract"
    )
    assert (
        differentiator_name([Differentiator("x", 1.0, 1.0, 0.1)], set())[0] == "Typical customers"
    )


@pytest.mark.parametrize(
    ("names", "fixed", "expected"),
    [
        (["A", "A", "A"], None, ["A", "A (2)", "A (3)"]),
        (["A", "B", "A"], [False, False, True], ["A (2)", "B", "A"]),
        (["", ""], None, ["Segment", "Segment (2)"]),
    ],
)
def test_unique_names(names: list[str], fixed: list[bool] | None, expected: list[str]) -> None:
    assert unique_names(names, fixed) == expected


def test_no_active_archetype_for_customers_gone_a_year() -> None:
    """A log where everyone last ordered over a year ago: relative ranks alone would call
    the best group "Loyal" or "Champions"; its median recency (380 days) says otherwise."""
    groups = {
        "best of the lapsed": (380, 6, 900, 700, 60),
        "two orders": (400, 2, 250, 600, 60),
        "one order": (600, 1, 60, 600, 60),
        "oldest": (700, 1, 40, 700, 60),
    }
    values, labels = _planted(groups)
    profiles = segment_profiles(values, labels, np.ones(len(labels)), len(groups))
    names = [p.name for p in profiles]
    assert not set(names) & {"Champions", "Loyal", "Potential loyalists", "New customers"}
    assert not set(names) & {"Promising"}
    for p in profiles:
        if p.name_source == "archetype":
            assert p.name not in ("Champions", "Loyal")


@pytest.mark.parametrize(
    ("name", "position", "medians", "fits"),
    [
        (
            "Loyal",
            {"recency": 0.7, "frequency": 0.8, "monetary": 0.7},
            {"recency": 30, "frequency": 6},
            True,
        ),
        (
            "Loyal",
            {"recency": 0.7, "frequency": 0.8, "monetary": 0.7},
            {"recency": 371, "frequency": 6},
            False,
        ),
        (
            "Loyal",
            {"recency": 0.7, "frequency": 0.8, "monetary": 0.7},
            {"recency": 30, "frequency": 2},
            False,
        ),
        ("Loyal", {"recency": 0.4, "frequency": 0.8, "monetary": 0.7}, None, False),
        ("Champions", {"recency": 0.9, "frequency": 0.9, "monetary": 0.5}, None, False),
        ("At risk", {"recency": 0.7, "frequency": 0.8, "monetary": 0.7}, None, False),
        (
            "At risk",
            {"recency": 0.2, "frequency": 0.7, "monetary": 0.7},
            {"recency": 200, "frequency": 4},
            True,
        ),
        ("New customers", {"recency": 0.9, "frequency": 0.7, "monetary": 0.3}, None, False),
        ("Need attention", {"recency": 0.5, "frequency": 0.5, "monetary": 0.5}, None, True),
    ],
)
def test_archetype_conditions(
    name: str, position: dict[str, float], medians: dict[str, float] | None, fits: bool
) -> None:
    assert archetype_fits(name, position, medians, {"recency": 90.0}) is fits


def test_active_names_need_recency_within_the_population_median() -> None:
    medians = {"recency": 120.0, "frequency": 5.0}
    position = {"recency": 0.7, "frequency": 0.8, "monetary": 0.7}
    assert archetype_fits("Loyal", position, medians, {"recency": 200.0})
    assert not archetype_fits("Loyal", position, medians, {"recency": 100.0})


@pytest.mark.parametrize(
    ("feature", "mean", "std_diff", "binary", "phrase"),
    [
        ("Genre=Male", 0.9, 1.0, False, "mostly male"),
        ("Gender=Female", 0.3, 0.4, False, "more female"),
        ("Contract=Month-to-month", 0.8, 0.9, False, "mostly month-to-month contract"),
        ("InternetService=DSL", 0.7, 0.9, False, "mostly DSL internet service"),
        ("OnlineSecurity=No internet service", 0.9, 1.2, False, "mostly no internet service"),
        ("Partner=Yes", 0.1, -0.8, False, "mostly no partner"),
        ("Partner=Yes", 0.8, 0.8, False, "mostly partner"),
        ("SeniorCitizen", 0.7, 1.5, True, "mostly senior citizens"),
        ("SeniorCitizen", 0.0, -0.4, True, "no senior citizens"),
        ("MntWines", 900.0, 1.3, False, "high spenders on wines"),
        ("MntFruits", 2.0, -0.6, False, "low spenders on fruits"),
        ("NumWebPurchases", 9.0, 1.0, False, "frequent web buyers"),
        ("NumDealsPurchases", 1.0, -1.0, False, "infrequent deal buyers"),
        ("NumWebVisitsMonth", 9.0, 1.0, False, "frequent web visitors"),
        ("Age", 60.0, 1.0, False, "older"),
        ("Year_Birth", 1990.0, 1.0, False, "younger"),
        ("recency_days", 300.0, 1.0, False, "long since the last order"),
        ("tenure", 3.0, -1.0, False, "recent sign-ups"),
        ("Annual Income (k$)", 90.0, 1.0, False, "high annual income"),
        ("Spending Score (1-100)", 80.0, 1.0, False, "high spending score"),
        ("spend_rank", 2.0, -1.0, False, "low spend rank"),
        ("Teenhome", 1.0, 1.0, False, "families with teenagers"),
        ("Kidhome", 0.0, -0.8, False, "few young children at home"),
        ("n_children", 2.0, 1.0, False, "families with children"),
        ("child_age", 12.0, 1.0, False, "high child age"),
    ],
)
def test_phrases_a_marketer_uses(
    feature: str, mean: float, std_diff: float, binary: bool, phrase: str
) -> None:
    assert Differentiator(feature, mean, 0.5, std_diff, binary).phrase() == phrase


def test_names_skip_facets_of_one_thing_and_dates() -> None:
    two = [
        Differentiator("PURCHASES_FREQUENCY", 0.9, 0.5, 1.5),
        Differentiator("PURCHASES_INSTALLMENTS_FREQUENCY", 0.8, 0.4, 1.4),
        Differentiator("CREDIT_LIMIT", 9000.0, 4000.0, 0.9),
    ]
    assert differentiator_name(two, set())[0] == "High purchases frequency, high credit limit"
    spend = [
        Differentiator("MntWines", 900.0, 300.0, 1.3),
        Differentiator("MntMeatProducts", 500.0, 150.0, 1.1),
    ]
    assert differentiator_name(spend, set())[0] == "High spenders on wines and meat products"
    rng = np.random.default_rng(3)
    n = 200
    labels = np.repeat([0, 1], n // 2)
    values = pd.DataFrame(
        {
            "signup_date": np.where(labels == 0, 10.0, 900.0) + rng.normal(0, 5, n),
            "income": np.where(labels == 0, 40.0, 45.0) + rng.normal(0, 5, n),
            "SeniorCitizen": np.where(
                labels == 0, rng.random(n) < 0.9, rng.random(n) < 0.05
            ).astype(float),
        }
    )
    values.attrs["dates"] = ["signup_date"]
    profiles = segment_profiles(values, labels, np.ones(n), 2)
    names = [p.name for p in profiles]
    assert not any("date" in name.lower() for name in names)
    assert names[0].startswith("Mostly senior citizens")
    assert names[1].startswith("Few senior citizens") or names[1].startswith("No senior")
    assert profiles[0].action != profiles[1].action


def test_actions_follow_the_kind_of_difference() -> None:
    actions = {
        differentiator_name([Differentiator(f, 1.0, 0.5, d)], set())[1]
        for f, d in [
            ("MntWines", 1.0),
            ("recency_days", 1.0),
            ("frequency", 1.0),
            ("tenure", -1.0),
            ("Contract=Month-to-month", 1.0),
            ("NumWebPurchases", 1.0),
            ("NumDealsPurchases", 1.0),
            ("Age", 1.0),
            ("OnlineBackup=No", 1.0),
        ]
    }
    assert len(actions) == 9
    assert not any(a.startswith("Tailor offers") for a in actions)
    wines = differentiator_name([Differentiator("MntWines", 1.0, 0.5, 1.0)], set())[1]
    score = differentiator_name([Differentiator("Spending Score", 1.0, 0.5, 1.0)], set())[1]
    assert wines.startswith("Premium and cross-sell offers on wines;")
    assert score.startswith("Premium and cross-sell offers; protect")


def _real_names(path: Path, k: int) -> list[tuple[str, str]]:
    loaded = read_table(path)
    result = segment(loaded.frame, k=k, source=path.name)
    return [(p.name, p.action) for p in result.profiles]


def test_mall_and_telco_names_read_like_a_marketer(shared_data: Path) -> None:
    mall = _real_names(shared_data / "mall-customers" / "Mall_Customers.csv", 5)
    telco = _real_names(shared_data / "telco-churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv", 4)
    for name, action in mall + telco:
        assert not any(w in name.lower() for w in ("genre", "few male", "few female", "=", "_"))
        assert "senior citizen " not in f"{name.lower()} "  # a flag reads "senior citizens"
        assert not action.startswith("Tailor offers")
        assert " on score" not in action  # a spending score is no product to sell
    assert len({a for _, a in telco}) == len(telco)
    assert any(n.startswith("Mostly month-to-month contract") for n, _ in telco)
