"""How many threads the numeric work uses: one inside many small fits, one per core
for independent ones."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from threadpoolctl import ThreadpoolController


@functools.cache
def _thread_pools() -> ThreadpoolController:
    return ThreadpoolController()


@contextmanager
def single_thread() -> Iterator[None]:
    """Run BLAS and OpenMP on one thread inside the block.

    The selection, comparison and stability make many small fits on samples, where
    threads cost more in synchronisation than they gain (badly so on a busy machine).
    """
    with _thread_pools().limit(limits=1):
        yield


def parallel_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """``[fn(item) for item in items]`` on one thread per core (results in order).

    For independent fits that release the GIL (scikit-learn's k-means, NumPy); each must
    draw from its own seeded generator so that the results do not depend on the timing.
    """
    workers = min(len(items), os.cpu_count() or 1)
    if workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))
