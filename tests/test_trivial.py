"""Trivial partitions: one input column alone explains the segments."""

import numpy as np
import pandas as pd
from scipy.stats.contingency import association

from segmint.trivial import cramers_v, trivial_partition


def test_cramers_v_exact_on_a_small_table() -> None:
    a = np.array([0] * 10 + [1] * 10)
    b = np.array([0] * 8 + [1] * 2 + [0] * 3 + [1] * 7)
    table = np.array([[8, 2], [3, 7]], dtype=float)
    n = 20
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    phi2 = ((table - expected) ** 2 / expected).sum() / n
    phi2c = max(0.0, phi2 - 1 / (n - 1))
    k = 2 - 1 / (n - 1)
    assert cramers_v(a, b) == np.sqrt(phi2c / (k - 1))
    # Without correction scipy gives the plain V, which is larger.
    assert cramers_v(a, b) < association(table.astype(int), method="cramer", correction=False)


def test_perfect_split_on_a_flag_is_flagged_and_blobs_are_not() -> None:
    rng = np.random.default_rng(0)
    flag = np.repeat(["a", "b"], 150)
    x = rng.normal(size=300)
    frame = pd.DataFrame({"flag": flag, "x": x})
    found = trivial_partition(frame, ["flag", "x"], (flag == "b").astype(int))
    assert found is not None and found["column"] == "flag" and found["value"] == 1.0
    labels = rng.integers(0, 3, size=300)
    assert trivial_partition(frame, ["flag", "x"], labels) is None


def test_a_flag_that_only_marks_one_of_three_segments_is_not_flagged() -> None:
    labels = np.repeat([0, 1, 2], 100)
    flag = np.where(labels == 2, "no", "yes")
    frame = pd.DataFrame({"flag": flag})
    assert trivial_partition(frame, ["flag"], labels) is None
