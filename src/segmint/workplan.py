"""How much memory the streamed feature derivation may take, and where DuckDB works.

A log that fits a quarter of the machine's memory (at most :data:`IN_MEMORY_CAP`) is
worked on in memory; a larger one in a compressed database file under
:data:`OUT_OF_CORE_LIMIT`, so memory stays bounded whatever the size.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segmint.errors import UsageError

__all__ = ["IN_MEMORY_CAP", "LINE_BYTES", "OUT_OF_CORE_LIMIT", "WorkPlan", "parse_size",
           "physical_memory", "plan_work"]  # fmt: skip

LINE_BYTES = 250
"""Memory one line of the log takes when the work database is in memory: the typed line
and its share of the hash tables of the passes (measured: 2.2 GB at 10 million lines)."""
IN_MEMORY_CAP = 4 << 30
"""The most memory the automatic choice gives an in-memory work database."""
OUT_OF_CORE_LIMIT = "1GB"
"""DuckDB's memory limit when the log is too large to work on in memory."""

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*((?:[kmgt]i?)?b?)\s*", re.IGNORECASE)
_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_UNITS |= {f"{u}i": 1 << (10 * (i + 1)) for i, u in enumerate("kmgt")}


def parse_size(text: str) -> int:
    """Bytes of a size as DuckDB spells it (``"1GB"``, ``"512MiB"``, ``"2 gb"``).

    Raises
    ------
    UsageError
        The text is not a size.
    """
    match = _SIZE.fullmatch(str(text))
    if match is None:
        raise UsageError(f"memory limit {text!r} is not a size such as 1GB or 512MiB")
    number, unit = float(match.group(1)), match.group(2).lower().rstrip("b")
    return int(number * _UNITS[unit])


def physical_memory() -> int:
    """Bytes of memory this process may use: the machine's, or its cgroup's if lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            total = min(total, int(limit))
    return total


@dataclass(frozen=True)
class WorkPlan:
    """Where DuckDB keeps the lines while it works on them, and its memory limit."""

    in_memory: bool
    memory_limit: str
    reason: str

    def describe(self) -> dict[str, Any]:
        return {
            "work_database": "memory" if self.in_memory else "file",
            "memory_limit": self.memory_limit,
            "why": self.reason,
        }


def plan_work(rows: int, memory_limit: str | None = None) -> WorkPlan:
    """In memory when the log fits the budget, else a compressed database file.

    ``memory_limit`` None: the budget is a quarter of the machine's memory, at most
    :data:`IN_MEMORY_CAP`; a log that needs more (about 16 million lines at most) is
    worked on from a database file under a 1 GB limit, so memory stays bounded whatever
    the size.  A given ``memory_limit`` is DuckDB's limit either way, and the log is kept
    in memory only when it fits within it.
    """
    need = rows * LINE_BYTES
    if memory_limit is None:
        budget = min(physical_memory() // 4, IN_MEMORY_CAP)
        if need <= budget:
            limit = f"{max(budget, 1 << 30) >> 20}MiB"
            return WorkPlan(True, limit, f"about {rows:,} lines fit in memory")
        return WorkPlan(
            False, OUT_OF_CORE_LIMIT, f"about {rows:,} lines need more than {budget >> 20} MiB"
        )
    if need <= parse_size(memory_limit):
        return WorkPlan(True, memory_limit, f"about {rows:,} lines fit the memory limit")
    return WorkPlan(False, memory_limit, f"about {rows:,} lines exceed the memory limit")
