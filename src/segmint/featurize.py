"""Customer features from a transaction-log file: the code path of ``segmint features``
and of ``segmint fit`` / ``assign`` on a log.

CSV, TSV and Parquet files are streamed through DuckDB (:mod:`segmint.scan`); Excel and
JSON files are read with :func:`segmint.io.read_table` and go through the same engine in
memory.  Either way the columns are detected (or taken from a feature spec), personal
data columns are found (:mod:`segmint.features.pii`) and kept out, and customer ids are
pseudonymised when asked or when they are themselves personal data.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from segmint.errors import DataError, UsageError
from segmint.features.engine import Progress, TransactionFeatures, frame_features
from segmint.features.pii import PiiColumn, classify_column, detect_pii, new_salt, pseudonymise
from segmint.features.rfm import spec_from_roles
from segmint.features.roles import ColumnRoles, content_note, detect_roles
from segmint.features.spec import FAMILIES, FIT_FAMILIES, FeatureSpec, parse_spec
from segmint.io import LoadedTable, read_table, write_table
from segmint.scan import ScanSource, can_stream, read_sample, stream_features

SPEC_FORMATS = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml"}


def load_spec(path: str | os.PathLike[str]) -> FeatureSpec:
    """Read a feature spec file (``.toml``, ``.yaml`` or ``.yml``).

    Raises
    ------
    UsageError
        Missing file, unknown extension, or an invalid spec.
    """
    target = Path(path)
    fmt = SPEC_FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise UsageError(f"{target}: a feature spec must be .toml, .yaml or .yml")
    if not target.is_file():
        raise UsageError(f"{target}: no such spec file")
    return parse_spec(target.read_text(encoding="utf-8"), fmt=fmt, source=str(target))


@dataclass(frozen=True)
class IdPolicy:
    """How customer ids are written: as they are, or pseudonymised.

    Attributes
    ----------
    hash_ids : bool
        Pseudonymise (``--hash-ids``).
    salt : str, optional
        Salt of the pseudonyms; a random one per run when not given.
    keep_pii : bool
        Write ids that are personal data as they are (``--keep-pii``).
    """

    hash_ids: bool = False
    salt: str | None = None
    keep_pii: bool = False


@dataclass(frozen=True)
class LogFeatures:
    """Customer features of a transaction-log file, ready to write or to segment."""

    result: TransactionFeatures
    roles: ColumnRoles
    spec: FeatureSpec
    load: dict[str, Any]
    pii: list[PiiColumn]
    ids: dict[str, Any]
    id_map: pd.DataFrame | None = None
    sample: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def table(self) -> pd.DataFrame:
        """Features, then ``quality_score`` and ``quality_reasons``."""
        return self.result.with_quality()


def roles_for(
    frame: pd.DataFrame, spec: FeatureSpec, *, source: str, customer_col: str | None = None
) -> ColumnRoles:
    """Transaction-log roles: the spec's columns when it names them all, else detected."""
    customer = spec.customer or customer_col
    if customer is not None and customer not in frame.columns:
        raise UsageError(f"{source}: customer id column {customer!r} not found")
    if spec.customer and spec.time and (spec.amount or (spec.quantity and spec.price)):
        return ColumnRoles(
            kind="transactions", customer=spec.customer, time=spec.time, amount=spec.amount,
            quantity=spec.quantity, price=spec.price, order=spec.order,
        )  # fmt: skip
    return detect_roles(frame, source=source, customer=customer, kind="transactions")


def complete_spec(
    frame: pd.DataFrame, roles: ColumnRoles, spec: FeatureSpec, pii: list[PiiColumn], *, source: str
) -> FeatureSpec:
    """The spec with every column named, personal data kept out of every feature role."""
    personal = {p.column: p.kind for p in pii}
    guarded = spec
    for role in ("product", "category", "channel", "discount"):
        col = getattr(spec, role)
        if col is not None and col in personal:
            raise UsageError(
                f"{source}: column {col!r} holds personal data ({personal[col]}); it cannot be "
                f"the {role} column"
            )
    # Personal columns are not candidates for the detected roles.
    visible = frame.drop(
        columns=[c for c in personal if c in frame.columns and c != roles.customer]
    )
    full = spec_from_roles(visible, roles, guarded)
    for role in ("time", "order", "quantity", "price", "amount"):
        col = getattr(full, role)
        if col is not None and col in personal:
            raise UsageError(
                f"{source}: column {col!r} holds personal data ({personal[col]}); "
                f"it cannot be the {role} column"
            )
    return full


def log_features(
    data: str | os.PathLike[str],
    *,
    spec: FeatureSpec | None = None,
    customer_col: str | None = None,
    as_of: dt.date | str | None = None,
    families: tuple[str, ...] = FAMILIES,
    sheet: str | None = None,
    ids: IdPolicy | None = None,
    progress: Progress | None = None,
    memory_limit: str | None = None,
    today: dt.date | None = None,
    scan: ScanSource | None = None,
    sep: str | None = None,
) -> LogFeatures:
    """Compute the customer features of a transaction-log file.

    Parameters
    ----------
    data : path
        CSV/TSV/Parquet (streamed) or Excel/JSON (read into memory).
    spec : FeatureSpec, optional
        Columns, families and cleaning rules; detected where not given.  A resolved spec
        from a model recomputes the features exactly as at fit time.
    customer_col : str, optional
        The customer id column (``--id``), when the spec does not name it.
    as_of : date or ISO string, optional
        Only transactions before this date.
    families : tuple of str
        Families computed when the spec names none.
    sheet : str, optional
        Excel sheet.
    ids : IdPolicy, optional
        Pseudonymise ids (and keep personal ids or not).
    progress : callable, optional
        ``progress(step, percent)``.
    memory_limit : str, optional
        DuckDB's memory limit for streamed files; default: chosen from the log's size and
        the machine's memory (see :func:`segmint.scan.plan_work`).
    today : date, optional
        The run's date (future dates); default today.
    scan : ScanSource, optional
        :func:`segmint.scan.read_sample` of ``data``, when the caller has already read it.
    sep : str, optional
        The delimiter of a text log (see :func:`segmint.io.read_table`); the log is then
        read into memory.  ``data`` ``"-"`` reads standard input.
    """
    spec = spec or FeatureSpec()
    ids = ids or IdPolicy()
    path = Path(data)
    streamed = can_stream(path) and sheet is None and sep is None
    if streamed:
        if progress is not None:
            progress("reading a sample", None)
        source_scan = scan or read_sample(path)
        frame, source = source_scan.sample.frame, str(path)
    else:
        loaded = read_table(path, sheet=sheet, sep=sep)
        frame, source = loaded.frame, loaded.source
    roles = roles_for(frame, spec, source=source, customer_col=customer_col)
    pii = detect_pii(frame, skip=(roles.customer,) if roles.customer else ())
    id_pii = classify_column(roles.customer, frame[roles.customer]) if roles.customer else None
    full = complete_spec(frame, roles, spec, pii, source=source)
    if streamed:
        streamed_result = stream_features(
            source_scan, full, as_of=as_of, today=today, families=families,
            progress=progress, memory_limit=memory_limit,
        )  # fmt: skip
        result, load = streamed_result.features, streamed_result.load
        load = {"format": source_scan.fmt, **load}
    else:
        result = frame_features(
            frame,
            full,
            as_of=as_of,
            today=today,
            families=families,
            source=source,
            progress=progress,
        )
        load = {"format": loaded.format, **loaded.details}
    result, policy, id_map = apply_id_policy(result, ids, id_pii)
    return LogFeatures(
        result=result,
        roles=roles,
        spec=result.spec or full,
        load=load,
        pii=([id_pii] if id_pii else []) + pii,
        ids=policy,
        id_map=id_map,
        sample=frame.head(0),
    )


def apply_id_policy(
    result: TransactionFeatures, ids: IdPolicy, id_pii: PiiColumn | None
) -> tuple[TransactionFeatures, dict[str, Any], pd.DataFrame | None]:
    """Pseudonymise the ids of ``result`` when asked, or when they are personal data."""
    personal = id_pii is not None and not ids.keep_pii
    if not (ids.hash_ids or personal):
        note: dict[str, Any] = {"pseudonymised": False}
        if id_pii is not None:
            note["personal_data"] = id_pii.kind
        return result, note, None
    salt = ids.salt or new_salt()
    everyone = pd.concat(
        [result.features["customer_id"], result.excluded["customer_id"]], ignore_index=True
    )
    everyone = everyone.dropna().drop_duplicates()
    hashed = pseudonymise(everyone, salt)
    mapping = dict(zip(everyone.tolist(), hashed.tolist(), strict=True))

    def swap(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None:
            return None
        out = frame.copy()
        out["customer_id"] = out["customer_id"].map(mapping).astype("string")
        return out

    features = swap(result.features)
    excluded = swap(result.excluded)
    assert features is not None and excluded is not None
    new = replace(result, features=features, excluded=excluded, quality=swap(result.quality))
    policy = _pseudonym_policy(ids, id_pii)
    id_map = pd.DataFrame({"customer_id": everyone.to_numpy(), "pseudonym": hashed.to_numpy()})
    return new, policy, id_map


def _pseudonym_policy(ids: IdPolicy, id_pii: PiiColumn | None) -> dict[str, Any]:
    """How the customer ids were pseudonymised, for the summary."""
    reason = (
        "--hash-ids"
        if ids.hash_ids
        else f"the customer id is personal data ({id_pii.kind if id_pii else ''})"
    )
    return {
        "pseudonymised": True,
        "reason": reason,
        "method": "sha256(salt:id), 16 hex digits",
        "salt": "given" if ids.salt else "random, not kept",
    }


def write_features(
    run: LogFeatures, out: str | os.PathLike[str], *, id_map: str | os.PathLike[str] | None = None
) -> Path:
    """Write the feature table (CSV or Parquet by extension) and, when asked, the id map."""
    target = Path(out)
    if target.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise UsageError(f"{target}: --out must end in .csv or .parquet")
    if target.is_dir():
        raise UsageError(f"{target}: --out must be a file name, and this is a folder")
    if id_map is not None:
        if run.id_map is None:
            raise UsageError("--id-map needs pseudonymised ids (--hash-ids)")
        write_table(run.id_map, id_map)
    write_table(run.table, target)
    return target


def features_summary(run: LogFeatures) -> dict[str, Any]:
    """What ``segmint features`` reports: counts, cleaning, quality, spec, personal data."""
    account = dict(run.result.account)
    note = content_note(run.sample, run.roles)
    return {
        "customers": len(run.result.features),
        "excluded": len(run.result.excluded),
        "excluded_by_reason": {
            str(k): int(v) for k, v in run.result.excluded["reason"].value_counts().items()
        },
        "features": [c for c in run.result.features.columns if c != "customer_id"],
        "data": account,
        "load": run.load,
        "roles": run.roles.to_dict(),
        "feature_spec": run.spec.to_dict(),
        "feature_spec_hash": run.spec.fingerprint(),
        "personal_data": [p.to_dict() for p in run.pii],
        "ids": run.ids,
        "warnings": [note] if note else [],
    }


def check_not_empty(run: LogFeatures, source: str) -> None:
    """A log in which no customer has an order is a data problem."""
    if len(run.result.features) == 0:
        raise DataError(f"{source}: no customer has an order ({len(run.result.excluded)} excluded)")


# ----------------------------------------------------------------------------- fit / assign
@dataclass(frozen=True)
class FitInput:
    """What ``fit`` segments: the loaded table (a sample when the log is streamed) and,
    for a streamed log, the customer features already derived."""

    loaded: LoadedTable
    roles: ColumnRoles | None = None
    table: Any = None  # pipeline.CustomerTable of a streamed log
    spec: FeatureSpec | None = None
    pii: list[PiiColumn] = field(default_factory=list)
    ids: dict[str, Any] = field(default_factory=dict)
    id_map: pd.DataFrame | None = None


def open_for_fit(
    data: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    input_kind: str = "auto",
    customer_col: str | None = None,
    as_of: dt.date | str | None = None,
    spec: FeatureSpec | None = None,
    ids: IdPolicy | None = None,
    stream: bool = True,
    families: tuple[str, ...] = FIT_FAMILIES,
    progress: Progress | None = None,
    memory_limit: str | None = None,
) -> FitInput:
    """Read ``data`` for ``fit``: a transaction log in CSV/TSV/Parquet is streamed and its
    features derived here; anything else is read into memory (ids pseudonymised in place
    when the policy says so).

    Parameters
    ----------
    stream : bool
        Allow streaming (a caller that needs the whole table in memory says False).
    """
    from segmint.customers import CustomerTable

    ids = ids or IdPolicy()
    path = Path(data)
    if stream and sheet is None and input_kind != "customers" and can_stream(path):
        source_scan = read_sample(path)
        frame = source_scan.sample.frame
        kind = input_kind
        if input_kind == "auto" and not _names_log(spec):
            kind = detect_roles(
                frame, source=str(path), customer=spec.customer if spec else customer_col
            ).kind
        if kind == "transactions" or _names_log(spec):
            run = log_features(
                path, spec=spec, customer_col=customer_col, as_of=as_of, families=families,
                ids=ids, progress=progress, memory_limit=memory_limit, scan=source_scan,
            )  # fmt: skip
            details = {k: v for k, v in run.load.items() if k != "format"}
            loaded = LoadedTable(frame, str(path), str(run.load.get("format", "csv")), details)
            note = content_note(frame, run.roles)
            table = CustomerTable(
                run.result.features, run.result.excluded, run.result.account, run.spec,
                run.result.quality, warnings=(note,) if note else (),
            )  # fmt: skip
            return FitInput(loaded, run.roles, table, run.spec, run.pii, run.ids, run.id_map)
    loaded = read_table(path, sheet=sheet)
    roles = None
    if input_kind != "customers" or _names_log(spec):
        try:
            roles = (
                roles_for(
                    loaded.frame,
                    spec or FeatureSpec(),
                    source=loaded.source,
                    customer_col=customer_col,
                )
                if _names_log(spec)
                else None
            )
        except DataError:
            roles = None
    return pseudonymise_loaded(
        loaded, ids, customer_col=customer_col, roles=roles, input_kind=input_kind
    )


def _names_log(spec: FeatureSpec | None) -> bool:
    return (
        spec is not None
        and spec.customer is not None
        and spec.time is not None
        and bool(spec.value_columns())
    )


def pseudonymise_loaded(
    loaded: LoadedTable,
    ids: IdPolicy,
    *,
    customer_col: str | None = None,
    roles: ColumnRoles | None = None,
    input_kind: str = "auto",
) -> FitInput:
    """Find personal data in a table read into memory, and pseudonymise its ids if needed."""
    frame = loaded.frame
    if roles is None:
        roles = detect_roles(frame, source=loaded.source, customer=customer_col, kind=input_kind)  # type: ignore[arg-type]
    pii = detect_pii(frame, skip=(roles.customer,) if roles.customer else ())
    id_pii = classify_column(roles.customer, frame[roles.customer]) if roles.customer else None
    personal = id_pii is not None and not ids.keep_pii
    policy: dict[str, Any] = {"pseudonymised": False}
    id_map = None
    if roles.customer is not None and (ids.hash_ids or personal):
        from segmint.features.roles import normalise_ids

        salt = ids.salt or new_salt()
        original = normalise_ids(frame[roles.customer])
        hashed = pseudonymise(original, salt)
        frame = frame.copy()
        frame[roles.customer] = hashed
        pairs = (
            pd.DataFrame({"customer_id": original, "pseudonym": hashed}).dropna().drop_duplicates()
        )
        id_map = pairs.reset_index(drop=True)
        policy = _pseudonym_policy(ids, id_pii)
    elif id_pii is not None:
        policy["personal_data"] = id_pii.kind
    all_pii = ([id_pii] if id_pii else []) + pii
    return FitInput(replace(loaded, frame=frame), roles, None, None, all_pii, policy, id_map)


def assign_log(
    model: Any,
    data: str | os.PathLike[str],
    *,
    as_of: dt.date | str | None = None,
    ids: IdPolicy | None = None,
    progress: Progress | None = None,
    memory_limit: str | None = None,
) -> tuple[Any, LogFeatures]:
    """Label the customers of a streamed log with a transaction-log model.

    The features are recomputed with the model's resolved feature spec.  Returns the
    :class:`segmint.pipeline.Assignment` and the features run.
    """
    from segmint.customers import with_quality
    from segmint.pipeline import Assignment

    spec = model.feature_spec()
    if spec is None:
        roles = model.roles
        spec = FeatureSpec(
            customer=roles.customer, time=roles.time, order=roles.order, amount=roles.amount,
            quantity=roles.quantity, price=roles.price,
        )  # fmt: skip
    run = log_features(
        data, spec=spec, as_of=as_of, ids=ids, progress=progress, memory_limit=memory_limit
    )
    customers = run.result.features
    missing = [c for c in model.preparation.input_columns if c not in customers.columns]
    if missing and len(missing) * 2 > len(model.preparation.input_columns):
        raise DataError(
            f"{data}: most feature columns the model needs are missing: {', '.join(missing)}"
        )
    assignments, notes = model.label_customers(customers)
    if run.result.quality is not None:
        assignments = with_quality(assignments, run.result.quality)
    return Assignment(assignments, run.result.excluded, notes, run.result.account), run


def streamable(data: str | os.PathLike[str], model: Any) -> bool:
    """Whether ``assign`` streams ``data``: a CSV/TSV/Parquet file for a log model."""
    return model.roles.kind == "transactions" and can_stream(data)
