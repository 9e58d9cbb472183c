"""The access log: collected during a request, written after it (so a rolled-back request still logs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import delete

from tutorat.extensions import db
from tutorat.models import AccessLog, User

STAFF_ROLES = ("referent", "admin")


def _client_ip() -> str:
    return (request.remote_addr or "")[:45] if has_request_context() else ""


def note(
    action: str,
    *,
    target: str = "",
    subject_id: int | None = None,
    actor: User | None = None,
    status: int | None = None,
) -> None:
    """Queue an access-log line for the current request (written at the end of the request)."""
    entry = {
        "action": action[:30],
        "target": target[:120],
        "subject_id": subject_id,
        "actor_id": actor.id if actor is not None else None,
        "actor_role": actor.role if actor is not None else "",
        "status": status,
        "ip": _client_ip(),
        "at": datetime.now(UTC),
    }
    if has_request_context():
        g.setdefault("access_log", []).append(entry)
    else:
        db.session.add(AccessLog(**entry))


def record_subject(subject_id: int) -> None:
    """The current page shows or changes the record of beneficiary `subject_id` (logged for staff)."""
    if has_request_context():
        g.access_subject = subject_id


def after_request(response):
    """Staff views and changes of a beneficiary's record, and every denial."""
    user = current_user if current_user and current_user.is_authenticated else None
    endpoint = request.endpoint or request.path[:100]
    subject = g.pop("access_subject", None)
    if (
        subject is not None
        and user is not None
        and user.role in STAFF_ROLES
        and response.status_code < 400
    ):
        action = "voir" if request.method in ("GET", "HEAD") else "modifier"
        note(action, target=endpoint, subject_id=subject, actor=user, status=response.status_code)
    if response.status_code in (400, 403, 404, 405, 429) and request.endpoint != "static":
        note(
            "refus",
            target=f"{request.method} {request.path}"[:120],
            actor=user,
            status=response.status_code,
        )
    return response


def teardown(_exc=None) -> None:
    """Write the collected lines in their own short transaction, after the request's own work."""
    entries = g.pop("access_log", None)
    if not entries:
        return
    try:
        db.session.rollback()
        db.session.add_all(AccessLog(**entry) for entry in entries)
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("journal des accès : écriture impossible")


def purge_old(now: datetime | None = None) -> int:
    days = current_app.config["ACCESS_LOG_RETENTION_DAYS"]
    result = db.session.execute(
        delete(AccessLog).where(AccessLog.at < (now or datetime.now(UTC)) - timedelta(days=days))
    )
    return result.rowcount or 0
