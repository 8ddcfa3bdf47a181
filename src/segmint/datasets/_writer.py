"""Writing a generated log chunk by chunk to Parquet or CSV, one chunk in memory at a time."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from segmint.datasets._simulate import (
    check_count,
    checked_options,
    chunk_seeds,
    generate,
)
from segmint.datasets._tables import (
    FIRST_INVOICE,
    SCHEMA,
    WRITE_ROWS,
)
from segmint.errors import UsageError


def write_transactions(
    path: str | os.PathLike[str],
    n_customers: int,
    *,
    chunk_customers: int = 50_000,
    **kwargs: Any,
) -> int:
    """Generate a transaction log chunk by chunk straight into a Parquet or CSV file.

    Only one chunk of customers is in memory at a time, and its strings only a slice
    of rows at a time, so logs far larger than memory can be written.  Memory grows with
    ``chunk_customers``: about 50 rows per customer with the default mix and period, and
    some 60 bytes per row of the chunk at the peak (about 0.15 GB above the imports for
    the default 50,000 customers, whatever the size of the log).

    Chunk ``i`` gets its own seed (child ``i`` of ``numpy.random.SeedSequence(seed)``),
    the customers ``i * chunk_customers + 1 ...`` and invoice numbers following the
    previous chunk's.  Rows are in time order within a chunk, not across chunks.  The
    absurd-quantity line is planted in the first chunk only.  With a single chunk the
    file holds exactly ``make_transactions(n_customers, **kwargs)``.

    Parameters
    ----------
    path : str or os.PathLike
        Output file, replaced if it exists; ``.parquet`` / ``.pq`` writes Parquet (one or
        more row groups per chunk), ``.csv`` writes CSV with a header (dates as
        ``YYYY-MM-DD HH:MM:SS``, missing ``CustomerID`` empty).
    n_customers : int
        Number of customers.
    chunk_customers : int, default 50_000
        Customers per chunk.
    **kwargs
        ``start``, ``end``, ``seed``, ``dirty`` and ``weights`` as for
        :func:`make_transactions`.

    Returns
    -------
    int
        Number of rows written.

    Raises
    ------
    segmint.errors.UsageError
        An unknown file extension, bad counts, or bad generator arguments.
    TypeError
        An argument :func:`make_transactions` does not take.
    """
    allowed = {"start", "end", "seed", "dirty", "weights"}
    if kwargs.get("return_truth"):
        raise UsageError("write_transactions writes the log only; return_truth is not allowed")
    kwargs.pop("return_truth", None)
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise TypeError(f"write_transactions() got an unexpected keyword argument {unknown[0]!r}")
    n = check_count(n_customers, "n_customers", minimum=0)
    chunk = check_count(chunk_customers, "chunk_customers", minimum=1)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".parquet", ".pq", ".csv"}:
        raise UsageError(f"cannot write {path}: the extension must be .parquet, .pq or .csv")
    defaults = {"start": "2023-01-01", "end": "2024-12-31", "dirty": True, "weights": None}
    args = {**defaults, **{k: v for k, v in kwargs.items() if k != "seed"}}
    options = checked_options(n, args["start"], args["end"], args["dirty"], args["weights"])
    n_chunks = max(1, math.ceil(n / chunk))
    seeds = chunk_seeds(kwargs.get("seed", 0), n_chunks)

    if suffix == ".csv":
        csv_schema = SCHEMA.set(
            SCHEMA.get_field_index("InvoiceDate"), pa.field("InvoiceDate", pa.timestamp("s"))
        )
        writer: Any = pa_csv.CSVWriter(path, csv_schema)
    else:
        csv_schema = None
        writer = pq.ParquetWriter(path, SCHEMA)
    rows = 0
    invoice = FIRST_INVOICE
    try:
        for i, chunk_seed in enumerate(seeds):
            size = min(chunk, n - i * chunk) if n else 0
            part = generate(
                size,
                chunk_seed,
                options,
                id_offset=i * chunk,
                first_invoice=invoice,
                absurd=i == 0,
            )
            invoice += part.n_invoices
            # Strings take most of the memory: build them a slice of rows at a time.
            for lo in range(0, max(part.n_rows, 1), WRITE_ROWS):
                table = part.table(lo, lo + WRITE_ROWS)
                if csv_schema is not None:
                    table = table.cast(csv_schema)
                writer.write_table(table)
                rows += table.num_rows
                del table
            del part
    except BaseException:
        writer.close()
        path.unlink(missing_ok=True)
        raise
    writer.close()
    return rows
