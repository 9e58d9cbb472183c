"""matching/ is pure computation: no web framework, no database, no file, network or process access."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import matching

PACKAGE = Path(matching.__file__).parent
SOURCES = sorted(PACKAGE.glob("**/*.py"))

ALLOWED_IMPORTS = {
    "__future__",
    "bisect",
    "collections",
    "dataclasses",
    "itertools",
    "math",
    "numbers",
    "re",
    "types",
    "typing",
    "unicodedata",
    "numpy",
    "scipy",
    "sklearn",  # matching.search and matching.learning only; `import matching` does not load them
    "matching",
}
FORBIDDEN_CALLS = {"open", "exec", "eval", "compile", "__import__", "input", "breakpoint"}
FORBIDDEN_ATTRIBUTES = {
    "load",
    "loadtxt",
    "genfromtxt",
    "fromfile",
    "tofile",
    "save",
    "savez",
    "savetxt",
    "memmap",
    "read_csv",
    "urlopen",
    "system",
    "popen",
}


def _imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("matching" if node.level else (node.module or "").split(".")[0])
    return names


def test_the_package_has_sources():
    assert {p.name for p in SOURCES} >= {"__init__.py", "types.py", "scoring.py", "assignment.py"}


def test_only_computation_libraries_are_imported():
    for path in SOURCES:
        imported = _imports(ast.parse(path.read_text(encoding="utf-8")))
        assert imported <= ALLOWED_IMPORTS, (
            f"{path.name} imports {sorted(imported - ALLOWED_IMPORTS)}"
        )


def test_no_file_network_or_dynamic_code_calls():
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name):
                    assert func.id not in FORBIDDEN_CALLS, (
                        f"{path.name}:{node.lineno} calls {func.id}()"
                    )
                if isinstance(func, ast.Attribute):
                    assert func.attr not in FORBIDDEN_ATTRIBUTES, (
                        f"{path.name}:{node.lineno} calls .{func.attr}()"
                    )


def test_importing_matching_loads_no_web_database_or_network_module():
    # numpy and scipy load a few standard modules of their own (urllib.parse...): only what
    # importing matching adds on top of them must be matching itself.
    code = (
        "import sys\n"
        "import numpy, scipy.sparse, scipy.sparse.csgraph, scipy.spatial\n"
        "before = set(sys.modules)\n"
        "import matching\n"
        "print(','.join(sorted(m for m in set(sys.modules) - before "
        "if m.split('.')[0] not in {'matching', 'numpy', 'scipy'})))\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'sqlalchemy', 'werkzeug', 'psycopg', 'sqlite3', 'requests', 'jinja2'})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    )
    added, web = out.stdout.splitlines()
    assert added == "", f"importing matching also loads {added}"
    assert web == ""
