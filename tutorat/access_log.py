"""The access log in a web request: lines collected while it runs, written once it is over.

The lines come from `services/audit.py::note` (a service notes a login, an erasure…) and from
`after_request` below (a staff member saw or changed a beneficiary's record, a request was
refused). They are written after the request's own work, on the log's own connection, so a
rolled-back request still logs.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from flask_login import current_user

from tutorat.errorpages import render_error, unknown_user
from tutorat.extensions import db
from tutorat.models import AccessAction, User
from tutorat.models.users import STAFF_ROLES
from tutorat.services import audit
from tutorat.services.db import failure_reason, rollback_quietly


def init_app(app: Flask) -> None:
    """Collect the lines noted during a request; write them when it ends (`teardown`).

    `after_request` is registered by the app factory, at its place among the other hooks.
    """
    app.extensions[audit.COLLECTOR] = _collect
    app.teardown_request(teardown)


def _collect(entry: dict[str, Any]) -> bool:
    """Keep a line noted by a service for the end of the current request (False outside one)."""
    if not has_request_context():
        return False
    entry["ip"] = (request.remote_addr or "")[:45]
    g.setdefault("access_log", []).append(entry)
    return True


def record_subject(subject_id: int) -> None:
    """The current page shows or changes the record of beneficiary `subject_id` (logged for staff)."""
    if has_request_context():
        g.access_subject = subject_id


def _viewer() -> User | None:
    """The logged-in user, or None; never a database error (the user is then unknown)."""
    if g.get("tutorat_user_unknown"):
        return None
    try:
        user = current_user._get_current_object()
    except Exception:  # the database failed loading them: this request's page says so already
        rollback_quietly(db.session)
        unknown_user()
        return None
    return user if user is not None and user.is_authenticated else None


def after_request(response):
    """Staff views and changes of a beneficiary's record, and every denial.

    A record is shown (or a change acknowledged) only once its access-log line is written: if the
    line cannot be written, the answer becomes the French 503 page, without the record.
    """
    if request.endpoint == "static":
        return response  # never the database for a style sheet (the 503 page needs it)
    subject = g.pop("access_subject", None)
    refused = response.status_code in (400, 403, 404, 405, 429)
    if subject is None and not refused:
        return response
    user = _viewer()
    endpoint = request.endpoint or request.path[:100]
    if (
        subject is not None
        and user is not None
        and user.role in STAFF_ROLES
        and response.status_code < 400
    ):
        action = AccessAction.VIEW if request.method in ("GET", "HEAD") else AccessAction.MODIFY
        audit.note(
            action, target=endpoint, subject_id=subject, actor=user, status=response.status_code
        )
        error = _write(g.pop("access_log", None) or [], request_failed=False)
        if error is not None:
            return _unlogged(response, error)
    if refused:
        audit.note(
            AccessAction.DENIED,
            target=f"{request.method} {request.path}"[:120],
            actor=user,
            status=response.status_code,
        )
    return response


UNLOGGED_VIEW = (
    "Le service ne peut pas inscrire cette consultation au journal des accès pour le moment : "
    "le dossier n'est donc pas affiché. Réessayez dans quelques minutes."
)
UNLOGGED_CHANGE = (
    "Le service ne peut pas inscrire cette modification au journal des accès pour le moment. "
    "Dans quelques minutes, rouvrez le dossier pour vérifier qu'elle a bien été enregistrée."
)


def _unlogged(response, error: Exception):
    """The French 503 instead of `response` (which shows a record whose access was not logged)."""
    reading = request.method in ("GET", "HEAD")
    page = render_error(
        503,
        UNLOGGED_VIEW if reading else UNLOGGED_CHANGE,
        reason=f"journal des accès : {failure_reason(error)}",
    )
    if "X-Request-Id" in response.headers:
        page.headers["X-Request-Id"] = response.headers["X-Request-Id"]
    return page


def teardown(exc=None) -> None:
    """Write the collected lines after the request's own work, even if it was rolled back."""
    _write(g.pop("access_log", None) or [], request_failed=exc is not None)


def _write(entries: list[dict[str, Any]], *, request_failed: bool) -> Exception | None:
    """Write `entries` on the log's own connection; the error if that failed (logged in one line)."""
    if not entries:
        return None
    session = db.session
    try:
        # The request's own transaction ends first, so that none of its locks can hold the line
        # back; a page that only read keeps its transaction (nothing to undo).
        read_only = (
            not request_failed
            and request.method in ("GET", "HEAD")
            and session.get_bind().dialect.name == "postgresql"
            and not (session.new or session.dirty or session.deleted)
        )
        if not read_only:
            rollback_quietly(session)  # a failure drops that connection, not the log line
        audit.insert_lines(entries)
    except Exception as error:
        rollback_quietly(session)
        current_app.logger.error(
            "journal des accès : écriture impossible : %s", failure_reason(error)
        )
        return error
    return None
