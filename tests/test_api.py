"""The public surface and the architecture's dependency rule."""

from __future__ import annotations

import ast
from pathlib import Path

import segmint

SRC = Path(segmint.__file__).parent
CORE = [
    "features",
    "prepare.py",
    "selection.py",
    "structure.py",
    "model.py",
    "profile.py",
    "pipeline.py",
    "errors.py",
    "monitor.py",
    "matching.py",
    "algorithms",
    "stability.py",
    "validity.py",
]
EDGES = {
    "io",
    "artifacts",
    "store",
    "report",
    "cli",
    "web",
    "spark",
    "runner",
    "database",
    "cli_workspace",
    "estimator",
}


def test_all_is_sorted_and_complete() -> None:
    assert segmint.__all__ == sorted(segmint.__all__)
    public = {name for name in vars(segmint) if not name.startswith("_") and not _is_module(name)}
    assert public <= set(segmint.__all__)
    for name in segmint.__all__:
        assert hasattr(segmint, name)


def _is_module(name: str) -> bool:
    return type(getattr(segmint, name)).__name__ == "module"


def test_core_never_imports_an_edge() -> None:
    files = []
    for entry in CORE:
        path = SRC / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    for path in files:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "segmint" and len(parts) > 1:
                    assert parts[1] not in EDGES, f"{path.name} imports edge module {name}"


def test_public_objects_have_docstrings() -> None:
    for name in segmint.__all__:
        obj = getattr(segmint, name)
        if callable(obj):
            assert obj.__doc__, f"segmint.{name} has no docstring"


def test_modules_stay_small() -> None:
    for path in SRC.rglob("*.py"):
        assert len(path.read_text().splitlines()) < 800, f"{path.name}: split it before 800 lines"


def test_named_pass_through_options_are_parameters_of_segment() -> None:
    import inspect

    from segmint.pipeline import SEGMENT_OPTIONS, segment
    from segmint.store._lifecycle import REPLAYED_PARAMS

    accepted = inspect.signature(segment).parameters
    assert set(SEGMENT_OPTIONS) <= set(accepted)
    assert set(REPLAYED_PARAMS) <= set(SEGMENT_OPTIONS)
