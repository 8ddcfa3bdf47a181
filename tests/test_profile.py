"""Profiles and names: planted archetypes get the expected names."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmint.profile import ARCHETYPES, humanise, profiles_table, segment_profiles


def _rfm_population() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    groups = {
        # recency days, orders, spend, tenure days
        0: (5, 40, 20_000, 700),  # recent, frequent, big: Champions
        1: (300, 2, 150, 500),  # long gone, rare, small: Lost / Hibernating
        2: (10, 1, 60, 12),  # just arrived: New customers
        3: (200, 30, 15_000, 720),  # used to be great, now away: Can't lose them / At risk
    }
    frames, labels = [], []
    for label, (r, f, m, t) in groups.items():
        n = 50
        frames.append(
            pd.DataFrame(
                {
                    "recency_days": rng.normal(r, r * 0.05 + 1, n),
                    "frequency": rng.normal(f, f * 0.05 + 0.1, n),
                    "monetary": rng.normal(m, m * 0.05, n),
                    "tenure_days": rng.normal(t, t * 0.05, n),
                }
            )
        )
        labels += [label] * n
    return pd.concat(frames, ignore_index=True), np.array(labels)


def test_planted_rfm_archetypes_get_expected_names() -> None:
    values, labels = _rfm_population()
    profiles = segment_profiles(values, labels, np.ones(len(labels)), 4)
    names = [p.name for p in profiles]
    assert names[0] == "Champions"
    assert names[1] in ("Lost", "Hibernating")
    assert names[2] == "New customers"
    assert names[3] in ("Can't lose them", "At risk")
    assert len(set(names)) == 4
    assert all(p.action == ARCHETYPES[p.name][1] for p in profiles)


def test_profile_statistics_exact() -> None:
    values = pd.DataFrame({"x": [1.0, 2.0, 3.0, 10.0], "y": [0.0, 0.0, 1.0, 1.0]})
    labels = np.array([0, 0, 1, 1])
    profiles = segment_profiles(values, labels, np.array([1.0, 0.5, 0.2, 0.4]), 2)
    first, second = profiles
    assert (first.size, first.share, first.mean_confidence) == (2, 0.5, 0.75)
    assert first.means == {"x": 1.5, "y": 0.0} and second.medians == {"x": 6.5, "y": 1.0}
    # population mean of y 0.5, sd 0.5 -> segment 0 is -1 sd
    assert first.std_diffs["y"] == -1.0
    assert first.differentiators[0].feature == "y"


def test_differentiator_names_are_unique() -> None:
    values = pd.DataFrame(
        {"income": [10.0, 11, 90, 91, 10, 11, 90, 91], "score": [90.0, 91, 10, 11, 10, 11, 90, 91]}
    )
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    names = [p.name for p in segment_profiles(values, labels, np.ones(8), 4)]
    assert len(set(names)) == 4
    assert names[0] == "High score, low income" or names[0] == "Low income, high score"


def test_typical_segment_name() -> None:
    values = pd.DataFrame({"x": [1.0, 2.0, 1.0, 2.0]})
    names = [p.name for p in segment_profiles(values, np.array([0, 0, 1, 1]), np.ones(4), 2)]
    assert names == ["Typical customers", "Typical customers (2)"]


def test_humanise_and_table() -> None:
    assert humanise("Annual Income (k$)") == "annual income"
    assert humanise("avg_order_value") == "avg order value"
    assert humanise("Contract=Month-to-month") == "contract Month-to-month"
    assert humanise("MntWines") == "mnt wines"
    values, labels = _rfm_population()
    table = profiles_table(segment_profiles(values, labels, np.ones(len(labels)), 4))
    assert list(table.columns[:6]) == [
        "segment",
        "segment_name",
        "size",
        "share",
        "mean_confidence",
        "action",
    ]
    assert "recency_days median" in table.columns
