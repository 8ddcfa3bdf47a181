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

from segmint._version import __version__
from segmint.artifacts import load_model, save_model
from segmint.errors import DataError, InputFileError, ModelError, SegmintError, UsageError
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
from segmint.model import Segmenter
from segmint.pipeline import SegmentationModel, SegmentationResult, segment

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
