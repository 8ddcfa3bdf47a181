"""Names: planted archetypes get the expected names; names are always unique."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmint.naming import (
    ALL_CUSTOMERS_NAME,
    ARCHETYPES,
    UNASSIGNED_NAME,
    Differentiator,
    archetype_names,
    differentiator_name,
    unique_names,
)
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
    assert sum(p.name_source == "archetype" for p in profiles) == len(ARCHETYPES)


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
    assert differentiator_name([level, absent], set())[0] == "Month-to-month contract, no partner"
    assert differentiator_name([high, low, level], {"High income, low score"})[0] == (
        "High income, low score, Month-to-month contract"
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
