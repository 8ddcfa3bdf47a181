"""Write the compatibility fixtures of ``tests/test_compat.py``: a model folder and a
workspace as the current version of segmint writes them, with the labels it gives.

Run once per format generation (``python tests/compat/make_fixtures.py DIR``) with the
version whose files are to stay readable, and commit DIR; later versions must load and
serve them unchanged.  Kept to show how the fixtures were made, not run by the tests.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

from segmint import __version__
from segmint.datasets import make_transactions


def customers(n: int = 150, seed: int = 5) -> pd.DataFrame:
    """A customer table: two numbers and a plan, three planted groups."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    return pd.DataFrame({
        "customer_id": [f"K{i:04d}" for i in range(n)],
        "spend": np.round(np.array([80.0, 600.0, 2200.0])[group] * rng.lognormal(0, 0.2, n), 2),
        "visits": np.array([2, 10, 30])[group] + rng.integers(0, 3, n),
        "plan": np.array(["basic", "plus", "pro"])[group],
    })  # fmt: skip


def _segmint(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "segmint", *args], check=True, capture_output=True)


def main(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    work = target / "_work"
    log = work / "log.csv"
    table = work / "customers.csv"
    work.mkdir(exist_ok=True)
    make_transactions(120, seed=11, dirty=False).to_csv(log, index=False)
    customers().to_csv(table, index=False)
    _segmint("fit", str(log), "--out", str(work / "run"))
    _segmint("assign", str(work / "run"), str(log), "--out", str(target / "log_labels.csv"))
    _segmint("fit", str(table), "--out", str(work / "table_run"), "--workspace",
             str(work / "ws"))  # fmt: skip
    _segmint("assign", str(work / "ws"), str(table), "--out", str(target / "table_labels.csv"))
    (work / "ws" / ".writer.lock").unlink(missing_ok=True)
    with tarfile.open(target / "files.tar.gz", "w:gz") as tar:
        tar.add(log, "log.csv")
        tar.add(table, "customers.csv")
        tar.add(work / "run" / "model", "log_model")
        tar.add(work / "ws", "workspace")
        info = tarfile.TarInfo("VERSION")
        data = f"{__version__}\n".encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    subprocess.run(["rm", "-rf", str(work)], check=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
