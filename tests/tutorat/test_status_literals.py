"""Statuses live in the models: no status string outside `tutorat/models/`, in code or templates.

A status (of a demande, a binôme, an answer, an email) is an enum member everywhere else; a role is
compared to `Role`, never to a string. Groups of statuses (live, pending, unanswered…) are defined
once, beside their enum, and the SQL of partial indexes is generated from them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import tutorat
from tutorat.models import (
    MessageStatus,
    PairAnswer,
    PairStatus,
    Role,
    TutoringRequestStatus,
)
from tutorat.models.pairs import LIVE_PAIR_SQL, LIVE_PAIR_STATUSES
from tutorat.models.requests import LIVE_REQUEST_SQL, LIVE_REQUEST_STATUSES

PACKAGE = Path(tutorat.__file__).parent
TEMPLATES = PACKAGE.parent / "templates"
ALLOWED_DIRS = {PACKAGE / "models", PACKAGE / "migrations"}

STATUSES = {
    m.value for enum in (PairStatus, TutoringRequestStatus, MessageStatus, PairAnswer) for m in enum
}
ROLES = {r.value for r in Role}
# Calls whose first argument is a name of its own namespace, not a status: an email kind
# ("expired" is an email), a column label of a query.
NAMING_CALLS = {"queue_email", "EmailKind", "label"}


def _python_sources() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*.py")
        if not any(p.is_relative_to(allowed) for allowed in ALLOWED_DIRS)
    )


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _literals(node: ast.AST) -> list[ast.Constant]:
    """String constants of a comparison operand (a constant, or a tuple/list/set of them)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [c for e in node.elts for c in _literals(e)]
    return []


def python_offences(source: str) -> list[tuple[int, str]]:
    """Status strings anywhere (but dict keys and names), role strings in comparisons."""
    tree = ast.parse(source)
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            exempt.update(id(k) for k in node.keys if k is not None)
        elif isinstance(node, ast.Call) and _call_name(node) in NAMING_CALLS and node.args:
            exempt.add(id(node.args[0]))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            exempt.add(id(node.value))  # docstrings
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in STATUSES
            and id(node) not in exempt
        ):
            found.append((node.lineno, node.value))
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                found.extend((c.lineno, c.value) for c in _literals(operand) if c.value in ROLES)
    return sorted(set(found))


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_QUOTED = re.compile(r"""['"](\w+)['"]""")
_ROLE = "|".join(sorted(ROLES))
_ROLE_COMPARED = re.compile(
    rf"""(?:==|!=|\bin\s*\([^)]*)\s*['"]({_ROLE})['"]|['"]({_ROLE})['"]\s*(?:==|!=)"""
)


def template_offences(text: str) -> list[tuple[int, str]]:
    found = []
    for block in _JINJA.finditer(text):
        line = text.count("\n", 0, block.start()) + 1
        found.extend((line, v) for v in _QUOTED.findall(block.group()) if v in STATUSES)
        found.extend((line, a or b) for a, b in _ROLE_COMPARED.findall(block.group()))
    return found


def test_the_detectors_detect():
    """The checks below would see a literal if one came back."""
    assert python_offences('if pair.status == "active":\n    pass') == [(1, "active")]
    assert python_offences('x = Pair.status.in_(("open", "proposed"))') == [
        (1, "open"),
        (1, "proposed"),
    ]
    assert python_offences('ok = user.role in ("referent", "admin")') == [
        (1, "admin"),
        (1, "referent"),
    ]
    assert python_offences('queue_email("expired", person)\nrow = {"active": True}') == []
    assert python_offences('select(func.count().label("active"))') == []
    assert template_offences("{% if pair.status in ('expired', 'withdrawn') %}") == [
        (1, "expired"),
        (1, "withdrawn"),
    ]
    assert template_offences("{% if current_user.role == 'tutor' %}") == [(1, "tutor")]
    assert template_offences("<p>Statut : active</p>{{ url_for('x', role=Role.TUTOR) }}") == []


@pytest.mark.parametrize("path", _python_sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_status_literal_in_python(path):
    offences = python_offences(path.read_text(encoding="utf-8"))
    assert not offences, (
        f"{path.relative_to(PACKAGE.parent)} : statut ou rôle écrit en chaîne, lignes {offences} — "
        "utilisez les enums et les groupes de tutorat/models/"
    )


@pytest.mark.parametrize(
    "path",
    sorted(p for p in TEMPLATES.rglob("*") if p.suffix in {".html", ".txt"}),
    ids=lambda p: str(p.relative_to(TEMPLATES)),
)
def test_no_status_literal_in_templates(path):
    offences = template_offences(path.read_text(encoding="utf-8"))
    assert not offences, (
        f"templates/{path.relative_to(TEMPLATES)} : statut ou rôle écrit en chaîne, lignes "
        f"{offences} — comparez à PairStatus, TutoringRequestStatus, Role… (globales Jinja)"
    )


def test_partial_index_predicates_come_from_the_groups():
    assert LIVE_PAIR_SQL == (
        "status IN ('proposed', 'tutor_accepted', 'mentee_accepted', 'accepted', 'active', "
        "'paused', 'stop_requested')"
    )
    assert LIVE_REQUEST_SQL == "status IN ('open', 'waiting', 'proposed')"
    assert {s.value for s in LIVE_PAIR_STATUSES} == set(re.findall(r"'(\w+)'", LIVE_PAIR_SQL))
    assert {s.value for s in LIVE_REQUEST_STATUSES} == set(re.findall(r"'(\w+)'", LIVE_REQUEST_SQL))
