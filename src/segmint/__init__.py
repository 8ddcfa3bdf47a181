"""segmint: customer segmentation from raw data to named, stable segments.

The library surface::

    segmint.segment(frame)            -> SegmentationResult (labels, profiles, diagnostics)
    segmint.Segmenter(k="auto")       scikit-learn estimator (fit / predict / fit_predict)
    segmint.rfm_features(log, ...)    transaction log -> recency, frequency, monetary, ...
    segmint.frame_features(log, spec) transaction log -> every feature family, cleaned
    segmint.log_features(path)        the same from a file, CSV/Parquet streamed
    segmint.read_table(path)          any supported file -> typed DataFrame
    segmint.save_model / load_model   JSON + arrays model folders
"""

import typing as _typing

from segmint._version import __version__
from segmint.errors import DataError, InputFileError, ModelError, SegmintError, UsageError

if _typing.TYPE_CHECKING:
    from segmint.artifacts import load_model, save_model
    from segmint.estimator import Segmenter
    from segmint.features import (
        ColumnRoles,
        FeatureSpec,
        detect_roles,
        frame_features,
        parse_spec,
        rfm_features,
    )
    from segmint.featurize import log_features
    from segmint.io import LoadedTable, read_table, write_table
    from segmint.pipeline import SegmentationModel, SegmentationResult, segment

# The surface is imported on first use: ``import segmint.featurize`` (or the CLI's
# ``features`` command) then does not pay for scikit-learn and the clustering code.
_LAZY = {
    "load_model": "segmint.artifacts",
    "save_model": "segmint.artifacts",
    "ColumnRoles": "segmint.features",
    "FeatureSpec": "segmint.features",
    "detect_roles": "segmint.features",
    "frame_features": "segmint.features",
    "parse_spec": "segmint.features",
    "rfm_features": "segmint.features",
    "log_features": "segmint.featurize",
    "LoadedTable": "segmint.io",
    "read_table": "segmint.io",
    "write_table": "segmint.io",
    "Segmenter": "segmint.estimator",
    "SegmentationModel": "segmint.pipeline",
    "SegmentationResult": "segmint.pipeline",
    "segment": "segmint.pipeline",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'segmint' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ColumnRoles",
    "DataError",
    "FeatureSpec",
    "InputFileError",
    "LoadedTable",
    "ModelError",
    "SegmentationModel",
    "SegmentationResult",
    "Segmenter",
    "SegmintError",
    "UsageError",
    "__version__",
    "detect_roles",
    "frame_features",
    "load_model",
    "log_features",
    "parse_spec",
    "read_table",
    "rfm_features",
    "save_model",
    "segment",
    "write_table",
]
