"""The feature engine's DuckDB SQL, executed by Spark SQL (one spec, two executions).

:func:`segmint.features.engine.compute_features` drives the whole derivation through a
connection's ``execute(sql)``.  :class:`SparkConnection` is such a connection for a
SparkSession: each statement the engine builds from the spec (the same Python code, the
same feature definitions of :mod:`segmint.features.families` and cleaning rules of
:mod:`segmint.features.clean`) is translated to Spark's dialect by :func:`to_spark_sql`
and run by Spark.  Intermediate tables are temp views, persisted, so Spark computes each
once; only small results (counts, one row per customer at the end) reach the driver.

The translation is syntactic and closed: every DuckDB construct the engine uses is listed
in :data:`_REWRITES` or handled below.  Spark has no ``UPDATE`` of a view, so the
connection says ``updates_in_place = False`` and the engine joins duplicate and voided
lines in its views instead of marking them in the table of lines.  A statement still
holding DuckDB-only syntax fails loudly in Spark's parser, and the agreement test on
Online Retail catches any drift between the engines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

_REWRITES: tuple[tuple[str, str], ...] = (
    # date_diff('day', a, b) = b - a in days: Spark's timestampdiff(DAY, a, b).
    (r"date_diff\('day',", "timestampdiff(DAY,"),
    # ISO day of week (Monday 1 ... Sunday 7): Spark's weekday is Monday 0.
    (r"\bisodow\(", "1 + weekday("),
    (r"\bstarts_with\(", "startswith("),
    (r"\bANTI JOIN\b", "LEFT ANTI JOIN"),
    (r"\bSEMI JOIN\b", "LEFT SEMI JOIN"),
    (r"\bAS VARCHAR\)", "AS STRING)"),
    (r"::UBIGINT\b", "::BIGINT"),
    (r"::VARCHAR\b", "::STRING"),
    # DuckDB's ENUM type for the line states: a string in Spark.
    (r"\bAS ENUM \([^)]*\)", "AS STRING"),
    (r"\bstrlen\(", "octet_length("),
    # A star without some columns: Spark 4 spells DuckDB's EXCLUDE as EXCEPT.
    (r"\* EXCLUDE \(", "* EXCEPT ("),
)

_EPOCH = re.compile(r"\bepoch\(")
_QUOTED_ALIAS = re.compile(r'AS "((?:[^"]|"")+)"')
_TEMP_TABLE = re.compile(r"^\s*CREATE OR REPLACE (?:TEMP )?(TABLE|VIEW) (\w+) AS\s", re.S)
_DROP = re.compile(r"^\s*DROP (?:TABLE|VIEW) (\w+)\s*$")


def _epoch(sql: str) -> str:
    # epoch(ts): seconds since 1970 as a double, microseconds kept.
    out, pos = [], 0
    for match in _EPOCH.finditer(sql):
        start = match.end()
        depth, i = 1, start
        while depth:
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
        out.append(sql[pos : match.start()])
        out.append(f"(unix_micros({sql[start : i - 1]}) / 1000000.0)")
        pos = i
    out.append(sql[pos:])
    return "".join(out)


def to_spark_sql(sql: str) -> tuple[str | None, str]:
    """(temp view to create or None, the query in Spark's dialect) for one statement."""
    view = None
    match = _TEMP_TABLE.match(sql)
    if match:
        view, sql = match.group(2), sql[match.end() :]
    for pattern, replacement in _REWRITES:
        sql = re.sub(pattern, replacement, sql)
    sql = _epoch(sql)
    sql = _QUOTED_ALIAS.sub(lambda m: "AS `" + m.group(1).replace('""', '"') + "`", sql)
    return view, sql


@dataclass
class SparkResult:
    """What ``execute`` returns: a Spark DataFrame with DuckDB's cursor methods."""

    frame: Any  # pyspark.sql.DataFrame

    def df(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame (collected through Arrow)."""
        return self.frame.toPandas()

    def fetchall(self) -> list[tuple[Any, ...]]:
        """The rows as tuples."""
        return [tuple(row) for row in self.frame.collect()]

    @property
    def description(self) -> list[tuple[str]]:
        """Column names, as DB-API cursors give them."""
        return [(name,) for name in self.frame.columns]


@dataclass
class SparkConnection:
    """A DuckDB-connection look-alike over a SparkSession (see the module docstring)."""

    spark: Any  # pyspark.sql.SparkSession
    persisted: dict[str, Any] = field(default_factory=dict)
    statements: list[str] = field(default_factory=list)
    updates_in_place = False  # no UPDATE: see CleaningSQL.in_place

    def execute(self, sql: str) -> SparkResult:
        """Translate and run one statement; a ``CREATE ... AS`` becomes a persisted view."""
        dropped = _DROP.match(sql)
        if dropped:
            # The engine frees a table it no longer needs: unpersist it, drop the view.
            name = dropped.group(1)
            if name in self.persisted:
                self.persisted.pop(name).unpersist()
            self.spark.catalog.dropTempView(name)
            return SparkResult(self.spark.sql("SELECT 1 AS dropped").limit(0))
        view, query = to_spark_sql(sql)
        match = _TEMP_TABLE.match(sql)
        kind = match.group(1) if match else None
        self.statements.append(query)
        frame = self.spark.sql(query)
        if view is None:
            return SparkResult(frame)
        if view in self.persisted:
            self.persisted.pop(view).unpersist()
        # A table is computed now and cut from its lineage: later statements read the
        # stored rows and plan against a leaf, not against every statement before. A view
        # is cached when first used (Spark cannot checkpoint some of them: the union of
        # the distinct lines).
        frame = frame.localCheckpoint(eager=True) if kind == "TABLE" else frame.persist()
        frame.createOrReplaceTempView(view)
        self.persisted[view] = frame
        return SparkResult(frame.limit(0))

    def query_progress(self) -> float:
        """Spark reports progress in its own UI; -1 means unknown, as in DuckDB."""
        return -1.0

    def close(self) -> None:
        """Release the persisted views."""
        for frame in self.persisted.values():
            frame.unpersist()
        self.persisted.clear()
