"""Small data for the workspace tests: a generated shop log seen at two dates.

``make_transactions`` plants customer archetypes over 2023-2024; fitted as of 2024-07-01
the log has fewer customers than at its end, so a refresh sees new customers, drift in
recency and tenure, and customers moving between segments. k is fixed (3) so the tests
spend no time choosing it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from segmint.datasets import make_transactions
from segmint.io import LoadedTable

FIT_AS_OF = "2024-07-01"
N_CUSTOMERS = 240


def shop_log(n: int = N_CUSTOMERS, seed: int = 3) -> pd.DataFrame:
    """The generated log (clean: no guest rows, duplicates or non-product lines)."""
    return make_transactions(n, seed=seed, dirty=False)


def loaded(frame: pd.DataFrame, name: str = "shop.csv") -> LoadedTable:
    """A frame as if read from a file."""
    return LoadedTable(frame=frame, source=name, format="csv", details={})


def write_log(folder: Path, frame: pd.DataFrame | None = None, name: str = "shop.csv") -> Path:
    """The log as a CSV file in ``folder``."""
    path = folder / name
    (shop_log() if frame is None else frame).to_csv(path, index=False)
    return path
