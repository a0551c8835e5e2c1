"""The code's layers, read from its own imports: each package imports only those below it,
no two modules import each other, and no import hides inside a function to dodge a loop
(README, "Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A package may import those on lower floors; packages on one floor are
# siblings that talk through the floor below (services and signals of referrals).
FLOORS = [
    ["core"],
    ["referrals"],
    ["recovery_at_home", "teams", "feedback", "partners"],
    ["mdt"],
    ["closed_loop"],
    ["portal"],
    ["atb"],
    ["tools"],
]
FLOOR = {package: number for number, packages in enumerate(FLOORS) for package in packages}


def _modules() -> dict[str, Path]:
    found = {}
    for package in FLOOR:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imports(tree: ast.AST, module: str) -> list[tuple[str, int]]:
    """(imported project module, line) for each import of the project."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from a import b` imports a.b when b is a module, else a name of a.
            names = [
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                for alias in node.names
            ]
        else:
            continue
        found += [(name, node.lineno) for name in names if name.split(".")[0] in FLOOR]
    return found


def _trees() -> dict[str, ast.AST]:
    return {module: ast.parse(path.read_text(), str(path)) for module, path in MODULES.items()}


TREES = _trees()


def test_the_tree_is_read():
    assert {"core.access", "referrals.services", "recovery_at_home.alerts", "portal.views"} <= set(TREES)


def test_each_package_imports_only_the_floors_below_it():
    upward = [
        f"{module}:{line} imports {target}"
        for module, tree in TREES.items()
        for target, line in _imports(tree, module)
        if (here := module.split(".")[0]) != (there := target.split(".")[0]) and FLOOR[there] >= FLOOR[here]
    ]
    assert upward == []


def _function_level_imports(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        # Django loads an app's signal receivers in AppConfig.ready(), once models exist.
        if node.name == "ready":
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import | ast.ImportFrom) and any(
                (getattr(inner, "module", None) or alias.name).split(".")[0] in FLOOR for alias in inner.names
            ):
                lines.append(inner.lineno)
    return lines


def test_no_project_module_is_imported_inside_a_function():
    hidden = {module: lines for module, tree in TREES.items() if (lines := _function_level_imports(tree))}
    assert hidden == {}


def test_no_modules_import_each_other():
    graph = {
        module: {target for target, _ in _imports(tree, module) if target in MODULES and target != module}
        for module, tree in TREES.items()
    }
    # A package's __init__ is imported with any of its modules: not a loop of the code's own.
    graph = {
        module: {t for t in targets if not module.startswith(f"{t}.")} for module, targets in graph.items()
    }
    loops = []
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                loops.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert loops == []


@pytest.mark.parametrize("package", sorted(FLOOR))
def test_every_package_is_on_a_floor(package):
    assert (ROOT / package / "__init__.py").exists()
