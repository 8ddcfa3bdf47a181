"""A small hand-made transaction log with three planted behaviours (for CLI tests)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd


def write_shop(path: Path, per_group: int = 40, seed: int = 0, churn: bool = False) -> Path:
    """Regulars (recent, frequent, big), lapsed (long ago, few) and newcomers (one recent
    order); with ``churn`` a per-customer ``churned`` column (lapsed churn most)."""
    rng = np.random.default_rng(seed)
    end = dt.date(2024, 12, 31)
    rows = []
    for group, (orders, last_days, spend) in enumerate(
        [(12, 5, 120.0), (2, 300, 30.0), (1, 10, 40.0)]
    ):
        for i in range(per_group):
            customer = f"{'RLN'[group]}{i:03d}"
            churned = int(rng.random() < (0.1, 0.7, 0.3)[group])
            for o in range(orders):
                day = end - dt.timedelta(days=int(last_days + o * 20 + rng.integers(0, 5)))
                rows.append(
                    {
                        "customer_id": customer,
                        "order_id": f"{customer}-{o}",
                        "order_date": day.isoformat(),
                        "amount": round(float(spend * rng.uniform(0.8, 1.2)), 2),
                        **({"churned": churned} if churn else {}),
                    }
                )
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False)
    return path
