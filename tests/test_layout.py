"""The package's shape: no import circles between modules, not even through an import
inside a function; pure modules import no database or Flask code; every view module is a
``views.py`` whose blueprint is ``bp`` (docs/architecture.md)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lifecycle"

# Pure rules: plain values in, plain values out (docs/architecture.md#pure-modules).
PURE = (
    "lifecycle.agreements.rules",
    "lifecycle.agreements.term_table",
    "lifecycle.budget.export_assumptions",
    "lifecycle.budget.export_lines",
    "lifecycle.budget.exports",
    "lifecycle.budget.fiscal",
    "lifecycle.budget.chart",
    "lifecycle.budget.forecast",
    "lifecycle.budget.model",
    "lifecycle.budget.rules",
    "lifecycle.budget.xlsx",
    "lifecycle.catalog.rules",
    "lifecycle.imports.fields",
    "lifecycle.imports.reading",
    "lifecycle.imports.values",
    "lifecycle.money",
    "lifecycle.pipeline.chart",
    "lifecycle.pipeline.export",
    "lifecycle.pipeline.pivot",
    "lifecycle.renewals.timeline",
    "lifecycle.rounds.tiers",
    "lifecycle.scan.schedule",
    "lifecycle.spreadsheet",
)
IMPURE_ROOTS = (
    "flask", "werkzeug", "sqlalchemy", "sqlmodel", "redis", "rq", "lifecycle.db",
    "lifecycle.models",
)  # fmt: skip


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The lifecycle modules `name` imports, at its top or inside a function."""
    found: set[str] = set()
    for node in _imports(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            assert node.level == 0, f"{name}: relative import"
            base = node.module or ""
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        for target in targets:
            # `import a.b.c` also runs a and a.b: the package __init__ files hold
            # create_app and docstrings only, so only the named module counts here.
            if target in known and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back_through_others() -> None:
    edges = graph()
    # create_app (lifecycle/__init__) imports every blueprint; nothing imports it back
    # but for get_settings, which lives there. Leave the factory out of the graph.
    edges.pop("lifecycle", None)
    for targets in edges.values():
        targets.discard("lifecycle")
    assert cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _outside_imports(path: Path) -> list[str]:
    """Every module a file imports, by full name (`from a import b` names a and a.b)."""
    found: list[str] = []
    for node in _imports(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        else:
            found += [node.module or ""]
            found += [f"{node.module}.{a.name}" for a in node.names]
    return found


@pytest.mark.parametrize("name", PURE)
def test_pure_modules_import_no_database_or_flask(name: str) -> None:
    """Nor does any lifecycle module they import, directly or through others."""
    known, edges = modules(), graph()
    reached, todo = {name}, [name]
    while todo:
        for nxt in edges.get(todo.pop(), set()) - reached:
            reached.add(nxt)
            todo.append(nxt)
    for module in sorted(reached):
        for target in _outside_imports(known[module]):
            assert not target.startswith(IMPURE_ROOTS), (
                f"{name} reaches {module}, which imports {target}"
            )


def test_every_blueprint_is_bp_in_a_views_module() -> None:
    for name, path in modules().items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "Blueprint"
            ):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
                assert targets == ["bp"], f"{name}: blueprint named {targets}"
                assert name.endswith(".views") or name == "lifecycle.api.frame", name
