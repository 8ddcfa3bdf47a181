"""Text tables whose columns are separated by runs of spaces or tabs (aligned and
fixed-width tables), and the delimiters an option ``--sep`` can name."""

from __future__ import annotations

import re
from collections.abc import Iterator

from segmint.errors import UsageError

SAMPLE = 65_536  # characters sniffed for the dialect and header
WHITESPACE = "whitespace"
"""The delimiter of columns separated by runs of spaces or tabs (aligned, fixed-width)."""
_BLANKS = re.compile(r"[ \t]+")
_SEPARATORS = {
    ",": ",",
    ";": ";",
    "|": "|",
    "\t": "\t",
    "\\t": "\t",
    "tab": "\t",
    " ": WHITESPACE,
    "space": WHITESPACE,
    WHITESPACE: WHITESPACE,
}


def separator(sep: str) -> str:
    """The delimiter an option ``--sep`` names: ``,`` ``;`` ``|``, a tab (``\\t`` or
    ``tab``), or :data:`WHITESPACE` for ``" "``, ``space`` and ``whitespace``.

    Raises
    ------
    UsageError
        ``sep`` names none of these.
    """
    key = sep if sep in (" ", "\t") else sep.strip().lower()
    if key not in _SEPARATORS:
        raise UsageError(
            f"--sep {sep!r}: use ',', ';', '|', '\\t' (tab), or ' ' / 'whitespace' "
            "(runs of spaces or tabs)"
        )
    return _SEPARATORS[key]


def blank_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(1-based line, fields) of each non-blank line split on runs of spaces or tabs."""
    for line, row in enumerate(text.splitlines(), start=1):
        row_text = row.strip(" \t\r")
        if row_text:
            yield line, _BLANKS.split(row_text)


def blank_width(text: str) -> int:
    """The field count when every sampled line splits on runs of blanks into the same
    number (> 1) of fields, else 0."""
    sample = text[:SAMPLE]
    counts = [len(r) for _, r in blank_rows(sample)][:200]
    if len(text) > SAMPLE and len(counts) > 1:
        counts = counts[:-1]  # a line possibly cut by the sample
    return counts[0] if counts and counts[0] > 1 and len(set(counts)) == 1 else 0
