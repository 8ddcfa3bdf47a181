"""``segmint fit --workspace`` with --algorithm, --within, --spec and --hash-ids, end to end
through the command line: the model version records them and a refresh follows them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner, Result

from segmint.store import Workspace
from tests.workspace_data import FIT_AS_OF, write_log

runner = CliRunner()


def run(*args: object, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app_(), [str(a) for a in args], env=env)


def app_() -> object:
    from segmint.cli import app

    return app


def refresh_summary(ws: Path, run_id: str = "run-0002") -> dict:
    return json.loads((ws / "runs" / run_id / "summary.json").read_text())


def test_algorithm_is_recorded_and_followed_by_refresh(tmp_path: Path) -> None:
    log, ws = write_log(tmp_path), tmp_path / "ws"
    fitted = run("fit", log, "--workspace", ws, "--as-of", FIT_AS_OF, "--k", "3",
                 "--algorithm", "ward")  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    refreshed = run("refresh", log, "--workspace", ws)
    assert refreshed.exit_code == 0, refreshed.output
    models = json.loads(run("models", "--workspace", ws, "--json").stdout)
    assert [m["algorithm"] for m in models] == ["ward", "ward"]
    space = Workspace(ws)
    for version in space.models()["version"]:
        params = space.load_model(version).params
        assert params["algorithm"] == params["algorithm_used"] == "ward"
    summary = refresh_summary(ws)
    assert {c["id"] for c in summary["continued_segments"]} == {0, 1, 2}
    assert summary["decision"]["stability"]["challenger"]["family"] == "ward"
    assert summary["decision"]["stability"]["champion"]["seed_ari"] is None  # deterministic


def test_hdbscan_keeps_its_unassigned_group_through_a_refresh(tmp_path: Path) -> None:
    log, ws = write_log(tmp_path), tmp_path / "ws"
    fitted = run("fit", log, "--workspace", ws, "--as-of", FIT_AS_OF, "--algorithm", "hdbscan")
    assert fitted.exit_code == 0, fitted.output
    refreshed = run("refresh", log, "--workspace", ws, "--json")
    assert refreshed.exit_code == 0, refreshed.output
    summary = json.loads(refreshed.stdout)
    ids = [s["id"] for s in summary["fit"]["segments"]]
    assert -1 in ids and len(set(ids)) == len(ids)
    assert -1 not in {s["id"] for s in summary["new_segments"]}
    model = Workspace(ws).load_model(summary["model_version"])
    assert len(model.segment_ids()) == model.k and -1 not in model.segment_ids()
    served = Workspace(ws).assignments("run-0002")
    assert set(served["segment"]) <= set(ids)
    checked = run("monitor", log, "--workspace", ws, "--json")  # unassigned customers included
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["customers"]["current"] == len(served)


def _plan_customers(seed: int, gold: bool = False) -> pd.DataFrame:
    """Customers of two plans (three with ``gold``), each plan with two clear groups."""
    rng = np.random.default_rng(seed)
    frames = []
    plans = {"basic": 0.0, "premium": 50.0, **({"gold": 100.0} if gold else {})}
    for plan, base in plans.items():
        for centre in (base, base + 20.0):
            spend = rng.normal(centre + 100.0, 2.0, 40)
            visits = rng.normal(centre / 5 + 10.0, 1.0, 40)
            frames.append(pd.DataFrame({"spend": spend, "visits": visits, "plan": plan}))
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "customer_id", [f"{seed}-{i}" for i in range(len(frame))])
    return frame


def test_within_tiers_keep_their_ids_and_a_new_tier_gets_a_new_number(tmp_path: Path) -> None:
    first = _plan_customers(0)
    later = pd.concat([first, _plan_customers(1, gold=True)], ignore_index=True)
    first.to_csv(tmp_path / "june.csv", index=False)
    later.to_csv(tmp_path / "december.csv", index=False)
    ws = tmp_path / "ws"
    fitted = run("fit", tmp_path / "june.csv", "--workspace", ws, "--within", "plan",
                 "--algorithm", "kmeans", "--k", "2")  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    space = Workspace(ws)
    champion = space.load_model(space.state().champion)
    assert champion.params["within"] == "plan"
    assert sorted(champion.segment_ids()) == [100, 101, 200, 201]
    refreshed = run("refresh", tmp_path / "december.csv", "--workspace", ws, "--json")
    assert refreshed.exit_code == 0, refreshed.output
    summary = json.loads(refreshed.stdout)
    tier_of = {s["id"]: s["tier"] for s in summary["fit"]["segments"]}
    assert {c["id"] for c in summary["continued_segments"]} == {100, 101, 200, 201}
    assert {s["id"] for s in summary["new_segments"]} == {300, 301}
    assert tier_of == {100: "basic", 101: "basic", 200: "premium", 201: "premium",
                       300: "gold", 301: "gold"}  # fmt: skip
    challenger = space.load_model(summary["model_version"])
    assert challenger.params["within"] == "plan"
    # every basic customer of June is still labelled within the basic tier
    served = space.assignments("run-0002").merge(first[["customer_id", "plan"]], on="customer_id")
    assert (served.loc[served["plan"] == "basic", "segment"] // 100 == 1).all()
    assert (served.loc[served["plan"] == "premium", "segment"] // 100 == 2).all()


SPEC = """
[features]
families = ["rfm", "trend"]
trend_days = 30
"""


def test_spec_is_stored_and_refresh_derives_the_same_features(tmp_path: Path) -> None:
    log, ws = write_log(tmp_path), tmp_path / "ws"
    (tmp_path / "spec.toml").write_text(SPEC, encoding="utf-8")
    fitted = run("fit", log, "--workspace", ws, "--as-of", FIT_AS_OF, "--k", "3",
                 "--spec", tmp_path / "spec.toml")  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    assert run("refresh", log, "--workspace", ws).exit_code == 0
    space = Workspace(ws)
    models = [space.load_model(v) for v in space.models()["version"]]
    specs = [m.feature_spec() for m in models]
    assert specs[0] is not None and specs[0].families == ("rfm", "trend")
    assert specs[0].trend_days == 30
    assert models[0].params["feature_spec_hash"] == models[1].params["feature_spec_hash"]
    june, december = space.features("run-0001"), space.features("run-0002")
    assert list(june.columns) == list(december.columns)
    assert {"spend_last_30d", "spend_prev_30d", "spend_trend"} <= set(june.columns)  # 30 days
    assert not any(c.startswith(("discount", "peak")) for c in june.columns)  # not defaults


def pseudonym(salt: str, customer: str) -> str:
    return hashlib.sha256(f"{salt}:{customer}".encode()).hexdigest()[:16]


def test_hash_ids_with_a_salt_given_again(tmp_path: Path) -> None:
    log, ws = write_log(tmp_path), tmp_path / "ws"
    salt = "a-long-random-secret-4f1c"
    no_salt = run("fit", log, "--workspace", ws, "--hash-ids", env={"SEGMINT_ID_SALT": ""})
    assert no_salt.exit_code == 2 and "needs --salt" in no_salt.output
    fitted = run("fit", log, "--workspace", ws, "--as-of", FIT_AS_OF, "--k", "3", "--hash-ids",
                 "--salt", salt, "--id-map", tmp_path / "ids.csv")  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    space = Workspace(ws)
    june = space.assignments("run-0001")
    mapping = pd.read_csv(tmp_path / "ids.csv", dtype=str)
    assert set(june["customer_id"]) <= set(mapping["pseudonym"])
    first = mapping.iloc[0]
    assert first["pseudonym"] == pseudonym(salt, first["customer_id"])
    assert not set(june["customer_id"]) & set(mapping["customer_id"])  # no raw id stored
    # later runs need the same salt, given on the command line or in the environment
    missing = run("refresh", log, "--workspace", ws, env={"SEGMINT_ID_SALT": ""})
    assert missing.exit_code == 2 and "give the salt of its first fit" in missing.output
    wrong = run("refresh", log, "--workspace", ws, "--salt", "another")
    assert wrong.exit_code == 2 and "is not the salt" in wrong.output
    refreshed = run("refresh", log, "--workspace", ws, env={"SEGMINT_ID_SALT": salt})
    assert refreshed.exit_code == 0, refreshed.output
    summary = refresh_summary(ws)
    assert summary["migration"]["n_both"] == len(june)  # the same customers, the same pseudonyms
    december = space.assignments("run-0002")
    assert set(december["customer_id"]) <= set(mapping["pseudonym"]) | {
        pseudonym(salt, c) for c in pd.read_csv(log, dtype=str)["CustomerID"].dropna()
    }
    # assign from the workspace: the same pseudonyms, with the same salt only
    plain_assign = run("assign", ws, log, "--as-of", FIT_AS_OF, "--out", tmp_path / "a.csv")
    assert plain_assign.exit_code == 2 and "assign with --hash-ids" in plain_assign.output
    wrong_assign = run("assign", ws, log, "--as-of", FIT_AS_OF, "--hash-ids", "--salt", "x",
                       "--out", tmp_path / "a.csv")  # fmt: skip
    assert wrong_assign.exit_code == 2 and "is not the salt" in wrong_assign.output
    assigned = run("assign", ws, log, "--as-of", FIT_AS_OF, "--hash-ids", "--salt", salt,
                   "--out", tmp_path / "a.csv")  # fmt: skip
    assert assigned.exit_code == 0, assigned.output
    labels = pd.read_csv(tmp_path / "a.csv", dtype={"customer_id": str})
    assert set(labels["customer_id"]) == set(june["customer_id"])
    checked = run("monitor", log, "--workspace", ws, "--salt", salt, "--json")
    # new customers are counted against the serving model's run (June's unless promoted)
    new = 0 if summary["promoted"] else summary["migration"]["n_new"]
    assert checked.exit_code == 0 and json.loads(checked.stdout)["customers"]["new"] == new
    # the salt is never written into the workspace
    for path in ws.rglob("*"):
        if path.is_file():
            assert salt.encode() not in path.read_bytes(), path
    # with --out too: the run folder and the workspace hold the same pseudonyms
    both = tmp_path / "both"
    done = run("fit", log, "--workspace", both, "--out", tmp_path / "out", "--as-of", FIT_AS_OF,
               "--k", "3", "--hash-ids", "--salt", salt)  # fmt: skip
    assert done.exit_code == 0, done.output
    written = pd.read_csv(tmp_path / "out" / "segments.csv", dtype={"customer_id": str})
    recorded = Workspace(both).assignments("run-0001")
    assert set(written["customer_id"]) == set(recorded["customer_id"])
    assert set(written["customer_id"]) == set(june["customer_id"])
    plain = tmp_path / "plain"
    assert run("fit", log, "--workspace", plain, "--k", "3").exit_code == 0
    mixed = run("refresh", log, "--workspace", plain, "--salt", salt)
    assert mixed.exit_code == 2 and "holds customer ids as they are" in mixed.output
