"""The whole job on a DataFrame: customer data in, named segments out.

``segment(frame)`` detects whether ``frame`` is a customer table or a transaction log,
derives one row per customer, prepares the features, chooses k, fits, profiles and names.
Every customer in is accounted for in :attr:`SegmentationResult.assignments` or
:attr:`SegmentationResult.excluded`.  For a transaction log the assignments also carry
each customer's data-quality score and its reasons (``quality_score``,
``quality_reasons``; see :mod:`segmint.features.clean`), which are never features.

Duplicate customer ids in a customer table: exact duplicate rows are dropped first; of
the remaining rows sharing an id, the first row in the file is kept and the others are
counted (and listed by id in the summary). A customer table without any id column uses
the 1-based row number as the id, and then keeps every row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import pyarrow as pa

from segmint._version import __version__
from segmint.algorithms.base import (
    UNASSIGNED,
    Assigner,
    CentroidAssigner,
)
from segmint.algorithms.saved import assigner_document
from segmint.cells import type_frame
from segmint.compare import ReusedCandidate
from segmint.customers import (  # noqa: F401 (re-exported)
    BATCH_ROWS,
    EXCLUDED_COLUMNS,
    ROW_NUMBER_COLUMN,
    ROW_NUMBER_ID,
    CustomerTable,
    customer_table,
    output_table,
    rows_without_id,
    with_quality,
)
from segmint.display import model_html, result_html
from segmint.errors import DataError, UsageError
from segmint.features.roles import ColumnRoles, detect_roles
from segmint.features.spec import FeatureSpec
from segmint.headline import structure_sentence
from segmint.model import KSpec, fit_segmentation
from segmint.outcome import customer_outcome, outcome_overlay
from segmint.prepare import Preparation, fit_preparation
from segmint.profile import SegmentProfile, profile_frame, profiles_table, segment_profiles
from segmint.threads import single_thread
from segmint.trivial import trivial_partition, trivial_warning

SCHEMA_VERSION = 1
ASSIGNMENT_COLUMNS = ["customer_id", "segment", "segment_name", "confidence"]
PROBABILITY_PREFIX = "p_segment_"


def probability_columns(
    assigner: Assigner | None, matrix: np.ndarray, ids: np.ndarray
) -> dict[str, np.ndarray]:
    """``p_segment_<id>`` columns: the membership probability of every row in every
    segment (segment ids as the user sees them), for a rule that gives probabilities
    (the Gaussian mixture); no columns for the others."""
    probabilities = assigner.probabilities(matrix) if assigner is not None else None
    if probabilities is None:
        return {}
    return {
        f"{PROBABILITY_PREFIX}{int(segment)}": np.round(probabilities[:, j], 6)
        for j, segment in enumerate(ids)
    }


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
    created: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    version: str = __version__
    assigner: Assigner | None = None  # the family's labelling rule; None: nearest centre

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
        frame = type_frame(frame)  # as at fit time
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
        if table.quality is not None:
            assignments = with_quality(assignments, table.quality)
        return Assignment(assignments, table.excluded, notes, table.account)

    def feature_spec(self) -> FeatureSpec | None:
        """The resolved feature spec a transaction-log model derives its features with."""
        data = self.params.get("feature_spec")
        return FeatureSpec.from_dict(data, source="model") if data else None

    def segment_ids(self) -> np.ndarray:
        """Segment id of each centre, in the order of :attr:`centers`.

        0..k-1 after a fit; a workspace refresh keeps the ids of matched segments, so they
        need not be contiguous (see :mod:`segmint.monitor`). HDBSCAN's unassigned group
        (-1) has no centre and is not listed.
        """
        ids = [int(s["id"]) for s in self.segments if int(s["id"]) != UNASSIGNED]
        return np.array(ids, dtype=np.int64)

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
        positions, confidence = self.positions(matrix, customers)
        labels = np.where(positions >= 0, self.segment_ids()[np.maximum(positions, 0)], UNASSIGNED)
        # Text columns built by Arrow (no Python object per customer); names by position,
        # the last one for the unassigned.
        ids = pa.chunked_array(pa.array(customers["customer_id"].astype("string").array))
        names = pa.array([*(str(s["name"]) for s in self.segments), "Unassigned"])
        named = names.take(pa.array(np.where(positions >= 0, positions, len(names) - 1)))
        assignments = pd.DataFrame(
            {
                "customer_id": ids.to_pandas().array,
                "segment": labels,
                "segment_name": named.to_pandas().array,
                "confidence": np.round(confidence, 6),
                **probability_columns(self.assigner, matrix, self.segment_ids()),
            },
            copy=False,  # fresh arrays: no block copy of a million rows
        )
        return assignments, notes

    def positions(
        self, matrix: np.ndarray, customers: pd.DataFrame | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Segment position (index into :attr:`centers`; -1 unassigned) and confidence of
        every row of a prepared matrix, by the model's rule (``customers`` gives the tier
        of each row for a model fitted ``within`` a column)."""
        rule = self.assigner if self.assigner is not None else CentroidAssigner(self.centers)
        column = getattr(rule, "column", None)
        tiers = None
        if column is not None:
            from segmint.algorithms.tiers import tier_values

            if customers is None or column not in customers.columns:
                raise DataError(f"column {column!r} (the tiers of the model) not found")
            tiers = tier_values(customers[column])
        if len(matrix) < BATCH_ROWS:  # a few customers: no thread-pool switch per request
            return self._predict(rule, matrix, tiers)
        # Labelling multiplies small blocks: BLAS threads only wait on each other (many
        # times slower on a busy machine), and one thread gives the same numbers.
        with single_thread():
            return self._predict(rule, matrix, tiers)

    @staticmethod
    def _predict(
        rule: Assigner, matrix: np.ndarray, tiers: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if tiers is None:
            return rule.predict(matrix)
        return rule.predict_groups(matrix, tiers)  # type: ignore[attr-defined,no-any-return]

    def fingerprint(self) -> str:
        """SHA-256 of the model's content (parameters and arrays), 16 hex digits."""
        rule: dict[str, Any] = {}
        if self.assigner is not None and not isinstance(self.assigner, CentroidAssigner):
            document, arrays = assigner_document(self.assigner)
            digest = hashlib.sha256()
            for name in sorted(arrays):
                digest.update(name.encode())
                values = np.round(np.asarray(arrays[name], dtype=float), 12)
                digest.update(np.ascontiguousarray(values).tobytes())
            rule = {"assigner": {**document, "arrays_sha256": digest.hexdigest()}}
        payload = json.dumps(
            {
                "roles": self.roles.to_dict(),
                "preparation": self.preparation.to_dict(),
                "centers": np.round(self.centers, 12).tolist(),
                "segments": self.segments,
                "feature_spec_hash": self.params.get("feature_spec_hash"),
                **rule,
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
        return cast(np.ndarray, self.assignments["segment"].to_numpy())

    def profiles_table(self) -> pd.DataFrame:
        """One row per segment (what ``profiles.csv`` holds)."""
        return profiles_table(self.profiles, self.summary.get("outcome"))

    def _repr_html_(self) -> str:
        return result_html(self.summary, self.profiles)


@dataclass(frozen=True)
class ModelFit:
    """The fitted segments as the pipeline needs them, whatever produced them.

    ``positions`` index :attr:`centers` (-1 = unassigned); ``ids`` give each position's
    segment id (0..k-1, or tier-numbered ids within tiers).
    """

    positions: np.ndarray
    confidence: np.ndarray
    centers: np.ndarray
    assigner: Assigner | None
    algorithm: str
    selection: dict[str, Any]
    ids: np.ndarray
    tier_of: list[str] | None = None

    @property
    def labels(self) -> np.ndarray:
        """Segment id of every customer (-1 = unassigned)."""
        return np.where(self.positions >= 0, self.ids[np.maximum(self.positions, 0)], UNASSIGNED)

    def relabel(self, profiles: list[SegmentProfile]) -> list[SegmentProfile]:
        """Profiles computed by position, with segment ids (and tier in the name)."""
        if self.tier_of is None:
            return profiles
        out = []
        for p in profiles:
            if p.id == UNASSIGNED:
                out.append(p)
                continue
            tier = self.tier_of[p.id]
            out.append(replace(p, id=int(self.ids[p.id]), name=f"{tier}: {p.name}"))
        return out

    def segment_extras(self, segment_id: int) -> dict[str, Any]:
        """The tier of a segment (within tiers)."""
        if self.tier_of is None or segment_id == UNASSIGNED:
            return {}
        position = int(np.flatnonzero(self.ids == segment_id)[0])
        return {"tier": self.tier_of[position]}


def _fit_model(
    matrix: np.ndarray,
    customers: pd.DataFrame,
    k: KSpec,
    *,
    algorithm: str,
    within: str | None,
    reuse: ReusedCandidate | None,
    random_state: int | None,
    n_features: int,
) -> ModelFit:
    """Fit the segments: a reused candidate, tiers, or one segmentation."""
    reused = reuse.fit(matrix) if reuse is not None else None
    if reused is not None:
        k_reused = len(reused.centers)
        return ModelFit(
            reused.labels, reused.confidence, reused.centers, None, "kmeans",
            reused.selection.to_dict(), np.arange(k_reused),
        )  # fmt: skip

    def one(sub: np.ndarray) -> Any:
        return fit_segmentation(
            sub, k, algorithm=algorithm, random_state=random_state, n_features=n_features
        )

    if within is not None:
        from segmint.algorithms.tiers import fit_tiers, tier_values

        tiers = fit_tiers(matrix, tier_values(customers[within]), within, one)
        return ModelFit(
            tiers.labels, tiers.confidence, tiers.centers, tiers.assigner, "tiers",
            tiers.diagnostics(within), tiers.ids, tiers.tier_of,
        )  # fmt: skip
    result = one(matrix)
    return ModelFit(
        result.labels, result.confidence, result.centers, result.fitted.assigner, result.algorithm,
        result.diagnostics(), np.arange(result.fitted.k),
    )  # fmt: skip


# The options of segment() that the commands pass through by name (the others need an
# output folder: --compare, the report).
SEGMENT_OPTIONS = ("algorithm", "within", "keep", "outcome", "spec", "keep_sentinels")


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
    algorithm: str = "auto",
    within: str | None = None,
    keep_sentinels: bool = False,
    keep: tuple[str, ...] = (),
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
    algorithm : str
        ``"auto"`` (the default: compares k-means, Gaussian mixture, Ward and Genie) or a
        family of :mod:`segmint.algorithms`.
    within : str, optional
        A column (plan tier, region, ...) whose values are segmented separately, k chosen
        per tier; segment ids are ``tier number * 100 + id`` (see :mod:`segmint.algorithms.tiers`).
    keep_sentinels : bool
        Keep placeholder and impossible values as they are; by default they are set to
        missing and listed in ``summary["data_quality"]`` (see :mod:`segmint.sentinels`).
    keep : tuple of str
        Columns kept as features even when the segments are only their levels. By default
        such a column (:mod:`segmint.trivial`; a gender flag, a plan type) is left out and
        the customers are segmented again on the other features, which the summary's
        ``trivial_excluded`` and first warning say; a numeric column's ranges are only
        warned about.

    Returns
    -------
    SegmentationResult
    """
    if table is None:
        frame = type_frame(frame)  # a DataFrame's text typed as a file's would be
    if roles is None:
        roles = detect_roles(frame, source=source, customer=customer_col, kind=input_kind)
    else:
        for col in roles.to_dict().values():
            if col not in (None, roles.kind) and col not in frame.columns:
                raise DataError(f"{source}: column {col!r} (used by the model) not found")
    for col in exclude:
        if col not in frame.columns:
            raise UsageError(
                f"{source}: --exclude column {col!r} not found "
                f"(columns: {', '.join(map(str, frame.columns))})"
            )
    for col in keep:
        if col not in frame.columns:
            raise UsageError(
                f"{source}: --keep column {col!r} not found "
                f"(columns: {', '.join(map(str, frame.columns))})"
            )
        if col in exclude:
            raise UsageError(f"{source}: column {col!r} is given to both --exclude and --keep")
    if outcome is not None and outcome not in frame.columns:
        raise UsageError(f"{source}: --outcome column {outcome!r} not found")
    if table is None:
        table = customer_table(frame, roles, source=source, as_of=as_of, spec=spec)
    customers = table.frame
    if len(customers) == 0:
        raise DataError(
            f"{source}: no customer could be segmented ({len(table.excluded)} excluded)"
        )
    if within is not None and within not in customers.columns:
        raise UsageError(
            f"{source}: --within column {within!r} not found among the customer features"
        )
    result = _segment_table(
        frame, table, roles, k=k, exclude=exclude, drop=(), as_of=as_of,
        random_state=random_state, source=source, outcome=outcome, reuse=reuse,
        algorithm=algorithm, within=within, keep_sentinels=keep_sentinels,
    )  # fmt: skip
    found = result.summary["trivial_partition"]
    if (
        found is None
        or found["kind"] != "categorical"
        or found["column"] in keep
        or within is not None
        or len(result.model.preparation.input_columns) < 2
    ):
        return _with_keep(result, keep)
    again = _segment_table(
        frame, table, roles, k=k, exclude=exclude, drop=(found["column"],), as_of=as_of,
        random_state=random_state, source=source, outcome=outcome, reuse=None,
        algorithm=algorithm, within=within, keep_sentinels=keep_sentinels,
    )  # fmt: skip
    return _with_keep(_without_trivial(again, found, first_k=int(result.summary["k"])), keep)


def _with_keep(result: SegmentationResult, keep: tuple[str, ...]) -> SegmentationResult:
    """``keep`` recorded in the model's parameters (a refit keeps the same columns)."""
    if keep:
        result.model.params["keep"] = list(keep)
    return result


def _without_trivial(
    result: SegmentationResult, found: dict[str, Any], *, first_k: int
) -> SegmentationResult:
    """The refit without a column whose levels alone made the first segments, saying so."""
    column = found["column"]
    share = "all" if found["value"] >= 1 else f"at least {found['value']:.0%}"
    seen = (
        f"were split again by the levels of {column} (each segment {share} one level)"
        if found["statistic"] == "nested_levels"
        else f"were the levels of {column} (Cramér's V {found['value']:.2f})"
    )
    note = (
        f"the first segments (k = {first_k}) {seen}; segmented again without it, on the "
        "other features "
        f"(--keep {column} keeps it)"
    )
    if result.model.k == 1:
        note += (
            f"; without it there are no distinct segments: the levels of {column} are the "
            "only split these data show"
        )
    summary = result.summary
    summary["trivial_excluded"] = [{**found, "action": "excluded and refitted"}]
    summary["warnings"] = [note, *summary["warnings"]]
    result.model.params["trivial_excluded"] = [column]
    return result


def _segment_table(
    frame: pd.DataFrame,
    table: CustomerTable,
    roles: ColumnRoles,
    *,
    k: KSpec,
    exclude: tuple[str, ...],
    drop: tuple[str, ...],
    as_of: dt.date | str | None,
    random_state: int | None,
    source: str,
    outcome: str | None,
    reuse: ReusedCandidate | None,
    algorithm: str,
    within: str | None,
    keep_sentinels: bool,
) -> SegmentationResult:
    """:func:`segment` on the derived customer table, with ``drop`` also left out of the
    features (a column found to make a trivial partition)."""
    customers = table.frame
    feature_exclude = (
        "customer_id",
        *exclude,
        *drop,
        *([outcome] if outcome else []),
        *([within] if within else []),
    )
    preparation = fit_preparation(
        customers, exclude=feature_exclude, source=source, keep_sentinels=keep_sentinels
    )
    matrix, _ = preparation.transform(customers)
    fitted = _fit_model(
        matrix, customers, k, algorithm=algorithm, within=within, reuse=reuse,
        random_state=random_state, n_features=len(preparation.input_columns),
    )  # fmt: skip
    values = profile_frame(customers, preparation)
    profiles = segment_profiles(
        values, fitted.positions, fitted.confidence, len(fitted.centers),
        matrix=matrix, centers=fitted.centers, ids=customers["customer_id"],
    )  # fmt: skip
    profiles = fitted.relabel(profiles)
    segments = [
        {"id": p.id, "name": p.name, "action": p.action, "size": p.size, "share": round(p.share, 6),
         **fitted.segment_extras(p.id)}
        for p in profiles
    ]  # fmt: skip
    names = {p.id: p.name for p in profiles}
    labels = fitted.labels
    assignments = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].astype("string").to_numpy(),
            "segment": labels,
            "segment_name": [names[int(s)] for s in labels],
            "confidence": np.round(fitted.confidence, 6),
            **probability_columns(fitted.assigner, matrix, fitted.ids),
        }
    )
    if table.quality is not None:
        assignments = with_quality(assignments, table.quality)
    model = SegmentationModel(
        roles=roles,
        preparation=preparation,
        centers=fitted.centers,
        segments=segments,
        selection=fitted.selection,
        assigner=fitted.assigner,
        params={
            "k": k if isinstance(k, (str, int)) else list(k),
            "random_state": random_state,
            "algorithm": algorithm,
            "algorithm_used": fitted.algorithm,
            "within": within,
            "exclude": list(exclude),
            "as_of": str(as_of) if as_of is not None else None,
            **(
                {
                    "feature_spec": table.spec.to_dict(),
                    "feature_spec_hash": table.spec.fingerprint(),
                }
                if table.spec is not None
                else {}
            ),
        },
        training={
            "source": source,
            "n_customers": len(customers),
            "account": table.account,
            "feature_columns": [c for c in customers.columns if c != "customer_id"],
        },
    )
    excluded = table.excluded
    summary = {
        "segmint_version": __version__,
        "source": source,
        "input_kind": roles.kind,
        "roles": roles.to_dict(),
        "k": model.k,
        "algorithm": fitted.algorithm,
        "structure": fitted.selection.get("structure", True),
        "message": fitted.selection.get("message"),
        "warnings": [
            *table.warnings,
            *(f"placeholder values: {rule.describe()}" for rule in preparation.sentinels),
            *fitted.selection.get("warnings", []),
        ],
        "n_customers": len(customers),
        "n_excluded": len(excluded),
        "excluded_by_reason": {
            str(k_): int(v) for k_, v in excluded["reason"].value_counts().items()
        },
        "segments": segments,
        "data": table.account,
        "features": [c for c in customers.columns if c != "customer_id"],
        "features_used": preparation.input_columns,
        "preparation": {"columns": list(preparation.columns), "decisions": preparation.decisions},
        "data_quality": {"sentinels": [rule.to_dict() for rule in preparation.sentinels]},
        "selection": fitted.selection,
        "stability": fitted.selection.get("stability"),
        "model_fingerprint": model.fingerprint(),
        "random_state": random_state,
    }
    summary["headline"] = _headline(summary)
    found = trivial_partition(customers, list(preparation.input_columns), np.asarray(labels))
    summary["trivial_partition"] = found
    if found is not None:
        summary["warnings"].append(trivial_warning(found))
    if outcome is not None:
        known = (
            customers[outcome]
            if outcome in customers.columns
            else customer_outcome(frame, roles, customers["customer_id"], outcome, source=source)
        )
        summary["outcome"] = outcome_overlay(known, labels, names, column=outcome).to_dict()
    return SegmentationResult(
        model=model,
        assignments=assignments,
        excluded=excluded,
        profiles=profiles,
        features=customers,
        summary=summary,
    )


def _headline(summary: dict[str, Any]) -> str:
    """The plain sentence on how strong the structure is, from the summary's figures."""
    selection = summary.get("selection") or {}
    score: dict[str, Any] = next(
        (s for s in selection.get("scores", []) if s.get("k") == summary["k"]), {}
    )
    stability = summary.get("stability")
    ari = stability.get("bootstrap_ari") if isinstance(stability, dict) else None
    return structure_sentence(
        summary["k"],
        bool(summary.get("structure", True)),
        score.get("silhouette"),
        ari,
        selection.get("final_check"),
    )
