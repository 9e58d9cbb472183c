"""views/_helpers.py::handle_post, the one path of every form: each way out, with what it keeps."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import func, select
from wtforms import StringField
from wtforms.validators import DataRequired

from tests.factories import make_referent
from tutorat.extensions import db
from tutorat.forms import ActionForm, Form
from tutorat.models import User
from tutorat.services.errors import Conflict, DomainError
from tutorat.views._helpers import FORM_ERRORS, handle_post


class NameForm(Form):
    name = StringField("Nom", validators=[DataRequired("Indiquez un nom.")])


def _answer(form, action):
    """handle_post's answer as (status, what was called with what)."""
    calls: list = []
    status = handle_post(
        form,
        action,
        on_success=lambda result: calls.append(("success", result)) or 303,
        render=lambda code: calls.append(("render", code)) or code,
    )
    return status, calls


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


@pytest.fixture
def post(app):
    """A POST request context for a form without its CSRF token (the tests check the rest)."""

    def make(data: dict | None = None):
        return app.test_request_context("/", method="POST", data=data or {})

    return make


def test_get_renders_the_page_and_acts_on_nothing(app):
    with app.test_request_context("/"):
        called = []
        status, calls = _answer(NameForm(meta={"csrf": False}), lambda: called.append(1))
        assert (status, calls, called) == (200, [("render", 200)], [])


def test_invalid_form_gives_422_with_the_summary_and_acts_on_nothing(post):
    with post({"name": ""}):
        form = NameForm(meta={"csrf": False})
        called = []
        status, calls = _answer(form, lambda: called.append(1))
        assert (status, calls, called) == (422, [("render", 422)], [])
        assert form.name.errors == ["Indiquez un nom."]
        assert get_flashed_messages() == [FORM_ERRORS]


def test_security_token_alone_refused_gives_400(post):
    with post():
        status, calls = _answer(ActionForm(), lambda: pytest.fail("must not act"))
        assert (status, calls) == (400, [("render", 400)])
        assert get_flashed_messages() == []


def test_refused_rule_rolls_back_and_shows_its_message_next_to_its_field(post):
    with post({"name": "Martin"}):
        before = _users()
        form = NameForm(meta={"csrf": False})

        def refused():
            make_referent()
            raise DomainError("Ce nom ne convient pas.", field="name")

        status, calls = _answer(form, refused)
        assert (status, calls) == (422, [("render", 422)])
        assert form.name.errors == ["Ce nom ne convient pas."]
        assert get_flashed_messages() == []
        assert _users() == before


def test_conflict_without_a_field_is_flashed_as_409(post):
    with post():

        def conflict():
            raise Conflict("Quelqu'un a répondu avant vous.")

        status, _calls = _answer(None, conflict)
        assert status == 409
        assert get_flashed_messages() == ["Quelqu'un a répondu avant vous."]


def test_broken_named_constraint_at_commit_gives_409_and_its_french_message(post):
    with post():
        before = _users()

        def duplicate():
            first, second = make_referent(), make_referent()
            second.email = first.email  # the unique index refuses it at commit

        status, calls = _answer(None, duplicate)
        assert (status, calls) == (409, [("render", 409)])
        assert get_flashed_messages() == ["Un compte existe déjà avec cette adresse électronique."]
        assert _users() == before


def test_success_commits_once_then_answers_with_the_result(post, app):
    with post({"name": "Martin"}):
        status, calls = _answer(NameForm(meta={"csrf": False}), lambda: make_referent().id)
        assert status == 303
        [(kind, user_id)] = calls
        assert kind == "success"
    # Committed: another session (another request) reads it.
    with app.app_context():
        assert db.session.get(User, user_id) is not None
