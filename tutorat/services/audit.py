"""The access log: collected during a request, written after it (so a rolled-back request still logs)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from flask import current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import Engine, create_engine, delete, event, insert
from sqlalchemy import exc as sa_exc

from tutorat.errorpages import failure_reason, render_error, unknown_user
from tutorat.extensions import db
from tutorat.models import AccessLog, User
from tutorat.services.db import changed_rows, postgres_connect_args, rollback_quietly

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
        action = "voir" if request.method in ("GET", "HEAD") else "modifier"
        note(action, target=endpoint, subject_id=subject, actor=user, status=response.status_code)
        error = _write(g.pop("access_log", None) or [], request_failed=False)
        if error is not None:
            return _unlogged(response, error)
    if refused:
        note(
            "refus",
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


_ENGINE_KEY = "tutorat_access_log_engine"
_ENGINE_LOCK = threading.Lock()


def log_engine() -> Engine:
    """The access log's own connections: each line is committed on its own, whatever the request did.

    On PostgreSQL they do not wait for the disk at commit (``synchronous_commit=off``, for these
    connections only): a line is in the server as soon as the insert returns, so a worker killed
    next loses nothing, and a crash of the database server itself may lose the last fraction of
    a second of lines, never anything else. The page's own transaction is not touched.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    engine = app.extensions.get(_ENGINE_KEY)
    if engine is not None:
        return engine
    with _ENGINE_LOCK:
        engine = app.extensions.get(_ENGINE_KEY)
        if engine is None:
            url = db.engine.url
            if url.get_backend_name() == "postgresql":
                engine = create_engine(
                    url,
                    isolation_level="AUTOCOMMIT",
                    pool_size=2,
                    pool_pre_ping=True,
                    connect_args=postgres_connect_args(
                        app.config, "-c synchronous_commit=off -c lock_timeout=5s"
                    ),
                )
            else:
                engine = create_engine(url, isolation_level="AUTOCOMMIT")
                busy_ms = int(app.config["SQLITE_BUSY_TIMEOUT"])

                @event.listens_for(engine, "connect")
                def _pragmas(dbapi_connection, _record):
                    cursor = dbapi_connection.cursor()
                    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
                    cursor.execute("PRAGMA synchronous=NORMAL")
                    cursor.close()

            app.extensions[_ENGINE_KEY] = engine
    return engine


def dispose_engine(app, *, close: bool = True) -> None:
    """Close the access log's connections (``close=False`` after a fork: the parent keeps them)."""
    engine = app.extensions.get(_ENGINE_KEY)
    if engine is not None:
        engine.dispose(close=close)


def teardown(exc=None) -> None:
    """Write the collected lines after the request's own work, even if it was rolled back."""
    _write(g.pop("access_log", None) or [], request_failed=exc is not None)


def _write(entries: list[dict], *, request_failed: bool) -> Exception | None:
    """Write `entries` on the log's own connection; the error if that failed (logged in one line).

    A log connection the server ended since its last use is replaced once (one retry).
    """
    if not entries:
        return None
    session = db.session
    try:
        # The request's own transaction ends first, so that none of its locks can hold the line
        # back; a page that only read keeps its transaction (nothing to undo).
        read_only = (
            not request_failed
            and has_request_context()
            and request.method in ("GET", "HEAD")
            and session.get_bind().dialect.name == "postgresql"
            and not (session.new or session.dirty or session.deleted)
        )
        if not read_only:
            rollback_quietly(session)  # a failure drops that connection, not the log line
        url = db.engine.url
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            # An in-memory database exists only on its own connection: write there.
            session.execute(insert(AccessLog), entries)
            session.commit()
            return None
        for attempt in (1, 2):
            try:
                with log_engine().connect() as conn:
                    conn.execute(insert(AccessLog), entries)
                break
            except sa_exc.DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
    except Exception as error:
        rollback_quietly(session)
        current_app.logger.error(
            "journal des accès : écriture impossible : %s", failure_reason(error)
        )
        return error
    return None


def purge_old(now: datetime | None = None) -> int:
    days = current_app.config["ACCESS_LOG_RETENTION_DAYS"]
    result = db.session.execute(
        delete(AccessLog).where(AccessLog.at < (now or datetime.now(UTC)) - timedelta(days=days))
    )
    return changed_rows(result)
