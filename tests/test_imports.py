"""The import structure of the project: no cycle between modules, no import hidden in a function.

A function-local import is how an import cycle usually hides (the cycle is there, it just fails
later, at call time). So the graph below holds every import the code runs, wherever it is
written (only `if TYPE_CHECKING:` blocks, which never run, are left out), and must have no
cycle; and a first-party import inside a function is refused unless `LOCAL_IMPORTS_ALLOWED` gives
the reason. An import of `a.b.c` (or of a name defined in it) is an edge to the module `a.b.c`,
not to the packages `a` and `a.b` that Python initialises first: a package's `__init__` importing
its submodules is not a cycle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tutorat", "matching")
# Alembic's scripts are loaded by Alembic, not imported.
SKIPPED = (ROOT / "tutorat" / "migrations",)

# (module, imported module) -> why it must stay inside a function. Empty today: keep it short.
LOCAL_IMPORTS_ALLOWED: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not any(path.is_relative_to(skipped) for skipped in SKIPPED):
                found[_module_name(path)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module a dotted name lives in (`tutorat.models.User` -> `tutorat.models`)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported(node: ast.Import | ast.ImportFrom, importer: str, modules: dict[str, Path]):
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = importer.split(".")
            if modules[importer].name != "__init__.py":
                package.pop()
            package = package[: len(package) - node.level + 1]
            base = ".".join([*package, base] if base else package)
        # `from a import b`: b is a submodule of a, or a name defined in a.
        names = [f"{base}.{alias.name}" for alias in node.names]
    for name in names:
        if name.split(".")[0] in PACKAGES:
            target = _resolve(name, modules)
            if target and target != importer:
                yield target


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(importer: str, modules: dict[str, Path]) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child, in_function)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in _imported(node, importer, modules):
                found.append(Import(importer, target, node.lineno, in_function))
            return
        inner = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(ast.parse(modules[importer].read_text(encoding="utf-8")), False)
    return found


def _all_imports() -> list[Import]:
    modules = _modules()
    return [imp for module in modules for imp in _imports(module, modules)]


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return cycles


def test_the_graph_sees_the_imports():
    """The parser finds imports of every form (else the tests below would pass on nothing)."""
    edges = {(i.importer, i.imported) for i in _all_imports()}
    # `from tutorat.services import workflow` (a submodule), `from tutorat.models import Pair`
    # (a name of a package), `from tutorat.extensions import db` (a name of a module).
    assert ("tutorat.services.pairs", "tutorat.services.workflow") in edges
    assert ("tutorat.services.pairs", "tutorat.models") in edges
    assert ("tutorat.services.pairs", "tutorat.extensions") in edges
    assert ("tutorat.services.suggestions", "matching") in edges
    assert len(edges) > 200


def test_find_cycles_finds_them():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    graph: dict[str, set[str]] = {}
    for imp in _all_imports():
        graph.setdefault(imp.importer, set()).add(imp.imported)
    cycles = find_cycles(graph)
    assert not cycles, (
        "Import cycles (break them by moving the shared code to a lower module): "
        + "; ".join(" <-> ".join(c) for c in cycles)
    )


def test_no_function_local_first_party_import():
    local = [
        f"{_modules()[i.importer].relative_to(ROOT)}:{i.line} imports {i.imported}"
        for i in _all_imports()
        if i.in_function and (i.importer, i.imported) not in LOCAL_IMPORTS_ALLOWED
    ]
    assert not local, (
        "Imports inside functions (move them to the top of the module; if that makes a cycle, "
        "move code instead):\n" + "\n".join(local)
    )


def test_allowed_local_imports_still_exist():
    """An entry of the allow-list that no longer matches anything is removed, not kept."""
    local = {(i.importer, i.imported) for i in _all_imports() if i.in_function}
    assert set(LOCAL_IMPORTS_ALLOWED) <= local
