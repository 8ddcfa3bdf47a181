"""The package's layout rules: every module in a layer, imports only go down or across a
layer, no import circles, and no private name used outside its module.

The layers follow the data: a file is loaded, turned into features, prepared, clustered,
explained; the segmentation job ties those together; its outputs are written; the
workspace keeps them over time; a run drives it all from a file; the interfaces (command
line, web, Spark, estimator, the package facade) sit on top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import segmint

SRC = Path(segmint.__file__).parent
LAYERS: list[tuple[str, set[str]]] = [
    ("basics", {"_version", "errors", "cells", "display", "threads"}),
    ("load", {"blanks", "dialect", "io", "database", "datasets"}),
    ("features", {"features", "sentinels", "scan_sql", "workplan", "scan", "customers"}),
    ("prepare", {"prepare"}),
    (
        "cluster",
        {"algorithms", "structure", "stability", "validity", "selection", "trivial", "model"},
    ),
    ("explain", {"naming", "profile", "explain", "outcome", "headline", "compare"}),
    ("segment", {"pipeline", "featurize", "overrides", "matching", "monitor"}),
    ("outputs", {"artifacts", "batch", "report", "rundir"}),
    ("lifecycle", {"store"}),
    ("run", {"runner"}),
    ("interfaces", {"cli", "web", "spark", "estimator", "__init__", "__main__"}),
]
LAYER_OF = {entry: i for i, (_, entries) in enumerate(LAYERS) for entry in entries}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(SRC.rglob("*.py"))}


def _imports(name: str) -> list[tuple[str, str, int]]:
    """(imported module, imported name or "", line) of every import of module ``name``,
    relative ones resolved, ``from segmint.pkg import mod`` naming the module ``mod``."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, "", node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                inner = f"{module}.{alias.name}"
                found.append(
                    (inner, "", node.lineno)
                    if inner in MODULES
                    else (module, alias.name, node.lineno)
                )
    return [
        (module, what, line) for module, what, line in found if module.split(".")[0] == "segmint"
    ]


def _entry(module: str) -> str:
    """The top-level module or package of ``segmint.x.y`` (``x``); the facade is ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_is_in_exactly_one_layer() -> None:
    entries = {path.relative_to(SRC).parts[0].removesuffix(".py") for path in MODULES.values()}
    named = [entry for _, group in LAYERS for entry in group]
    assert len(named) == len(set(named)), "an entry is in two layers"
    assert entries == set(named), (
        f"without a layer: {sorted(entries - set(named))}; gone: {sorted(set(named) - entries)}"
    )


def test_imports_go_down_or_across_a_layer() -> None:
    wrong = []
    for name in MODULES:
        own = _entry(name)
        for module, _, line in _imports(name):
            target = _entry(module)
            if target != own and LAYER_OF[target] > LAYER_OF[own]:
                wrong.append(
                    f"{name}:{line} ({LAYERS[LAYER_OF[own]][0]}) imports {module} "
                    f"({LAYERS[LAYER_OF[target]][0]})"
                )
    assert not wrong, "\n".join(wrong)


def test_no_import_circles() -> None:
    """Module by module, function-level imports included (a package's own submodules aside)."""
    graph = {
        name: {
            module
            for module, _, _ in _imports(name)
            if module in MODULES
            and module != name
            and not module.startswith(name + ".")
            and not name.startswith(module + ".")
        }
        for name in MODULES
    }
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import circle: " + " -> ".join(circle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in MODULES:
        if name not in state:
            visit(name)


def test_no_private_name_is_imported_from_another_module() -> None:
    """``_name`` stays in its module; a ``_module`` is used only inside its own package."""
    wrong = []
    for name in MODULES:
        package = name if MODULES[name].name == "__init__.py" else name.rsplit(".", 1)[0]
        for module, what, line in _imports(name):
            if what.startswith("_") and not what.startswith("__"):
                wrong.append(f"{name}:{line} imports {what} from {module}")
            private = [i for i, part in enumerate(module.split(".")) if part.startswith("_")]
            private = [i for i in private if not module.split(".")[i].startswith("__")]
            if private and not package.startswith(".".join(module.split(".")[: private[0]])):
                wrong.append(f"{name}:{line} imports the private module {module}")
    assert not wrong, "\n".join(wrong)
