"""Shared fixtures: where the public datasets live, and small helpers."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _shared_data_dir() -> Path:
    """The public datasets: ``$SEGMINT_SHARED_DATA`` or ``../shared/data`` beside the repo."""
    override = os.environ.get("SEGMINT_SHARED_DATA")
    if override:
        return Path(override)
    return REPO_ROOT.parent / "shared" / "data"


SHARED_DATA = _shared_data_dir()

# The Spark agreement tests need the optional spark extra; `make test-spark` installs it.
collect_ignore = [] if importlib.util.find_spec("pyspark") else ["test_spark.py"]


def _under_ci() -> bool:
    """True under CI (``CI=true``, as ``.ci/run`` runs): the public datasets are required."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the public datasets.

    A clone without ``../shared`` skips the real-data tests and says why; under CI they are
    required, and a missing folder fails them.
    """
    if not SHARED_DATA.is_dir():
        message = (
            f"public datasets not found at {SHARED_DATA}: put the shared data folder beside "
            "the repository or point SEGMINT_SHARED_DATA at it"
        )
        if _under_ci():
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)
    return SHARED_DATA


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (the Debian package) driven by Playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    from segmint.report.export import CHROMIUM_FLAGS, find_chromium

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=find_chromium(), args=list(CHROMIUM_FLAGS), headless=True
        )
        yield chromium
        chromium.close()
