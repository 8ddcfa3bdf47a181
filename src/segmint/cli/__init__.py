"""The ``segmint`` command: thin, it parses, calls the library, prints and maps errors.

One module per group of commands, registered on the one app of :mod:`.common`, in the
order ``segmint --help`` lists them:

===================  ==========================================================
:mod:`.fit`          ``fit``, ``assign``, ``demo``, ``serve``
:mod:`.features`     ``features``
:mod:`.report`       ``report``, ``rename``
:mod:`.workspace`    the workspace commands (``refresh``, ``rollback``, ...)
===================  ==========================================================

Exit codes: 0 success, 1 a data or model problem, 2 a usage problem (bad option, missing
file). Errors are one line on standard error; ``--debug`` adds the traceback.
"""

from __future__ import annotations

from segmint.cli.common import app

# Importing a module registers its commands; --help lists them in this order.
# isort: off
from segmint.cli import fit
from segmint.cli import features
from segmint.cli import report
from segmint.cli import workspace

# isort: on

__all__ = ["app", "features", "fit", "main", "report", "workspace"]


def main() -> None:
    """Entry point of the ``segmint`` console script."""
    app()
