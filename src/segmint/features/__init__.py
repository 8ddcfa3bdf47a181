"""Customer features: column roles, and transactions -> one row per customer (SQL)."""

from segmint.features.rfm import RFM_FEATURES, TransactionFeatures, rfm_features
from segmint.features.roles import ColumnRoles, detect_roles, normalise_ids

__all__ = [
    "RFM_FEATURES",
    "ColumnRoles",
    "TransactionFeatures",
    "detect_roles",
    "normalise_ids",
    "rfm_features",
]
