"""The suite on a clone without the public datasets: skipped with the reason, required under CI."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO_ROOT

ONE_REAL_DATA_TEST = (
    "tests/test_segmentation.py::test_mall_income_and_spending_give_the_five_textbook_segments"
)


def _run_without_data(ci: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SEGMINT_SHARED_DATA": str(REPO_ROOT / "no-such-data"), "CI": ci}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", ONE_REAL_DATA_TEST],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_missing_data_skips_with_the_reason_and_the_variable() -> None:
    run = _run_without_data(ci="")
    assert run.returncode == 0, run.stdout
    assert "1 skipped" in run.stdout
    assert "public datasets not found" in run.stdout
    assert "SEGMINT_SHARED_DATA" in run.stdout


def test_missing_data_fails_under_ci() -> None:
    run = _run_without_data(ci="true")
    assert run.returncode != 0
    assert "required under CI=true" in run.stdout
