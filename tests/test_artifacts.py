"""Model folders: JSON + arrays round trip, integrity, no pickle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmint import load_model, save_model, segment
from segmint.errors import ModelError


@pytest.fixture
def result():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(90)],
            "spend": np.concatenate([rng.normal(m, 1, 30) for m in (0, 10, 20)]),
            "plan": (["a", "b", "c"] * 30),
        }
    )
    return segment(frame, random_state=0), frame


def test_round_trip_assigns_identically(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fitted, frame = result
    save_model(fitted.model, tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert loaded.fingerprint() == fitted.model.fingerprint()
    again = loaded.assign(frame)
    pd.testing.assert_frame_equal(again.assignments, fitted.assignments)
    document = json.loads((tmp_path / "model" / "model.json").read_text())
    assert document["schema_version"] == 1
    assert document["roles"]["customer"] == "customer_id"
    assert [s["name"] for s in document["segments"]] == [p.name for p in fitted.profiles]


def test_tampered_arrays_are_refused(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fitted, _ = result
    folder = save_model(fitted.model, tmp_path / "model")
    np.savez(folder / "arrays.npz", centers=np.zeros((2, 2)))
    with pytest.raises(ModelError, match="does not match the hash"):
        load_model(folder)


def test_missing_and_unknown_schema(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelError, match="no such model directory"):
        load_model(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match=r"model\.json missing"):
        load_model(tmp_path / "empty")
    fitted, _ = result
    folder = save_model(fitted.model, tmp_path / "model")
    document = json.loads((folder / "model.json").read_text())
    document["schema_version"] = 99
    (folder / "model.json").write_text(json.dumps(document))
    with pytest.raises(ModelError, match="schema version 99"):
        load_model(folder)


def test_arrays_hold_no_objects(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fitted, _ = result
    folder = save_model(fitted.model, tmp_path / "model")
    with np.load(folder / "arrays.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype.kind == "f" for name in arrays.files)
