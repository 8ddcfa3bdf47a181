"""A purchase log written twice: comma-separated, and in aligned columns (runs of spaces,
a header starting with a space, CRLF line ends) with dates as 8-digit
numbers; discounts are percentages."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from segmint.datasets import make_transactions


def write_twins(folder: Path, n_customers: int = 60, seed: int = 3) -> tuple[Path, Path]:
    """(comma file, aligned file) of the same log: customer_id, date (YYYYMMDD), quantity,
    amount, discount (a percentage: ``15%``)."""
    log = make_transactions(n_customers, seed=seed, dirty=False)
    out = pd.DataFrame({
        "customer_id": log.CustomerID,
        "date": log.InvoiceDate.dt.strftime("%Y%m%d").astype(int),
        "quantity": log.Quantity,
        "amount": (log.Quantity * log.UnitPrice).round(2),
        "discount": (log.Discount * 100).round(1).map(lambda v: f"{v:g}%"),
    })  # fmt: skip
    comma = folder / "log.csv"
    out.to_csv(comma, index=False)
    lines = [" customer_id       date  quantity     amount discount"] + [
        f"{r.customer_id:>12} {r.date:>10} {r.quantity:>9} {r.amount:>10.2f} {r.discount:>8}"
        for r in out.itertuples()
    ]
    aligned = folder / "log.txt"
    aligned.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return comma, aligned


def write_headerless(folder: Path, n_customers: int = 60, seed: int = 3) -> tuple[Path, ...]:
    """(reference, comma, aligned): the log of customer ids, dates and line totals with a
    header naming them, and header-less with a quantity column beside the dates (YYYYMMDD
    numbers), comma-separated and in blank-aligned columns with CRLF."""
    log = make_transactions(n_customers, seed=seed, dirty=False)
    out = pd.DataFrame({
        "customer_id": log.CustomerID,
        "date": log.InvoiceDate.dt.strftime("%Y%m%d").astype(int),
        "quantity": log.Quantity.abs() + 1,
        "amount": ((log.Quantity.abs() + 1) * log.UnitPrice + 0.01).round(2),
    })  # fmt: skip
    reference = folder / "named.csv"
    named = out[["customer_id", "date", "amount"]].assign(
        date=pd.to_datetime(out["date"].astype(str)).dt.strftime("%Y-%m-%d")
    )
    named.to_csv(reference, index=False)
    comma = folder / "headerless.csv"
    out.to_csv(comma, index=False, header=False)
    aligned = folder / "headerless.txt"
    lines = [f"{r.customer_id:>8} {r.date:>10} {r.quantity:>5} {r.amount:>10.2f}"
             for r in out.itertuples()]  # fmt: skip
    aligned.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return reference, comma, aligned
