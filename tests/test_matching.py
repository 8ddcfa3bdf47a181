"""Matching segments across refits, stable ids and names, champion or challenger."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmint.matching import (
    MatchRule,
    PromotionRule,
    containment_matrix,
    match_refit,
    match_segments,
    overlap_matrix,
    promotion_decision,
    relabel,
    stability_score,
)
from segmint.pipeline import SegmentationResult, segment

OLD = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])  # pairwise gaps 10, 10, 14.1: scale 10


def test_permuted_centres_are_matched_and_a_far_one_is_new() -> None:
    new = np.array([[10.1, 0.0], [0.0, 9.9], [0.1, 0.1], [30.0, 30.0]])
    match = match_segments(OLD, new, old_ids=[0, 1, 2])
    assert [(p.new_position, p.old_id) for p in match.pairs] == [(0, 1), (1, 2), (2, 0)]
    assert match.scale == 10.0
    assert match.pairs[0].distance == pytest.approx(0.01)
    assert match.new_positions == [3] and match.retired_ids == []


def test_a_vanished_segment_is_retired() -> None:
    new = np.array([[0.2, 0.0], [0.0, 10.2]])
    match = match_segments(OLD, new, old_ids=[4, 7, 9])
    assert [(p.new_position, p.old_id) for p in match.pairs] == [(0, 4), (1, 9)]
    assert match.retired_ids == [7] and match.new_positions == []


def test_distance_alone_decides_without_overlap() -> None:
    # (4, 4) is 5.66 from the nearest old centre, 0.57 of the typical gap: above max_distance
    match = match_segments(OLD, np.array([[4.0, 4.0]]), old_ids=[0, 1, 2])
    assert match.pairs == [] and match.new_positions == [0] and match.retired_ids == [0, 1, 2]
    looser = match_segments(
        OLD, np.array([[4.0, 4.0]]), old_ids=[0, 1, 2], rule=MatchRule(max_distance=0.6)
    )
    assert [(p.old_id, p.distance) for p in looser.pairs] == [
        (0, pytest.approx(0.565685, abs=1e-6))
    ]


def test_overlap_can_carry_a_segment_that_moved() -> None:
    new = np.array([[0.0, 0.0], [10.0, 9.0]])  # the second is far from everything old
    overlap = np.array([[0.9, 0.0], [0.0, 0.4], [0.0, 0.1]])
    match = match_segments(OLD, new, old_ids=[0, 1, 2], overlap=overlap)
    assert [(p.new_position, p.old_id) for p in match.pairs] == [(0, 0), (1, 1)]
    assert match.pairs[1].overlap == 0.4
    # cost = 0.5 * min(distance, 1) + 0.5 * (1 - overlap)
    assert match.pairs[1].cost == pytest.approx(0.5 * 0.9 + 0.5 * 0.6)
    assert match.retired_ids == [2]


def test_acceptable_pairs_come_first_in_the_assignment() -> None:
    # Scaled distances: A-X 0.45, B-X 0.6, A-Y 0.6, B-Y 1 (capped). The cheapest pairing
    # overall, A-Y + B-X = 1.2, has no acceptable pair (both above 0.5); the gated
    # assignment keeps the acceptable A-X and leaves Y new and B retired.
    old = np.array([[0.0, 0.0], [10.0, 0.0]])
    new = np.array([[4.2125, np.sqrt(4.5**2 - 4.2125**2)], [-6.0, 0.0]])
    match = match_segments(old, new, old_ids=[0, 1])
    assert match.distance.round(6).tolist() == [[0.45, 0.6], [0.6, 1.0]]
    assert [(p.new_position, p.old_id) for p in match.pairs] == [(0, 0)]
    assert match.new_positions == [1] and match.retired_ids == [1]


def test_a_merged_segment_continues_one_of_its_parts() -> None:
    # new segment 0 took all customers of old 0 and old 1 (Jaccard 0.32 and 0.3, below 1/3);
    # containment (all of old 0 is in it) makes the pair acceptable; the cheaper one wins
    new = np.array([[5.0, 5.0], [0.0, 10.0]])
    overlap = np.array([[0.32, 0.0], [0.30, 0.0], [0.0, 0.9]])
    containment = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.95]])
    without = match_segments(OLD, new, old_ids=[0, 1, 2], overlap=overlap)
    assert [(p.new_position, p.old_id) for p in without.pairs] == [(1, 2)]
    merged = match_segments(OLD, new, old_ids=[0, 1, 2], overlap=overlap, containment=containment)
    assert [(p.new_position, p.old_id) for p in merged.pairs] == [(0, 0), (1, 2)]
    assert merged.retired_ids == [1] and merged.new_positions == []


def test_overlap_matrix_is_jaccard_among_shared_customers() -> None:
    old = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "x"], "segment": [0, 0, 1, 1, 1]})
    new = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "y"], "segment": [5, 6, 6, 6, 5]})
    overlap = overlap_matrix(old, new, [0, 1], [5, 6])
    # shared: a b c d. old 0 = {a, b}, old 1 = {c, d}; new 5 = {a}, new 6 = {b, c, d}
    assert overlap.tolist() == [[0.5, 0.25], [0.0, 2 / 3]]
    # containment: max(share of the old segment's, share of the new segment's customers)
    contained = containment_matrix(old, new, [0, 1], [5, 6])
    assert contained.tolist() == [[1.0, 0.5], [0.0, 1.0]]
    assert overlap_matrix(old, new.assign(customer_id=list("pqrst")), [0, 1], [5, 6]) is None


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(5)), st.integers(0, 1000))
def test_matching_follows_any_permutation(order: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    old = rng.normal(0, 10, (5, 3))
    noise = rng.normal(0, 0.01, (5, 3))
    new = old[order] + noise
    match = match_segments(old, new, old_ids=[10, 11, 12, 13, 14])
    assert [(p.new_position, p.old_id) for p in match.pairs] == [
        (j, 10 + order[j]) for j in range(5)
    ]


# ----------------------------------------------------------------------------- on real fits


def groups(
    n: int, centres: list[tuple[float, float]], seed: int, prefix: str = "c"
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        cx, cy = centres[i % len(centres)]
        rows.append((f"{prefix}{i}", cx + rng.normal(0, 1), cy + rng.normal(0, 1)))
    return pd.DataFrame(rows, columns=["customer_id", "spend", "visits"])


def test_refit_keeps_ids_adds_and_names() -> None:
    old = segment(groups(90, [(0, 0), (20, 0), (0, 20)], 1), k=3, random_state=0)
    new_data = groups(120, [(0, 0), (20, 0), (0, 20), (20, 20)], 2)
    fresh = segment(new_data, k=4, random_state=0)
    match = match_refit(old.model, old.assignments, fresh)
    assert len(match.pairs) == 3 and len(match.new_positions) == 1 and match.retired_ids == []
    old_names = old.model.segment_names()
    overrides = {int(old.model.segment_ids()[1]): {"name": "Renamed", "action": "Call them"}}
    stable = relabel(fresh, match, old.model, next_id=7, overrides=overrides)
    ids = sorted(int(s["id"]) for s in stable.model.segments)
    assert ids == [0, 1, 2, 7]
    by_id = {int(s["id"]): s for s in stable.model.segments}
    assert by_id[1]["name"] == "Renamed" and by_id[1]["action"] == "Call them"
    assert by_id[0]["name"] == old_names[0] and by_id[2]["name"] == old_names[2]
    assert by_id[7]["continues"] is None and by_id[0]["continues"] == 0
    # the same customers carry the same partition, relabelled
    assert (
        pd.crosstab(fresh.assignments["segment"], stable.assignments["segment"]) > 0
    ).sum().tolist() == [1] * 4
    # each segment centre is the one it was fitted with, and labelling new data uses the ids
    relabelled, _ = stable.model.label_customers(new_data)
    assert relabelled["segment"].tolist() == stable.assignments["segment"].tolist()
    assert set(relabelled["segment_name"]) == {s["name"] for s in stable.model.segments}
    assert stable.model.fingerprint() != fresh.model.fingerprint()
    assert [p.id for p in stable.profiles] == [int(s["id"]) for s in stable.model.segments]


def test_new_segment_name_clash_gets_a_number() -> None:
    old = segment(groups(60, [(0, 0), (20, 0)], 1), k=2, random_state=0)
    fresh = segment(groups(60, [(0, 0), (20, 0), (50, 50)], 3), k=3, random_state=0)
    match = match_refit(old.model, None, fresh)
    clash = {
        int(i): {"name": str(fresh.model.segments[match.new_positions[0]]["name"])}
        for i in old.model.segment_ids()[:1]
    }
    stable = relabel(fresh, match, old.model, next_id=2, overrides=clash)
    names = [s["name"] for s in stable.model.segments]
    assert len(set(names)) == 3
    assert f"{clash[int(old.model.segment_ids()[0])]['name']} 2" in names


def test_promotion_rule_with_stored_scores() -> None:
    """Models whose stability is not measured again: the scores stored at fit time."""
    data = groups(90, [(0, 0), (20, 0), (0, 20)], 1)

    def unmeasured(result: SegmentationResult) -> SegmentationResult:
        # segment() records stability now; these checks are about models without it.
        selection = {k: v for k, v in result.model.selection.items() if k != "stability"}
        model = dataclasses.replace(result.model, selection=selection)
        return dataclasses.replace(result, model=model)

    good = unmeasured(segment(data, k=3, random_state=0))
    poor = unmeasured(segment(data, k=2, random_state=0))
    decision = promotion_decision(
        poor.model, good, poor.assignments["segment"].to_numpy(), remeasure=False
    )
    assert decision.promote
    assert decision.metrics["silhouette_challenger"] > decision.metrics["silhouette_champion"]
    assert "stability not measured" in decision.reasons[-1]
    back = promotion_decision(
        good.model, poor, good.assignments["segment"].to_numpy(), remeasure=False
    )
    assert not back.promote and back.reasons[0].startswith("not as good")
    # stability, when both models carry it, must not drop by more than the tolerance
    stable = dataclasses.replace(
        good.model, selection={**good.model.selection, "stability": {"mean_jaccard": 0.95}}
    )
    shaky = dataclasses.replace(
        good,
        model=dataclasses.replace(good.model, selection={**good.model.selection, "stability": 0.8}),
    )
    same_labels = good.assignments["segment"].to_numpy()
    verdict = promotion_decision(stable, shaky, same_labels, remeasure=False)
    assert (
        not verdict.promote and verdict.reasons[1] == "less stable: 0.800 vs 0.950 (tolerance 0.05)"
    )
    tolerant = promotion_decision(
        stable, shaky, same_labels, rule=PromotionRule(stability_tolerance=0.2), remeasure=False
    )
    assert tolerant.promote
    lone = promotion_decision(
        good.model, shaky, same_labels, rule=PromotionRule(min_stability=0.9), remeasure=False
    )
    assert not lone.promote and lone.reasons[1] == "not stable: 0.800 < 0.9"
    assert promotion_decision(good.model, good, None).promote


def _two_groups_and_a_pair(pair: bool, seed: int = 0) -> pd.DataFrame:
    """Two tight groups of 100 customers far apart (spread along a third feature) and, with
    ``pair``, two unusual customers far from both: far enough that k-means gives them a
    segment of their own when both are present, not when a resample drops one of them."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0, [0.5, 0.5, 1], (100, 3)) + np.array([-6, -6, 0])
    b = rng.normal(0, [0.5, 0.5, 1], (100, 3)) + np.array([6, 6, 0])
    rows = [a, b, np.array([[22.0, -22.0, 4.0], [22.2, -22.1, 4.1]])] if pair else [a, b]
    # Spend in money, the rest in small units: customer columns on different scales, so
    # the preparation standardises them (coordinates on one scale would keep their geometry).
    frame = pd.DataFrame(np.vstack(rows) * [100.0, 1.0, 1.0], columns=["spend", "visits", "tenure"])
    frame.insert(0, "customer_id", [f"c{i}" for i in range(len(frame))])
    return frame


def _decide(champion_k: int, challenger_k: int, pair: bool) -> tuple[object, object]:
    old = segment(_two_groups_and_a_pair(False), k=champion_k, algorithm="kmeans")
    new = segment(_two_groups_and_a_pair(pair), k=challenger_k, algorithm="kmeans")
    labels, _ = old.model.label_customers(new.features)
    return promotion_decision(old.model, new, labels["segment"].to_numpy()), new


def test_a_better_but_unstable_challenger_is_kept_out() -> None:
    # k = 3 gives the unusual pair its own segment: a higher silhouette on the new data,
    # but resamples that drop one of the two put it back, so that segment dissolves.
    decision, new = _decide(2, 3, pair=True)
    m = decision.metrics
    assert m["silhouette_challenger"] > m["silhouette_champion"] + 0.01  # better
    assert not decision.promote
    assert decision.reasons[0].startswith("as good: silhouette on the new data 0.64")
    champion, challenger = decision.stability["champion"], decision.stability["challenger"]
    assert champion["bootstrap_ari"] == 1.0 and champion["weakest_jaccard"] == 1.0
    assert challenger["family"] == "kmeans" and challenger["sample_size"] == 202
    pair_segment = int(new.assignments["segment"].iloc[-1])
    assert challenger["weakest_segment"] == pair_segment and challenger["weakest_jaccard"] < 0.5
    assert m["stability_challenger"] == challenger["bootstrap_ari"] < 1.0 - 0.05
    assert any(r.startswith("less stable: bootstrap ARI") for r in decision.reasons)
    assert any(f"segment {pair_segment}" in r and "dissolves" in r for r in decision.reasons)


def test_an_as_good_and_as_stable_challenger_is_promoted() -> None:
    decision, _ = _decide(2, 2, pair=False)
    assert decision.promote
    assert decision.stability["challenger"]["bootstrap_ari"] == 1.0
    assert decision.stability["champion"]["bootstrap_ari"] == 1.0
    assert decision.reasons[1] == (
        "as stable: bootstrap ARI 1.000 vs 1.000 for the current model on the new data "
        "(200 customers, 5 resamples) (tolerance 0.05)"
    )
    assert decision.to_dict()["stability"]["on"] == "the new data"


def test_stability_score_formats() -> None:
    model = segment(groups(30, [(0, 0), (9, 9)], 1), k=2, random_state=0).model

    def with_stability(value: object) -> float | None:
        return stability_score(dataclasses.replace(model, selection={"stability": value}))

    assert with_stability(0.7) == 0.7
    assert with_stability({"score": 0.6, "mean": 0.1}) == 0.6
    assert with_stability({"ari": 0.5}) == 0.5
    assert with_stability(True) is None and with_stability("high") is None
    assert stability_score(model) == model.selection["stability"]["score"]  # measured by segment()
    assert stability_score(dataclasses.replace(model, selection={})) is None
