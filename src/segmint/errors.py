"""The one exception tree of segmint.

::

    SegmintError
     ├── DataError (also ValueError)     bad or unusable input data   -> exit 1
     │    └── InputFileError             a file that cannot be read   -> exit 1
     ├── UsageError (also ValueError)    options that do not fit      -> exit 2
     ├── ModelError                      a saved model that is missing or broken -> exit 1
     └── ExternalToolError               a program segmint drives (Chromium) is missing
                                         or failed                    -> exit 1

Messages are one line and name the file, column, row or value at fault, so the
command-line tool can print them as they are.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "ExternalToolError",
    "InputFileError",
    "ModelError",
    "SegmintError",
    "UsageError",
]


class SegmintError(Exception):
    """Base class of every error segmint raises on purpose."""

    exit_code: int = 1


class DataError(SegmintError, ValueError):
    """The data cannot be segmented as given (empty, no usable features, ...)."""

    exit_code = 1


class InputFileError(DataError):
    """A source file is missing, unreadable or not a table."""

    exit_code = 1


class UsageError(SegmintError, ValueError):
    """Options or arguments that do not fit together or with the data."""

    exit_code = 2


class ModelError(SegmintError):
    """A saved model directory is missing, incomplete or of an unknown schema."""

    exit_code = 1


class ExternalToolError(SegmintError):
    """A program segmint drives (headless Chromium for PDF/PNG) is missing or failed."""

    exit_code = 1
