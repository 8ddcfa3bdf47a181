"""Profiles: nearest segment, typical customers, confidence distribution, round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from segmint.profile import SegmentProfile, confidence_summary, profiles_table, segment_profiles


def _three_groups() -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    # x: 0-group around -100, 1-group around 10, 2-group around 11 (nearest to 1); y splits 2.
    values = pd.DataFrame(
        {
            "x": [-100.0, -99.0, -101.0, 10.0, 9.0, 11.0, 11.0, 12.0, 10.0],
            "y": [-6.0, 0.0, 6.0, 0.0, 0.0, 0.0, 5.0, 5.0, 5.0],
        }
    )
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    ids = [f"c{i}" for i in range(9)]
    return values, labels, ids


def test_nearest_segment_and_contrast() -> None:
    values, labels, ids = _three_groups()
    profiles = segment_profiles(values, labels, np.ones(9), 3, ids=ids)
    assert [p.nearest for p in profiles] == [1, 2, 1]
    # segment 2 vs segment 1: y 5 vs 0, x 11 vs 10
    top = profiles[2].vs_nearest[0]
    assert top.feature == "y" and top.other_mean == 0.0 and top.segment_mean == 5.0
    assert np.isclose(top.std_diff, 5.0 / values["y"].std(ddof=0))
    assert top.phrase() == "higher y"


def test_typical_customers_are_closest_to_the_centre() -> None:
    values, labels, ids = _three_groups()
    profiles = segment_profiles(values, labels, np.ones(9), 3, ids=ids)
    # segment 0 centre (-100, 0): c1 (-99, 0) is closest, c0 and c2 tie (then by id)
    assert profiles[0].examples == ["c1", "c0", "c2"]
    assert profiles[1].examples[0] == "c3"
    # With the prepared matrix and centres, distances are measured there.
    matrix = values.to_numpy()
    centers = np.array([[-99.0, 0.0], [9.0, 0.0], [12.0, 5.0]])
    prepared = segment_profiles(
        values, labels, np.ones(9), 3, matrix=matrix, centers=centers, ids=ids
    )
    assert prepared[0].examples[0] == "c1" and prepared[1].examples[0] == "c4"
    assert prepared[2].examples[0] == "c7"
    assert segment_profiles(values, labels, np.ones(9), 3)[0].examples == []


def test_confidence_summary_exact() -> None:
    summary = confidence_summary(np.array([0.05, 0.15, 0.5, 0.95, 1.0]))
    assert summary["median"] == 0.5 and summary["low_share"] == 0.4
    assert summary["histogram"] == [1, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert summary["p25"] == 0.15 and summary["p75"] == 0.95
    assert confidence_summary(np.array([])) == {}


def test_profile_round_trip_and_table() -> None:
    values, labels, ids = _three_groups()
    profiles = segment_profiles(values, labels, np.linspace(0, 1, 9), 3, ids=ids)
    again = [SegmentProfile.from_dict(json.loads(json.dumps(p.to_dict()))) for p in profiles]
    assert again == profiles
    outcome = {
        "label": "churn rate",
        "segments": [{"segment": 0, "value": 0.5, "low": 0.1, "high": 0.9}],
    }
    table = profiles_table(profiles, outcome)
    assert table.loc[0, "churn rate"] == 0.5 and pd.isna(table.loc[1, "churn rate"])
    assert table.loc[0, "typical_customers"] == "c1 c0 c2"
    assert table.loc[2, "nearest_segment"] == profiles[1].name
