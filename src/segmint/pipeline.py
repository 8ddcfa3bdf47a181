"""The whole job on a DataFrame: customer data in, named segments out.

``segment(frame)`` detects whether ``frame`` is a customer table or a transaction log,
derives one row per customer, prepares the features, chooses k, fits, profiles and names.
Every customer in is accounted for in :attr:`SegmentationResult.assignments` or
:attr:`SegmentationResult.excluded`.

Duplicate customer ids in a customer table: exact duplicate rows are dropped first; of
the remaining rows sharing an id, the first row in the file is kept and the others are
counted (and listed by id in the summary). A customer table without any id column uses
the 1-based row number as the id, and then keeps every row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from segmint._version import __version__
from segmint.errors import DataError, UsageError
from segmint.features.rfm import transaction_features
from segmint.features.spec import FeatureSpec
from segmint.features.roles import ColumnRoles, detect_roles, normalise_ids
from segmint.model import KSpec, fit_kmeans, nearest_centers
from segmint.prepare import Preparation, fit_preparation
from segmint.compare import ReusedCandidate
from segmint.display import model_html, result_html
from segmint.outcome import customer_outcome, outcome_overlay
from segmint.profile import SegmentProfile, profile_frame, profiles_table, segment_profiles

SCHEMA_VERSION = 1
ASSIGNMENT_COLUMNS = ["customer_id", "segment", "segment_name", "confidence"]
EXCLUDED_COLUMNS = ["customer_id", "reason", "detail"]


@dataclass(frozen=True)
class CustomerTable:
    """One row per customer, ready for preparation, and what was set aside on the way."""

    frame: pd.DataFrame  # customer_id first, then feature columns
    excluded: pd.DataFrame
    account: dict[str, Any]
    spec: FeatureSpec | None = None  # transaction logs: the resolved feature spec


def customer_table(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    *,
    source: str = "data",
    as_of: dt.date | str | None = None,
    spec: FeatureSpec | None = None,
) -> CustomerTable:
    """Turn a loaded table into one row per customer according to ``roles``.

    A transaction log's features follow ``spec`` (see :mod:`segmint.features.spec`;
    detected when not given).
    """
    if roles.kind == "transactions":
        derived = transaction_features(frame, roles, source=source, as_of=as_of, spec=spec)
        return CustomerTable(derived.features, derived.excluded, derived.account, derived.spec)
    table = frame.copy()
    account: dict[str, Any] = {"rows_read": len(table)}
    id_col = roles.customer
    if id_col is None:
        # No id column: the 1-based row number is the id, so every row is its own customer.
        id_col = "row number"
        while id_col in table.columns:
            id_col = f"_{id_col}"
        table[id_col] = np.arange(1, len(table) + 1)
        account["customer_id"] = "row number (the data has no customer id column)"
    before = len(table)
    if roles.customer is not None:
        # Without ids two equal rows may be two customers; with ids they are one, twice.
        table = table.drop_duplicates()
    account["duplicate_rows_dropped"] = before - len(table)
    ids = normalise_ids(table[id_col])
    rows = pd.Series(np.arange(len(frame)) + 1, index=frame.index)[table.index]
    excluded = pd.DataFrame(
        {
            "customer_id": pd.Series([""] * int(ids.isna().sum()), dtype="string"),
            "reason": "no_customer_id",
            "detail": [f"data row {r} has no value in {id_col!r}" for r in rows[ids.isna()]],
        }
    )
    account["rows_without_customer_id"] = int(ids.isna().sum())
    table = table.drop(columns=[id_col])
    table.insert(0, "customer_id", ids)
    table = table[ids.notna()]
    duplicated = table["customer_id"].duplicated(keep="first")
    account["duplicate_id_rows_dropped"] = int(duplicated.sum())
    if duplicated.any():
        account["duplicate_id_rule"] = "first row kept"
        account["duplicate_id_examples"] = table.loc[duplicated, "customer_id"].head(10).tolist()
    table = table[~duplicated].reset_index(drop=True)
    return CustomerTable(table, excluded.reset_index(drop=True), account)


@dataclass(frozen=True)
class SegmentationModel:
    """A fitted segmentation that can label new customers.

    Saved as JSON plus NumPy arrays by :mod:`segmint.artifacts`.
    """

    roles: ColumnRoles
    preparation: Preparation
    centers: np.ndarray
    segments: list[dict[str, Any]]
    selection: dict[str, Any]
    params: dict[str, Any]
    training: dict[str, Any]
    created: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    version: str = __version__

    @property
    def k(self) -> int:
        """Number of segments."""
        return len(self.centers)

    def segment_names(self) -> dict[int, str]:
        """Segment id -> name."""
        return {int(s["id"]): str(s["name"]) for s in self.segments}

    def assign(
        self, frame: pd.DataFrame, *, source: str = "data", as_of: dt.date | str | None = None
    ) -> Assignment:
        """Label the customers of ``frame`` (same shape of data as at fit time).

        A transaction log goes through the same feature derivation; a customer table
        through the same preparation. Missing feature columns are imputed as missing
        values and unseen category levels go to "other"; each such case is a note.
        """
        roles = self.roles
        if roles.customer is not None and roles.customer not in frame.columns:
            raise DataError(f"{source}: customer id column {roles.customer!r} not found")
        if roles.kind == "transactions":
            for col in (roles.time, roles.amount, roles.quantity, roles.price):
                if col and col not in frame.columns:
                    raise DataError(f"{source}: column {col!r} (needed by the model) not found")
        table = customer_table(frame, roles, source=source, as_of=as_of, spec=self.feature_spec())
        missing = [c for c in self.preparation.input_columns if c not in table.frame.columns]
        if missing and len(missing) * 2 > len(self.preparation.input_columns):
            raise DataError(
                f"{source}: most feature columns the model needs are missing: {', '.join(missing)}"
            )
        assignments, notes = self.label_customers(table.frame)
        return Assignment(assignments, table.excluded, notes, table.account)

    def feature_spec(self) -> FeatureSpec | None:
        """The resolved feature spec a transaction-log model derives its features with."""
        data = self.params.get("feature_spec")
        return FeatureSpec.from_dict(data, source="model") if data else None

    def segment_ids(self) -> np.ndarray:
        """Segment id of each centre, in the order of :attr:`centers`.

        0..k-1 after a fit; a workspace refresh keeps the ids of matched segments, so they
        need not be contiguous (see :mod:`segmint.monitor`).
        """
        return np.array([int(s["id"]) for s in self.segments], dtype=np.int64)

    def label_customers(self, customers: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
        """Label a customer table whose features are already derived.

        Parameters
        ----------
        customers : DataFrame
            ``customer_id`` and the feature columns (what :func:`customer_table` gives).

        Returns
        -------
        assignments : DataFrame
            ``customer_id``, ``segment``, ``segment_name``, ``confidence``.
        notes : list of str
            Missing columns and coerced values (see :meth:`Preparation.transform`).
        """
        matrix, notes = self.preparation.transform(customers)
        positions, confidence = nearest_centers(matrix, self.centers)
        labels = self.segment_ids()[positions]
        names = self.segment_names()
        assignments = pd.DataFrame(
            {
                "customer_id": customers["customer_id"].astype("string").to_numpy(),
                "segment": labels,
                "segment_name": [names[int(s)] for s in labels],
                "confidence": np.round(confidence, 6),
            }
        )
        return assignments, notes

    def fingerprint(self) -> str:
        """SHA-256 of the model's content (parameters and arrays), 16 hex digits."""
        payload = json.dumps(
            {
                "roles": self.roles.to_dict(),
                "preparation": self.preparation.to_dict(),
                "centers": np.round(self.centers, 12).tolist(),
                "segments": self.segments,
                "feature_spec_hash": self.params.get("feature_spec_hash"),
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def _repr_html_(self) -> str:
        return model_html(self)


@dataclass(frozen=True)
class Assignment:
    """Labels for customers, and those that could not be labelled."""

    assignments: pd.DataFrame
    excluded: pd.DataFrame
    notes: list[str]
    account: dict[str, Any]


@dataclass(frozen=True)
class SegmentationResult:
    """Everything :func:`segment` found.

    Attributes
    ----------
    model : SegmentationModel
    assignments : DataFrame
        ``customer_id``, ``segment``, ``segment_name``, ``confidence``.
    excluded : DataFrame
        ``customer_id``, ``reason``, ``detail``.
    profiles : list of SegmentProfile
    features : DataFrame
        The customer table the segments were formed on (original units).
    summary : dict
        What ``summary.json`` holds.
    """

    model: SegmentationModel
    assignments: pd.DataFrame
    excluded: pd.DataFrame
    profiles: list[SegmentProfile]
    features: pd.DataFrame
    summary: dict[str, Any]

    @property
    def labels(self) -> np.ndarray:
        """Segment of every segmented customer, in the order of :attr:`assignments`."""
        return self.assignments["segment"].to_numpy()

    def profiles_table(self) -> pd.DataFrame:
        """One row per segment (what ``profiles.csv`` holds)."""
        return profiles_table(self.profiles, self.summary.get("outcome"))

    def _repr_html_(self) -> str:
        return result_html(self.summary, self.profiles)


def segment(
    frame: pd.DataFrame,
    *,
    k: KSpec = "auto",
    customer_col: str | None = None,
    input_kind: Literal["auto", "customers", "transactions"] = "auto",
    as_of: dt.date | str | None = None,
    exclude: tuple[str, ...] = (),
    random_state: int | None = 0,
    source: str = "data",
    roles: ColumnRoles | None = None,
    outcome: str | None = None,
    reuse: ReusedCandidate | None = None,
    spec: FeatureSpec | None = None,
    table: CustomerTable | None = None,
) -> SegmentationResult:
    """Segment the customers in ``frame``.

    Parameters
    ----------
    frame : DataFrame
        A customer table (one row per customer) or a transaction log.
    k : "auto", int or (int, int)
        Number of segments, or the range to choose it from.
    customer_col : str, optional
        The customer id column (detected when not given).
    input_kind : {"auto", "customers", "transactions"}
        Shape of ``frame``; detected by default.
    as_of : date or ISO string, optional
        For a transaction log: compute features as of this date.
    exclude : tuple of str
        Columns never used as features.
    random_state : int or None
        Seed; the same seed and data give the same segments.
    source : str
        Name used in messages.
    roles : ColumnRoles, optional
        Use these column roles instead of detecting them (a refresh derives features
        exactly as the model it replaces did); ``customer_col`` and ``input_kind`` are
        then ignored.
    outcome : str, optional
        A column never used to form segments whose rate or mean per segment is reported,
        with confidence intervals and a test across segments (``summary["outcome"]``;
        see :mod:`segmint.outcome`).
    reuse : ReusedCandidate, optional
        A saved candidate of ``fit --compare`` (:mod:`segmint.compare`): used instead of
        fitting k-means when the prepared matrix is the one it was fitted on.
    spec : FeatureSpec, optional
        For a transaction log: columns, feature families and cleaning rules (detected
        when not given); stored resolved in the model, with its hash.
    table : CustomerTable, optional
        Customer features already derived (a log streamed from a file by
        :mod:`segmint.featurize`); ``frame`` is then only used for column checks.

    Returns
    -------
    SegmentationResult
    """
    if roles is None:
        roles = detect_roles(frame, source=source, customer=customer_col, kind=input_kind)
    else:
        for col in roles.to_dict().values():
            if col not in (None, roles.kind) and col not in frame.columns:
                raise DataError(f"{source}: column {col!r} (used by the model) not found")
    for col in exclude:
        if col not in frame.columns:
            raise UsageError(
                f"{source}: --exclude column {col!r} not found (columns: {', '.join(map(str, frame.columns))})"
            )
    if outcome is not None and outcome not in frame.columns:
        raise UsageError(f"{source}: --outcome column {outcome!r} not found")
    if table is None:
        table = customer_table(frame, roles, source=source, as_of=as_of, spec=spec)
    customers = table.frame
    if len(customers) == 0:
        raise DataError(f"{source}: no customer could be segmented ({len(table.excluded)} excluded)")
    feature_exclude = ("customer_id", *exclude, *([outcome] if outcome else []))
    preparation = fit_preparation(customers, exclude=feature_exclude, source=source)
    matrix, _ = preparation.transform(customers)
    fitted = reuse.fit(matrix) if reuse is not None else None
    if fitted is None:
        fitted = fit_kmeans(matrix, k, random_state=random_state)
    values = profile_frame(customers, preparation)
    profiles = segment_profiles(
        values, fitted.labels, fitted.confidence, len(fitted.centers),
        matrix=matrix, centers=fitted.centers, ids=customers["customer_id"],
    )  # fmt: skip
    segments = [
        {"id": p.id, "name": p.name, "action": p.action, "size": p.size, "share": round(p.share, 6)}
        for p in profiles
    ]
    names = {p.id: p.name for p in profiles}
    assignments = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].astype("string").to_numpy(),
            "segment": fitted.labels,
            "segment_name": [names[int(s)] for s in fitted.labels],
            "confidence": np.round(fitted.confidence, 6),
        }
    )
    model = SegmentationModel(
        roles=roles,
        preparation=preparation,
        centers=fitted.centers,
        segments=segments,
        selection=fitted.selection.to_dict(),
        params={"k": k if isinstance(k, (str, int)) else list(k), "random_state": random_state,
                "algorithm": "kmeans", "exclude": list(exclude),
                "as_of": str(as_of) if as_of is not None else None,
                **({"feature_spec": table.spec.to_dict(), "feature_spec_hash": table.spec.fingerprint()}
                   if table.spec is not None else {})},  # fmt: skip
        training={"source": source, "n_customers": len(customers), "account": table.account,
                  "feature_columns": [c for c in customers.columns if c != "customer_id"]},  # fmt: skip
    )
    excluded = table.excluded
    summary = {
        "segmint_version": __version__,
        "source": source,
        "input_kind": roles.kind,
        "roles": roles.to_dict(),
        "k": model.k,
        "algorithm": "kmeans",
        "n_customers": len(customers),
        "n_excluded": len(excluded),
        "excluded_by_reason": {str(k_): int(v) for k_, v in excluded["reason"].value_counts().items()},
        "segments": segments,
        "data": table.account,
        "features": [c for c in customers.columns if c != "customer_id"],
        "features_used": preparation.input_columns,
        "preparation": {"columns": list(preparation.columns), "decisions": preparation.decisions},
        "selection": fitted.selection.to_dict(),
        "model_fingerprint": model.fingerprint(),
        "random_state": random_state,
    }
    if outcome is not None:
        known = (
            customers[outcome]
            if outcome in customers.columns
            else customer_outcome(frame, roles, customers["customer_id"], outcome, source=source)
        )
        summary["outcome"] = outcome_overlay(known, fitted.labels, names, column=outcome).to_dict()
    return SegmentationResult(
        model=model,
        assignments=assignments,
        excluded=excluded,
        profiles=profiles,
        features=customers,
        summary=summary,
    )
