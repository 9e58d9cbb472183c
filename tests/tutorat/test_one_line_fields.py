"""One-line fields (names, place, organisation, commune…) refuse line breaks and control characters."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from tests.conftest import Browser
from tests.factories import PASSWORD, make_admin, make_referent
from tutorat import forms
from tutorat.extensions import db
from tutorat.models import User

ONE_LINE = "Ce champ tient sur une seule ligne"
BAD_VALUES = [
    "a\r\nb",
    "a\nb",
    "a\rb",
    "a\tb",
    "a\x0bb",
    "a\x85b",
    "a\u2028b",
    "a\u200bb",
    "a\u202eb",
    "a\ufeffb",
]


def _all_form_classes() -> list[type]:
    seen: list[type] = []
    todo = [forms.Form]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


def _rendered_on_one_line(field) -> bool:
    """What the browser shows: a text-like <input>, not a <textarea>, a list or a box."""
    html = str(field())
    kind = re.search(r'type="([a-z]+)"', html)
    return (
        html.startswith("<input")
        and kind is not None
        and kind.group(1)
        in {
            "text",
            "email",
            "tel",
            "password",
            "hidden",
            "search",
            "url",
        }
    )


def _one_line_fields(app) -> list[tuple[type, str]]:
    found = []
    with app.test_request_context(method="POST"):
        for cls in _all_form_classes():
            form = cls(formdata=MultiDict(), meta={"csrf": False})
            found += [
                (cls, field.name)
                for field in form
                if field.name != "csrf_token" and _rendered_on_one_line(field)
            ]
    return found


def test_the_walk_finds_the_one_line_fields(app):
    names = {name for _cls, name in _one_line_fields(app)}
    for expected in ("first_name", "last_name", "organisation", "place", "commune", "email"):
        assert expected in names, expected


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_every_one_line_field_of_every_form_refuses_line_breaks(app, bad):
    fields = _one_line_fields(app)
    assert len(fields) >= 15
    with app.test_request_context(method="POST"):
        for cls, name in fields:
            form = cls(formdata=MultiDict({name: bad}), meta={"csrf": False})
            field = form[name]
            field.validate(form)
            assert any(ONE_LINE in e for e in field.errors), (cls.__name__, name, field.errors)


def test_multi_line_fields_keep_their_line_breaks(app):
    with app.test_request_context(method="POST"):
        form = forms.RequestForm(
            formdata=MultiDict({"message": "Bonjour,\r\nje cherche un stage."}),
            meta={"csrf": False},
        )
        form.message.validate(form)
        assert form.message.errors == []


def _count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_a_name_with_a_line_break_is_refused_and_nothing_stored(app):
    with app.app_context():
        referent = make_referent()
        db.session.commit()
        email = referent.email
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    before = _count_users(app)
    r = b.post(
        "/referent/beneficiaires/nouveau",
        {
            "first_name": "Jean\r\nBcc: tous@example.org",
            "last_name": "Martin",
            "email": "jean.martin@example.org",
            "consent": "y",
        },
        page="/referent/beneficiaires/nouveau",
    )
    assert r.status_code == 422 and ONE_LINE in r.get_data(as_text=True)
    assert _count_users(app) == before


def test_an_organisation_with_a_line_break_is_refused_and_nothing_stored(app):
    with app.app_context():
        admin = make_admin()
        db.session.commit()
        email = admin.email
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    before = _count_users(app)
    r = b.post(
        "/admin/comptes/nouveau",
        {
            "role": "referent",
            "first_name": "Anne",
            "last_name": "Durand",
            "email": "anne.durand@example.org",
            "organisation": "MDS Auch\r\nService fictif",
        },
        page="/admin/comptes/nouveau",
    )
    assert r.status_code == 422 and ONE_LINE in r.get_data(as_text=True)
    assert _count_users(app) == before
