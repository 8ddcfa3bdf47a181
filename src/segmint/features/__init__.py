"""Customer features: column roles, the feature spec, and transactions -> one row per customer.

Everything heavy is DuckDB SQL: :mod:`.clean` (what each line of the log is),
:mod:`.families` (the feature definitions), :mod:`.engine` (running them on a log in
memory or streamed from a file), :mod:`.spec` (the TOML/YAML feature spec) and
:mod:`.pii` (personal data columns, pseudonymous ids).
"""

from segmint.features.engine import TransactionFeatures, compute_features, frame_features
from segmint.features.families import RFM_FEATURES
from segmint.features.rfm import rfm_features, spec_from_roles, transaction_features
from segmint.features.roles import ColumnRoles, detect_roles, normalise_ids
from segmint.features.spec import FAMILIES, FIT_FAMILIES, FeatureSpec, parse_spec

__all__ = [
    "FAMILIES",
    "FIT_FAMILIES",
    "RFM_FEATURES",
    "ColumnRoles",
    "FeatureSpec",
    "TransactionFeatures",
    "compute_features",
    "detect_roles",
    "frame_features",
    "normalise_ids",
    "parse_spec",
    "rfm_features",
    "spec_from_roles",
    "transaction_features",
]
