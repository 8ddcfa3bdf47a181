"""Batch assignment from a Parquet customer table, reading only what the model uses.

:func:`assign_parquet` gives exactly what ``model.assign(read_table(path).frame)`` gives
(labels, confidences, notes, excluded customers, account) for a customer-table model,
faster on large files:

* only the id column and the model's feature columns are read, typed by the same rules as
  any read (:mod:`segmint.io`; text columns stay Arrow-backed);
* the features are prepared and labelled by the model's own
  :meth:`~segmint.pipeline.SegmentationModel.label_customers`, while another thread checks
  the ids for repeats (a 64-bit hash of each id from Arrow's buffers; ids sharing a hash
  are compared as text);
* without repeats (the usual batch) no row is compared whole and nothing is copied: at
  most one row has no id, listed as excluded exactly as
  :func:`segmint.pipeline.customer_table` lists it;
* a file that repeats ids (or lacks two or more) is read whole and goes through
  :meth:`~segmint.pipeline.SegmentationModel.assign`: the whole-row comparison of
  repeated rows needs every column.

It returns ``None`` when it does not apply (not a ``.parquet`` / ``.pq`` file, a
transaction-log model, a file it cannot read, columns the model needs missing): the caller
then takes the general path, which also reports what is wrong with the file.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmint.customers import ROW_NUMBER_ID, rows_without_id
from segmint.features.roles import normalise_ids
from segmint.io import clean_names, read_parquet
from segmint.pipeline import Assignment, SegmentationModel

PARQUET_SUFFIXES = (".parquet", ".pq")


def assign_parquet(model: SegmentationModel, path: str | os.PathLike[str]) -> Assignment | None:
    """Label the customers of a Parquet file with a customer-table model.

    Parameters
    ----------
    model : SegmentationModel
        A model fitted on a customer table (one row per customer).
    path : str or os.PathLike
        A ``.parquet`` / ``.pq`` file.

    Returns
    -------
    Assignment or None
        What :meth:`SegmentationModel.assign` gives on the file as :func:`segmint.io.read_table`
        reads it; ``None`` when this path does not apply (see the module docstring).
    """
    source = os.fspath(path)
    roles = model.roles
    if roles.kind != "customers" or Path(source).suffix.lower() not in PARQUET_SUFFIXES:
        return None
    id_col = roles.customer
    tier = getattr(model.assigner, "column", None)
    wanted = [*model.preparation.input_columns, *([tier] if tier else [])]
    try:
        data = Path(source).read_bytes()
        raw_names = pq.read_schema(pa.BufferReader(data)).names
        names = clean_names(source, raw_names)
    except MemoryError:
        raise
    except Exception:  # the general path reports what is wrong with the file
        return None
    # The general path's own errors and corner cases (an id column missing, a feature named
    # like the id column, "customer_id" taken by another column, most features missing).
    if (
        (id_col is not None and id_col not in names)
        or ("customer_id" in names and id_col != "customer_id")
        or id_col in wanted
        or "customer_id" in wanted
    ):
        return None
    missing = [c for c in model.preparation.input_columns if c not in names]
    if missing and len(missing) * 2 > len(model.preparation.input_columns):
        return None
    raw = dict(zip(names, raw_names, strict=True))
    read = list(dict.fromkeys([*([id_col] if id_col else []), *(c for c in wanted if c in raw)]))
    try:
        loaded = read_parquet(source, data, [raw[c] for c in read])
    except MemoryError:
        raise
    except Exception:
        return None
    frame, n = loaded.frame, len(loaded.frame)
    if id_col is None:
        ids = normalise_ids(pd.Series(np.arange(1, n + 1)))
    elif loaded.details["column_types"][id_col] == "text":
        ids = frame[id_col].astype("string")  # typed text is stripped, blanks missing already
    else:
        ids = normalise_ids(frame[id_col])
    known = ids.notna().to_numpy()
    without = n - int(known.sum())
    if id_col is not None and without > 1:  # missing ids repeat: rows are compared whole
        return model.assign(read_parquet(source, data).frame, source=source)
    account: dict[str, object] = {"rows_read": n}
    if id_col is None:
        account["customer_id"] = ROW_NUMBER_ID
    account.update(
        duplicate_rows_dropped=0, rows_without_customer_id=without, duplicate_id_rows_dropped=0
    )
    excluded = rows_without_id((np.flatnonzero(~known) + 1).tolist(), str(id_col))
    customers = pd.DataFrame(
        {"customer_id": ids, **{c: frame[c] for c in wanted if c in frame.columns}}, copy=False
    )
    if without:
        customers = customers[known].reset_index(drop=True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # the ids are checked while the customers are labelled (labels unused if ids repeat)
        repeats = pool.submit(_repeats, customers["customer_id"]) if id_col else None
        assignments, notes = model.label_customers(customers)
        if repeats is not None and repeats.result():
            return model.assign(read_parquet(source, data).frame, source=source)
    return Assignment(assignments, excluded, notes, account)


def _repeats(ids: pd.Series) -> bool:
    """Whether any id occurs twice (``ids`` has no missing values).

    Equal ids have equal 64-bit hashes (:func:`_hashes`); only ids sharing a hash are
    compared as text, so a collision costs time, never a wrong answer.
    """
    text = pa.chunked_array(pa.array(ids.array)).combine_chunks()
    hashes = _hashes(text)
    ordered = np.sort(hashes)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return False
    candidates = text.take(pa.array(np.flatnonzero(np.isin(hashes, ordered[1:][same]))))
    return len(pc.unique(candidates)) < len(candidates)


_HASH_BLOCK = 65_536
_PRIME = np.uint64(0x100000001B3)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_BYTE_MASKS = np.array([0, *((1 << (8 * r)) - 1 for r in range(1, 8)), 2**64 - 1], dtype=np.uint64)


def _hashes(text: pa.Array) -> np.ndarray:
    """A 64-bit hash of every string of a null-free Arrow string array, from its buffers:
    the length, then each 8-byte word in turn (xor, multiply), without a Python string
    per value (Arrow's own hashing of a million ids is several times slower); in blocks
    of rows, so that the temporary arrays stay small."""
    _, offset_buffer, data_buffer = text.buffers()
    wide = pa.types.is_large_string(text.type)
    offsets = np.frombuffer(offset_buffer, dtype=np.int64 if wide else np.int32)
    offsets = offsets[text.offset : text.offset + len(text) + 1]
    first, size = int(offsets[0]), int(offsets[-1] - offsets[0])
    padded = np.zeros(size + 8, dtype=np.uint8)  # a word may be read from any byte
    if size:
        padded[:size] = np.frombuffer(data_buffer, dtype=np.uint8)[first : first + size]
    words = np.ndarray(shape=(size + 1,), dtype="<u8", buffer=padded, strides=(1,))
    hashes = np.empty(len(text), dtype=np.uint64)
    for at in range(0, len(text), _HASH_BLOCK):
        bounds = offsets[at : at + _HASH_BLOCK + 1].astype(np.int64) - first
        starts, lengths = bounds[:-1], np.diff(bounds)
        block = lengths.astype(np.uint64) * _GOLDEN
        for k in range(-(-int(lengths.max(initial=0)) // 8)):
            left = lengths - 8 * k
            word = words[np.minimum(starts + 8 * k, size)] & _BYTE_MASKS[np.clip(left, 0, 8)]
            block = np.where(left > 0, (block ^ word) * _PRIME, block)
        hashes[at : at + len(block)] = block
    return hashes
