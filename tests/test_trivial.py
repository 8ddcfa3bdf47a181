"""Trivial partitions: one input column alone explains the segments."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats.contingency import association
from sklearn.metrics import adjusted_rand_score

from segmint import segment
from segmint.errors import UsageError
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


def _gender_and_three_groups(seed: int = 1, n: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    """Three behavioural groups, and a gender column independent of them."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 3, n)
    centres = np.array([[20.0, 80.0], [60.0, 20.0], [90.0, 70.0]])
    values = centres[groups] + rng.normal(0, 6, (n, 2))
    frame = pd.DataFrame(
        {
            "customer": [f"c{i}" for i in range(n)],
            "gender": rng.choice(["Female", "Male"], n),
            "income": values[:, 0].round(1),
            "spend_score": values[:, 1].round(1),
        }
    )
    return frame, groups


def test_a_column_that_splits_every_segment_again_is_nested() -> None:
    labels = np.repeat([0, 1, 2, 3], 50)
    gender = np.where(labels % 2 == 0, "f", "m")
    frame = pd.DataFrame({"gender": gender, "x": np.arange(200.0)})
    found = trivial_partition(frame, ["gender"], labels)
    assert found == {
        "column": "gender",
        "statistic": "nested_levels",
        "value": 1.0,
        "kind": "categorical",
    }
    # A flag that marks one segment of four (segments 1-3 all "yes") is not nested.
    flag = np.where(labels == 0, "no", "yes")
    assert trivial_partition(pd.DataFrame({"flag": flag}), ["flag"], labels) is None


def test_a_numeric_flag_counts_as_levels() -> None:
    labels = np.repeat([0, 1], 100)
    frame = pd.DataFrame({"channel": np.where(labels == 0, 1, 2)})
    found = trivial_partition(frame, ["channel"], labels)
    assert found is not None and found["kind"] == "categorical" and found["value"] == 1.0


def test_segments_multiplied_by_gender_are_refitted_without_it() -> None:
    frame, groups = _gender_and_three_groups()
    result = segment(frame)
    summary = result.summary
    assert summary["k"] == 3
    assert adjusted_rand_score(groups, result.assignments["segment"]) == 1.0
    assert summary["trivial_excluded"][0]["column"] == "gender"
    assert summary["trivial_excluded"][0]["statistic"] == "nested_levels"
    assert "gender" not in result.model.preparation.input_columns
    assert result.model.params["trivial_excluded"] == ["gender"]
    assert summary["warnings"][0].startswith(
        "the first segments (k = 6) were split again by the levels of gender (each segment all "
        "one level)"
    )
    assert "--keep gender" in summary["warnings"][0]
    assert len(result.assignments) == len(frame)


def test_keep_keeps_the_column_and_only_warns() -> None:
    frame, _ = _gender_and_three_groups()
    result = segment(frame, keep=("gender",))
    summary = result.summary
    assert "gender" in result.model.preparation.input_columns
    assert "trivial_excluded" not in summary
    assert summary["trivial_partition"]["column"] == "gender"
    assert any("this column multiplies the segments" in w for w in summary["warnings"])
    assert result.model.params["keep"] == ["gender"]


def test_a_perfect_two_level_split_is_refitted_on_behaviour() -> None:
    rng = np.random.default_rng(5)
    n = 400
    flag = np.repeat(["yes", "no"], n // 2)
    frame = pd.DataFrame(
        {"id": [f"u{i}" for i in range(n)], "member": flag, "visits": rng.gamma(3.0, 2.0, n)}
    )
    result = segment(frame)
    assert result.summary["trivial_excluded"][0]["column"] == "member"
    assert result.model.k == 1
    assert "the levels of member are the only split" in result.summary["warnings"][0]


def test_keep_must_name_a_column_and_not_an_excluded_one() -> None:
    frame, _ = _gender_and_three_groups(n=60)
    with pytest.raises(UsageError, match="--keep column 'sex' not found"):
        segment(frame, keep=("sex",))
    with pytest.raises(UsageError, match="both --exclude and --keep"):
        segment(frame, keep=("gender",), exclude=("gender",))


def test_cli_keep_reaches_the_fit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from segmint.cli import app

    frame, _ = _gender_and_three_groups()
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)
    runner = CliRunner()
    default = runner.invoke(app, ["fit", str(path), "--out", str(tmp_path / "a"), "--json"])
    assert default.exit_code == 0, default.output
    assert json.loads(default.stdout)["trivial_excluded"][0]["column"] == "gender"
    kept = runner.invoke(
        app, ["fit", str(path), "--out", str(tmp_path / "b"), "--keep", "gender", "--json"]
    )
    assert kept.exit_code == 0, kept.output
    summary = json.loads(kept.stdout)
    assert "trivial_excluded" not in summary and "gender" in summary["features_used"]
