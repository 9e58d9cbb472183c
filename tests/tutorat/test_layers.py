"""The layers of docs/architecture.md, checked on the source: a rule written down here fails the suite
when code breaks it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import tutorat

PACKAGE = Path(tutorat.__file__).parent
VIEWS = PACKAGE / "views"
SERVICES = PACKAGE / "services"


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module `path` imports (function-local imports too, relative ones resolved), and
    `module.name` for each `from module import name`."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{module}" if module else base
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_views_commit_only_through_handle_post():
    """Commit once, structurally: `views/_helpers.py::handle_post` is the only commit of a view."""
    commit = re.compile(r"\.commit\(")
    offenders = [
        f"{path.name}:{number}"
        for path in _modules(VIEWS)
        if path.name != "_helpers.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if commit.search(line)
    ]
    assert not offenders, f"a view commits outside handle_post: {offenders}"
    assert len(commit.findall((VIEWS / "_helpers.py").read_text(encoding="utf-8"))) == 1


def test_no_view_imports_another_view():
    """A view module imports only `views/_helpers.py` of its package: what two views share is a
    form (tutorat/forms.py) or a service."""
    offenders = {}
    for path in _modules(VIEWS):
        views = {
            name
            for name in _imports(path)
            if name.startswith("tutorat.views")
            and name not in ("tutorat.views", "tutorat.views._helpers")
            and not name.startswith("tutorat.views._helpers.")
        }
        if views:
            offenders[path.name] = sorted(views)
    assert not offenders, f"views importing other views: {offenders}"


# What only the web layer may read: the request, its globals and its user, and the modules that
# decide access or answer pages.
WEB_ONLY = (
    "flask.request",
    "flask.g",
    "flask.session",
    "flask.has_request_context",
    "flask_login.current_user",
    "tutorat.permissions",
    "tutorat.access_log",
    "tutorat.errorpages",
    "tutorat.sessions",
    "tutorat.views",
)


def test_services_never_read_the_request():
    """Services hold the rules and are given what they need: they never read the request (nor
    `g`, the session or the logged-in user) and never import the web layer."""
    offenders = {}
    for path in _modules(SERVICES):
        web = {
            name
            for name in _imports(path)
            if any(name == w or name.startswith(f"{w}.") for w in WEB_ONLY)
        }
        if web:
            offenders[path.name] = sorted(web)
    assert not offenders, f"services reading the web layer: {offenders}"


def test_the_layer_tests_see_an_import():
    """The checks above read imports as `module.name`, relative ones resolved (else they pass
    on anything)."""
    names = _imports(SERVICES / "audit.py")
    assert "flask.current_app" in names and "tutorat.services.db.changed_rows" in names
    assert "tutorat.views._helpers.handle_post" in _imports(VIEWS / "mentee.py")
