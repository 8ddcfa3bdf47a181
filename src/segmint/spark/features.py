"""Customer features in Spark: the local engine's spec and SQL, executed by Spark SQL.

:func:`spark_log_features` reads a CSV/TSV or Parquet log with Spark, builds the ``src``
view the feature engine expects (canonical columns, typed with the decisions
:func:`segmint.scan.read_sample` takes on the file's first megabytes, exactly as the
local streaming reader does), then runs :func:`segmint.features.compute_features`
itself on a :class:`~segmint.spark._dialect.SparkConnection`.  The cleaning rules, the
feature definitions and the spec resolution are therefore the local engine's code; only
the SQL dialect differs.

Differences from the local reader, by design: the reader's per-value check flags (text in
a numeric id column, and so on) are not computed, so the type decisions taken on the
sample are not revised on the whole file; a non-UTF-8 text file must be re-encoded first.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from segmint.blanks import WHITESPACE
from segmint.cells import NA_VALUES, PERCENT, money_digits, money_pattern
from segmint.errors import DataError, UsageError
from segmint.features.engine import TransactionFeatures, compute_features
from segmint.features.pii import classify_column, detect_pii
from segmint.features.spec import FAMILIES, FeatureSpec
from segmint.featurize import (
    IdPolicy,
    LogFeatures,
    apply_id_policy,
    complete_spec,
    roles_for,
)
from segmint.scan import ScanSource, numbers_as_time, read_sample
from segmint.scan_sql import MONEY_MARKS
from segmint.spark._dialect import SparkConnection

_WS = r"[\\s\\p{Z}\\x{85}]"
_TEXT_ROLES = (("customer", "customer_id"), ("order", "order_id"), ("product", "product"),
               ("category", "category"), ("channel", "channel"))  # fmt: skip
_NUMBER_ROLES = ("quantity", "price", "amount", "discount")


def _lit(text: str) -> str:
    return "'" + str(text).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _col(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _na_list() -> str:
    return ", ".join(_lit(v) for v in sorted(NA_VALUES) if v)


def _cleaned_text(col: str) -> str:
    stripped = f"regexp_replace({_col(col)}, '^{_WS}+|{_WS}+$', '')"
    missing = f"{stripped} IN ({_na_list()}) OR {stripped} = ''"
    return f"CASE WHEN {missing} THEN NULL ELSE {stripped} END"


def _java_formats(label: str) -> list[str]:
    order, sep = label[:2], label[2]
    base = f"dd{sep}MM{sep}yyyy" if order == "DD" else f"MM{sep}dd{sep}yyyy"
    formats = [f"{base} HH:mm:ss.SSSSSS", f"{base} HH:mm:ss", f"{base} HH:mm", base]
    formats += [f.replace(" ", "'T'", 1) for f in formats[:3]]
    return formats


def _text_id(x: str, kind: str) -> str:
    if kind == "int":
        return f"CAST(CAST(CAST({x} AS DOUBLE) AS DECIMAL(38, 0)) AS STRING)"
    if kind == "float":
        return f"CAST(CAST({x} AS DOUBLE) AS STRING)"
    return x


def _number(x: str, kind: str) -> str:
    if kind == "percent":  # as segmint.cells.type_percent reads it
        return (
            f"CASE WHEN {x} RLIKE {_lit(PERCENT)} "
            f"THEN try_cast(regexp_replace({x}, ' ?%$', '') AS DOUBLE) / 100 END"
        )
    if kind == "decimal_comma":
        return f"CAST(replace(replace({x}, '.', ''), ',', '.') AS DOUBLE)"
    if kind in MONEY_MARKS:  # as segmint.scan_sql.money_value reads it
        mark = MONEY_MARKS[kind]
        digits = f"regexp_replace({x}, {_lit(money_digits(mark))}, '')"
        if mark == ",":
            digits = f"replace({digits}, ',', '.')"
        sign = f"CASE WHEN startswith({x}, '(') OR contains({x}, '-') THEN -1 ELSE 1 END"
        return (
            f"CASE WHEN {x} RLIKE {_lit(money_pattern(mark))} "
            f"THEN {sign} * try_cast({digits} AS DOUBLE) END"
        )
    return f"CAST({x} AS DOUBLE)"


#: Spark SQL of each date written as a number (segmint.cells.NUMBER_DATES), from ``{x}``.
_NUMBER_DATES = {
    "YYYYMMDD": "try_to_timestamp({x}, 'yyyyMMdd')",
    "epoch_s": "timestamp_micros(CAST(round(try_cast({x} AS DOUBLE) * 1e6) AS BIGINT))",
    "epoch_ms": "timestamp_micros(CAST(round(try_cast({x} AS DOUBLE) * 1e3) AS BIGINT))",
    "excel_serial": (
        "timestamp_micros(CAST(round((try_cast({x} AS DOUBLE) - 25569) * 86400e6) AS BIGINT))"
    ),
}


def _time(x: str, label: str | None) -> str:
    if label in _NUMBER_DATES:
        return _NUMBER_DATES[label].format(x=x)
    if label in (None, "YYYY-MM-DD", "YYYY/MM/DD"):
        value = x if label != "YYYY/MM/DD" else f"replace({x}, '/', '-')"
        return f"CAST({value} AS TIMESTAMP)"
    tries = ", ".join(f"try_to_timestamp({x}, {_lit(f)})" for f in _java_formats(label))
    return f"coalesce({tries})"


def _blank_separated(spark: Any, source: ScanSource) -> Any:
    """The file of columns separated by runs of spaces or tabs, split as ``read_table``
    splits it (blanks around a line dropped, blank lines skipped, header dropped)."""
    from pyspark.sql import functions as F

    if source.skip:
        raise UsageError(f"{source.path}: --engine spark cannot skip lines before the header")
    lines = spark.read.text(str(source.path))
    line = F.regexp_replace(F.col("value"), "^[ \\t\\r]+|[ \\t\\r]+$", "")
    lines = lines.select(line.alias("line"), F.monotonically_increasing_id().alias("n"))
    if source.header:  # the file's first line is row 0 of the first partition
        lines = lines.where("n > 0")
    parts = F.split(F.col("line"), "[ \\t]+")
    return lines.where("line <> ''").select(
        *[parts[i].alias(name) for i, name in enumerate(source.raw_names)]
    )


def source_view(spark: Any, source: ScanSource, spec: FeatureSpec) -> None:
    """Create the temp view ``src`` of the file in ``source`` (canonical columns, row hash)."""
    path = str(source.path)
    if source.fmt == "parquet":
        raw = spark.read.parquet(path)
    elif source.delimiter == WHITESPACE:
        raw = _blank_separated(spark, source)
    else:
        if source.skip:
            raise UsageError(f"{path}: --engine spark cannot skip lines before the header")
        from pyspark.sql.types import StringType, StructField, StructType

        schema = StructType([StructField(n, StringType()) for n in source.raw_names])
        raw = spark.read.csv(
            path, schema=schema, header=source.header, sep=source.delimiter,
            quote=source.quote, escape=source.quote, mode="PERMISSIVE", enforceSchema=True,
            ignoreLeadingWhiteSpace=False, ignoreTrailingWhiteSpace=False, nullValue=None,
            emptyValue="",
        )  # fmt: skip
    raw.createOrReplaceTempView("segmint_raw")
    types = dict(raw.dtypes)
    select: dict[str, str] = {}
    for role, name in _TEXT_ROLES:
        col = getattr(spec, role)
        if col is None:
            select[name] = "CAST(NULL AS STRING)"
            continue
        raw_name = source.raw_names[source.names.index(col)]
        rule = source.rules[col]
        if types[raw_name] == "string":
            select[name] = _text_id(_cleaned_text(raw_name), rule.kind)
        elif types[raw_name] in ("double", "float") or types[raw_name].startswith("decimal"):
            select[name] = _text_id(_col(raw_name), "int" if rule.kind == "int" else "float")
        else:
            select[name] = f"CAST({_col(raw_name)} AS STRING)"
    assert spec.time is not None
    raw_time = source.raw_names[source.names.index(spec.time)]
    if types[raw_time] == "string":
        select["ts"] = _time(_cleaned_text(raw_time), source.rules[spec.time].date_label)
    else:
        select["ts"] = f"CAST({_col(raw_time)} AS TIMESTAMP)"
    for role in _NUMBER_ROLES:
        col = getattr(spec, role)
        if col is None:
            select[role] = "CAST(NULL AS DOUBLE)"
            continue
        raw_name = source.raw_names[source.names.index(col)]
        if types[raw_name] == "string":
            select[role] = _number(_cleaned_text(raw_name), source.rules[col].kind)
        else:
            select[role] = f"CAST({_col(raw_name)} AS DOUBLE)"
    row_hash = "xxhash64(" + ", ".join(_col(n) for n in source.raw_names) + ")"
    inner = ", ".join(f"{sql} AS {name}" for name, sql in select.items())
    value = "amount" if spec.amount is not None else "quantity * price"
    spark.sql(
        f"""
        SELECT customer_id, ts, order_id, quantity, price, CAST({value} AS DOUBLE) AS value,
               product, category, channel, discount, row_hash
        FROM (SELECT {inner}, {row_hash} AS row_hash FROM segmint_raw)
        """
    ).createOrReplaceTempView("src")


def configure(spark: Any) -> None:
    """Session settings the engine's SQL relies on (UTC timestamps, NULL on x / 0)."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.ansi.enabled", "false")


def spark_features(
    spark: Any,
    source: ScanSource,
    spec: FeatureSpec,
    *,
    as_of: dt.date | str | None = None,
    today: dt.date | None = None,
    families: tuple[str, ...] = FAMILIES,
) -> TransactionFeatures:
    """:func:`segmint.features.compute_features` on a file, executed by Spark.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    source : ScanSource
        From :func:`segmint.scan.read_sample` (the typing decided on the sample).
    spec : FeatureSpec
        With every column named.
    as_of, today, families
        As for :func:`segmint.features.compute_features`.
    """
    for col in spec.used_columns():
        if col not in source.names:
            raise DataError(f"{source.path}: column {col!r} not found")
    configure(spark)
    source_view(spark, source, spec)
    con = SparkConnection(spark)
    try:
        return compute_features(
            con,  # type: ignore[arg-type]
            spec, as_of=as_of, today=today, families=families, source=str(source.path),
        )  # fmt: skip
    finally:
        con.close()


def spark_log_features(
    spark: Any,
    data: str | os.PathLike[str],
    *,
    spec: FeatureSpec | None = None,
    customer_col: str | None = None,
    as_of: dt.date | str | None = None,
    families: tuple[str, ...] = FAMILIES,
    ids: IdPolicy | None = None,
    today: dt.date | None = None,
    sep: str | None = None,
) -> LogFeatures:
    """:func:`segmint.featurize.log_features` with the Spark engine (CSV/TSV/Parquet).

    The roles, personal-data checks and spec completion are decided on the file's sample
    exactly as by the local engine; the derivation runs in Spark. ``sep`` is the
    delimiter of a text file when detection cannot decide (``--sep``).
    """
    spec = spec or FeatureSpec()
    ids = ids or IdPolicy()
    path = Path(data)
    source = read_sample(path, sep=sep)
    frame, name = source.sample.frame, str(path)
    roles = roles_for(frame, spec, source=name, customer_col=customer_col)
    pii = detect_pii(frame, skip=(roles.customer,) if roles.customer else ())
    id_pii = classify_column(roles.customer, frame[roles.customer]) if roles.customer else None
    full = complete_spec(frame, roles, spec, pii, source=name)
    source = numbers_as_time(source, full)  # a time column of YYYYMMDD numbers, as locally
    result = spark_features(spark, source, full, as_of=as_of, today=today, families=families)
    result, policy, id_map = apply_id_policy(result, ids, id_pii)
    return LogFeatures(
        result=result, roles=roles, spec=result.spec or full,
        load={"format": source.fmt, "engine": "spark"},
        pii=([id_pii] if id_pii else []) + pii, ids=policy, id_map=id_map, sample=frame.head(0),
    )  # fmt: skip
