"""Names a person gives: stored, applied everywhere, and kept through refits."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from segmint.cli import app
from segmint.naming import Differentiator
from segmint.overrides import (
    MATCH_DISTANCE,
    NameOverride,
    apply_overrides,
    match_overrides,
    merge_overrides,
    signature_distance,
)
from segmint.profile import SegmentProfile
from tests.shop import write_shop

runner = CliRunner()


def invoke(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _profile(seg: int, name: str, x: float, y: float) -> SegmentProfile:
    return SegmentProfile(
        id=seg, name=name, action=f"act {name}", size=10, share=0.5, mean_confidence=1.0,
        means={"x": x, "y": y}, medians={"x": x, "y": y},
        differentiators=[Differentiator("x", x, 0.0, 1.0)],
    )  # fmt: skip


def _override(
    name: str, x: float, y: float, segment: int = 0, action: str | None = None
) -> NameOverride:
    return NameOverride(segment, name, action, {"x": x, "y": y}, {"x": 2.0, "y": 2.0})


def test_signature_distance_and_matching_follow_the_segment_not_the_id() -> None:
    vip = _override("VIPs", 10.0, 0.0, segment=0)
    assert signature_distance(vip, {"x": 10.0, "y": 0.0}) == 0.0
    assert signature_distance(vip, {"x": 11.0, "y": 1.0}) == pytest.approx(0.5)  # rms of 0.5, 0.5
    assert signature_distance(vip, {"z": 1.0}) == float("inf")
    # after a refit the VIPs are segment 1: the name moves with them
    profiles = [_profile(0, "Loyal", 0.0, 0.0), _profile(1, "Champions", 10.2, 0.1)]
    assert match_overrides([vip], profiles) == {1: vip}
    # too far away: not applied
    assert match_overrides([_override("VIPs", 10.0 + 4 * MATCH_DISTANCE, 0.0)], profiles) == {}


def test_apply_keeps_names_unique_and_actions() -> None:
    profiles = [_profile(0, "Champions", 0.0, 0.0), _profile(1, "Loyal", 10.0, 0.0)]
    renamed, applied = apply_overrides(
        profiles, [_override("Champions", 10.0, 0.0, 1, "Call them")]
    )
    assert [p.name for p in renamed] == ["Champions (2)", "Champions"]
    assert renamed[1].action == "Call them" and renamed[1].name_source == "override"
    assert renamed[0].action == "act Champions" and list(applied) == [1]


def test_merge_replaces_an_older_override_of_the_same_segment() -> None:
    old = _override("Old", 10.0, 0.0)
    other = _override("Other", -10.0, 0.0)
    new = _override("New", 10.1, 0.0)
    assert merge_overrides([old, other], [new]) == [other, new]


# ------------------------------------------------------------------------- run folders


@pytest.fixture(scope="module")
def shop_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("shop")
    data = write_shop(folder / "shop.csv")
    out = folder / "run"
    result = invoke("fit", data, "--out", out, "--k", "3")
    assert result.exit_code == 0, result.output
    return data, out


@pytest.fixture
def fresh_run(shop_run: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the module's run that a test may change."""
    data, out = shop_run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    return data, copy


def _segments(out: Path) -> dict[int, str]:
    return {s["id"]: s["name"] for s in json.loads((out / "summary.json").read_text())["segments"]}


def test_rename_updates_every_output(fresh_run: tuple[Path, Path]) -> None:
    data, out = fresh_run
    before = _segments(out)
    result = invoke(
        "rename", out, "--segment", 1, "--name", "Win-back list", "--action", "Call them this week"
    )
    assert result.exit_code == 0, result.output
    assert "segment 1: Win-back list" in result.stdout
    names = _segments(out)
    assert names[1] == "Win-back list" and names[0] == before[0]
    model = json.loads((out / "model" / "model.json").read_text())
    assert (
        model["segments"][1]["name"] == "Win-back list"
        and model["segments"][1]["action"] == "Call them this week"
    )
    segments = pd.read_csv(out / "segments.csv")
    assert set(segments.loc[segments["segment"] == 1, "segment_name"]) == {"Win-back list"}
    assert pd.read_csv(out / "profiles.csv").loc[1, "segment_name"] == "Win-back list"
    profiles = json.loads((out / "profiles.json").read_text())
    assert profiles["segments"][1]["name_source"] == "override"
    assert "Win-back list" in (out / "report.html").read_text()
    overrides = json.loads((out / "model" / "overrides.json").read_text())
    assert [o["name"] for o in overrides] == ["Win-back list"] and overrides[0]["signature"]
    # assign uses the new name
    labels = invoke("assign", out, data)
    assert labels.exit_code == 0 and "Win-back list" in labels.stdout


def test_override_survives_a_refit(fresh_run: tuple[Path, Path]) -> None:
    data, out = fresh_run
    invoke("rename", out, "--segment", 1, "--name", "Win-back list")
    invoke("rename", out, "--segment", 2, "--name", "Fresh faces")
    renamed = _segments(out)
    result = invoke("fit", data, "--out", out, "--k", "3")
    assert result.exit_code == 0, result.output
    assert _segments(out) == renamed
    summary = json.loads((out / "summary.json").read_text())
    applied = {a["name"] for a in summary["names"]["overrides_applied"]}
    assert {"Fresh faces", "Win-back list"} <= applied
    assert (out / "model" / "overrides.json").is_file()
    # a refit with another k keeps the overrides that still match and says which do not
    result = invoke("fit", data, "--out", out, "--k", "2", "--json")
    names = json.loads(result.stdout)["names"]
    assert len(names["overrides_applied"]) + len(names["overrides_unmatched"]) == 2


@pytest.mark.parametrize(
    ("suffix", "content"),
    [
        (".csv", "segment,name,action\n0,Core,Keep them\n2,Newbies,\n"),
        (
            ".json",
            '[{"segment": 0, "name": "Core", "action": "Keep them"}, {"id": 2, "name": "Newbies"}]',
        ),
        (
            ".toml",
            '[[segments]]\nsegment = 0\nname = "Core"\naction = "Keep them"\n\n'
            '[[segments]]\nsegment = 2\nname = "Newbies"\n',
        ),
        (".json", '{"0": {"name": "Core", "action": "Keep them"}, "2": "Newbies"}'),
    ],
)
def test_names_file(
    fresh_run: tuple[Path, Path], tmp_path: Path, suffix: str, content: str
) -> None:
    _, copy = fresh_run
    names = tmp_path / f"names{suffix}"
    names.write_text(content, encoding="utf-8")
    result = invoke("rename", copy, "--names", names)
    assert result.exit_code == 0, result.output
    summary = json.loads((copy / "summary.json").read_text())
    assert (
        summary["segments"][0]["name"] == "Core" and summary["segments"][0]["action"] == "Keep them"
    )
    assert summary["segments"][2]["name"] == "Newbies"


def test_rename_errors_change_nothing(shop_run: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = shop_run
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    other = _segments(out)[0]
    for args, code, words in [
        (("--segment", 9, "--name", "X"), 2, "no segment 9"),
        (("--segment", 1, "--name", other), 2, "names must be unique"),
        (("--segment", 1, "--name", "  "), 2, "must not be empty"),
        (("--segment", 1), 2, "give both"),
        (("--names", tmp_path / "missing.csv"), 2, "no such names file"),
    ]:
        result = invoke("rename", out, *args)
        assert result.exit_code == code, result.output
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert invoke("rename", tmp_path / "nowhere", "--segment", 0, "--name", "X").exit_code == 2


def test_confidence_and_examples_reach_profiles(shop_run: tuple[Path, Path]) -> None:
    _, out = shop_run
    profiles = json.loads((out / "profiles.json").read_text())
    ids = set(pd.read_csv(out / "segments.csv", dtype={"customer_id": str})["customer_id"])
    for segment in profiles["segments"]:
        assert 1 <= len(segment["examples"]) <= 5 and set(segment["examples"]) <= ids
        assert sum(segment["confidence"]["histogram"]) == segment["size"]
        assert segment["nearest"] in {0, 1, 2} - {segment["id"]}
    assert np.isclose(sum(s["share"] for s in profiles["segments"]), 1.0)


def test_typical_customers_follow_hashed_ids(tmp_path: Path) -> None:
    """With --hash-ids the examples are the pseudonyms of segments.csv; no raw id leaks."""
    data = write_shop(tmp_path / "shop.csv")
    out = tmp_path / "run"
    result = invoke("fit", data, "--out", out, "--k", "3", "--hash-ids", "--salt", "s3cret")
    assert result.exit_code == 0, result.output
    ids = set(pd.read_csv(out / "segments.csv", dtype={"customer_id": str})["customer_id"])
    profiles = json.loads((out / "profiles.json").read_text())
    examples = {e for s in profiles["segments"] for e in s["examples"]}
    assert examples and examples <= ids
    raw = re.compile(r"\b[RLN]\d{3}\b")  # the shop's ids: R000, L012, N039, ...
    for name in ("profiles.json", "profiles.csv", "charts.json", "report.html", "summary.json"):
        assert not raw.search((out / name).read_text()), name
