"""The one path of every form a view receives: parse, one service call, commit once, answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tutorat.extensions import db
from tutorat.forms import CheckInForm, GoalForm, GoalStatusForm, PauseForm, ReportForm, StopForm
from tutorat.models import CheckIn, Goal
from tutorat.services import checkins, goals, voices
from tutorat.services.db import integrity_message
from tutorat.services.errors import Conflict, DomainError

T = TypeVar("T")

FORM_ERRORS = "Le formulaire contient des erreurs : corrigez les champs indiqués."


def handle_post(
    form: FlaskForm | None,
    action: Callable[[], T],
    *,
    on_success: Callable[[T], ResponseReturnValue],
    render: Callable[[int], ResponseReturnValue],
) -> ResponseReturnValue:
    """Answer a page's form, in the spirit of indico's request handler.

    On a GET, `render(200)`: the page with its form. On a POST:

    1. the form (with its CSRF token) does not validate → `render(422)`, each message next to its
       field and a summary on top (`render(400)` when only the security token was wrong);
    2. `action()` calls **one** service; a rule it refuses (`DomainError`) rolls the request's work
       back and puts the French message next to its field (or on top) → `render(422)`, or
       `render(409)` for a `Conflict`;
    3. the request's work is committed **once**; a broken named constraint rolls back and shows its
       French message → `render(409)`;
    4. `on_success(result)` answers, usually a flash and a redirect.

    The emails the service queued are rows of the outbox, committed in step 3 with the change that
    caused them (or rolled back with it); `flask send-mail` sends them once they are durable, so
    nothing leaves for a change that was not kept.

    `form` is None when the URL alone says what to do (the CSRF token is checked for every POST by
    `CSRFProtect`). `render` takes the HTTP status; for an action without a page of its own it
    may redirect (the flashed message then explains).
    """
    if request.method != "POST":
        return render(200)
    if form is not None and not form.validate_on_submit():
        return render(_form_errors_status(form))
    try:
        result = action()
    except DomainError as error:
        return render(_show_error(error, form))
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        flash(integrity_message(exc), "error")
        return render(409)
    return on_success(result)


def success(message: str, location: str) -> ResponseReturnValue:
    """The usual answer to a form that did its work: a green message, then the next page."""
    flash(message, "success")
    return redirect(location)


def _show_error(error: DomainError, form: FlaskForm | None = None) -> int:
    """Roll back, put the French message next to its field (or on top) and give the HTTP status."""
    db.session.rollback()
    field = getattr(form, error.field, None) if (form is not None and error.field) else None
    if field is not None:
        field.errors = [*list(field.errors or []), error.message]
    else:
        flash(error.message, "error")
    return 409 if isinstance(error, Conflict) else 422


def _form_errors_status(form: FlaskForm) -> int:
    """400 if only the security token was refused, else 422 with a summary above the fields."""
    if not set(form.errors) - {"csrf_token"}:
        return 400
    flash(FORM_ERRORS, "error")
    return 422


def pair_voice(pair, kind: str, *, actor, home: str, names: dict[str, str]) -> ResponseReturnValue:
    """The mentee's or the tutor's page to pause their binôme, ask to stop it, or report a problem.

    `kind` is "pause", "stop" or "report"; `home` the URL of their binôme page; `names` says how
    to name the other person and the référent. One service call, as every form (`handle_post`).
    """
    forms = {"pause": PauseForm, "stop": StopForm, "report": ReportForm}
    form = forms[kind]()
    actions = {
        "pause": lambda: voices.pause(pair, actor=actor, until=form.until.data),
        "stop": lambda: voices.request_stop(
            pair, actor=actor, reason=form.reason.data, comment=form.comment.data or ""
        ),
        "report": lambda: voices.report_problem(pair, actor=actor, comment=form.comment.data or ""),
    }
    done = {
        "pause": "Le binôme est en pause. Il reprendra de lui-même après la date choisie.",
        "stop": "Votre demande d'arrêt est envoyée au référent. Il va prendre contact avec vous.",
        "report": "Votre message est envoyé au référent, et à lui seul. Il va prendre contact avec vous.",
    }
    return handle_post(
        form,
        actions[kind],
        on_success=lambda _: success(done[kind], home),
        render=lambda status: (
            render_template(
                "_pair_voice.html",
                pair=pair,
                kind=kind,
                form=form,
                home=home,
                names=names,
                max_pause_days=voices.MAX_PAUSE_DAYS,
            ),
            status,
        ),
    )


def check_in_answer(pair, check_in_id: int, *, actor, home: str) -> ResponseReturnValue:
    """The mentee's or the tutor's answer to « Comment se passe le tutorat ? » (their own only)."""
    check_in = db.session.scalars(
        select(CheckIn).where(
            CheckIn.id == check_in_id, CheckIn.pair_id == pair.id, CheckIn.person_id == actor.id
        )
    ).first()
    if check_in is None:
        abort(404)
    form = CheckInForm()
    return handle_post(
        form,
        lambda: checkins.answer(
            check_in, actor=actor, answer=form.answer.data, comment=form.comment.data or ""
        ),
        on_success=lambda _: success("Merci pour votre réponse.", home),
        render=lambda _status: redirect(home),
    )


def goal_action(pair, *, actor, home: str, goal_id: int | None = None) -> ResponseReturnValue:
    """Add a goal (`goal_id` None) or mark one's progress, from the binôme page."""
    if goal_id is None:
        add = GoalForm()
        return handle_post(
            add,
            lambda: goals.add_goal(
                pair, actor=actor, code=add.code.data or "", text=add.text.data or ""
            ),
            on_success=lambda _: success("L'objectif est ajouté.", home),
            render=lambda _status: redirect(home),
        )
    goal = db.session.scalars(
        select(Goal).where(Goal.id == goal_id, Goal.pair_id == pair.id)
    ).first()
    if goal is None:
        abort(404)
    form = GoalStatusForm()
    return handle_post(
        form,
        lambda: goals.mark(goal, pair, actor=actor, status=form.status.data),
        on_success=lambda _: success("C'est noté.", home),
        render=lambda _status: redirect(home),
    )
