"""The access log: who saw or changed a record, logins, denials; its lines and their own connections.

`note()` records a line. In a web request the web layer (`tutorat/access_log.py`) collects it, adds
the client's address and writes it once the request is over, on the log's own connection, even if
the request's own work was rolled back. Elsewhere (a CLI command) the line joins the caller's
transaction. Nothing here reads the request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Engine, create_engine, delete, event, insert
from sqlalchemy import exc as sa_exc

from tutorat.extensions import db
from tutorat.models import AccessLog, User
from tutorat.services.db import changed_rows, postgres_connect_args

# app.extensions[COLLECTOR]: a function that takes a line for the current request (True), or
# leaves it to the caller's transaction (False): installed by tutorat/access_log.py.
COLLECTOR = "tutorat_access_log_collector"
Collector = Callable[[dict[str, Any]], bool]


def note(
    action: str,
    *,
    target: str = "",
    subject_id: int | None = None,
    actor: User | None = None,
    status: int | None = None,
) -> None:
    """Record an access-log line: for the end of the current request if there is one, else in the
    caller's transaction."""
    entry: dict[str, Any] = {
        "action": action[:30],
        "target": target[:120],
        "subject_id": subject_id,
        "actor_id": actor.id if actor is not None else None,
        "actor_role": actor.role if actor is not None else "",
        "status": status,
        "ip": "",
        "at": datetime.now(UTC),
    }
    collect: Collector | None = current_app.extensions.get(COLLECTOR)
    if collect is None or not collect(entry):
        db.session.add(AccessLog(**entry))


_ENGINE_KEY = "tutorat_access_log_engine"
_ENGINE_LOCK = threading.Lock()


def log_engine() -> Engine:
    """The access log's own connections: each line is committed on its own, whatever the request did.

    On PostgreSQL they do not wait for the disk at commit (``synchronous_commit=off``, for these
    connections only): a line is in the server as soon as the insert returns, so a worker killed
    next loses nothing, and a crash of the database server itself may lose the last fraction of
    a second of lines, never anything else. The page's own transaction is not touched.
    """
    # The app behind the proxy (Flask types current_app as the app itself, hence the ignore).
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    engine = app.extensions.get(_ENGINE_KEY)
    if engine is not None:
        return engine
    with _ENGINE_LOCK:
        engine = app.extensions.get(_ENGINE_KEY)
        if engine is None:
            url = db.engine.url
            if url.get_backend_name() == "postgresql":
                # No ping before each use (a round trip per line): a connection the server ended
                # since its last use fails the insert, which `insert_lines` retries once anew.
                engine = create_engine(
                    url,
                    isolation_level="AUTOCOMMIT",
                    pool_size=2,
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


# Built once: most requests that log write one line (a record shown), on every such page view.
# `inline()`: no RETURNING of the new id on PostgreSQL (a row to fetch for nothing).
_INSERT = insert(AccessLog).inline()


def insert_lines(entries: list[dict[str, Any]]) -> None:
    """Write `entries` now, on the log's own connection (committed on their own); raises if that
    fails. A log connection the server ended since its last use is replaced once (one retry)."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        # An in-memory database exists only on its own connection: write there.
        db.session.execute(insert(AccessLog), entries)
        db.session.commit()
        return
    # One line: a plain execute (a list takes the slower many-rows path, even for one row).
    rows: list[dict[str, Any]] | dict[str, Any] = entries[0] if len(entries) == 1 else entries
    for attempt in (1, 2):
        try:
            with log_engine().connect() as conn:
                conn.execute(_INSERT, rows)
            return
        except sa_exc.DBAPIError as error:
            if attempt == 2 or not error.connection_invalidated:
                raise


def purge_old(now: datetime | None = None) -> int:
    days = current_app.config["ACCESS_LOG_RETENTION_DAYS"]
    result = db.session.execute(
        delete(AccessLog).where(AccessLog.at < (now or datetime.now(UTC)) - timedelta(days=days))
    )
    return changed_rows(result)
