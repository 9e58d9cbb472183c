"""Whether the database takes a write now, within a short time: the load balancer's probe (/sante)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tutorat.extensions import db
from tutorat.models import HealthCheck, User
from tutorat.models._types import utcnow

# Below this much free space next to the SQLite file, the next writes may fail: say so now.
MIN_FREE_BYTES = 8 * 1024 * 1024


class DatabaseFull(Exception):
    """The SQLite file may not grow: the disk (or `max_page_count`) is full."""


def probe(timeout_s: float, busy_timeout_ms: int) -> None:
    """Upsert the probe's row and commit, each wait bounded by `timeout_s`; raise if it fails.

    A read (``SELECT 1``) succeeds on a database that is read-only, full or whose tables are
    locked; a write inside a committed transaction does not. ``busy_timeout_ms`` is SQLite's
    usual wait, put back on the connection before it returns to the pool.
    """
    session = db.session
    ms = max(1, int(timeout_s * 1000))
    conn = session.connection()
    now = utcnow()
    if conn.dialect.name == "postgresql":
        # For this transaction only: a lock held elsewhere, or a frozen server, answers in `ms`.
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {ms}")
        # Every page reads the accounts table (the logged-in user): a lock held on it stops them
        # all while the probe's own table is free, so the probe reads it too.
        session.execute(select(User.id).limit(1))
        stmt = pg_insert(HealthCheck).values(id=1, checked_at=now)
        session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={"checked_at": now}))
        session.commit()
        return
    conn.exec_driver_sql(f"PRAGMA busy_timeout = {ms}")
    try:
        lite = sqlite_insert(HealthCheck).values(id=1, checked_at=now)
        session.execute(lite.on_conflict_do_update(index_elements=["id"], set_={"checked_at": now}))
        _check_room(conn)
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    session.commit()


def _check_room(conn: Connection) -> None:
    """SQLite rewrites a row in place: that it could says nothing of the next row that needs a page."""
    pages = conn.exec_driver_sql("PRAGMA page_count").scalar() or 0
    limit = conn.exec_driver_sql("PRAGMA max_page_count").scalar() or 0
    free_pages = conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0
    if limit and pages >= limit and free_pages == 0:
        raise DatabaseFull("database or disk is full (max_page_count)")
    database = conn.engine.url.database or ""
    if database.startswith("file:"):
        database = database[len("file:") :].split("?", 1)[0]
    on_disk = bool(database) and database != ":memory:"
    if on_disk and shutil.disk_usage(Path(database).resolve().parent).free < MIN_FREE_BYTES:
        raise DatabaseFull("database or disk is full (free space)")


def state(error: BaseException) -> str:
    """What /sante says of the database after `error`, in French, one or two words."""
    orig = getattr(error, "orig", None) or error
    code = str(getattr(orig, "sqlstate", "") or "")
    message = str(orig).lower()
    if isinstance(error, DatabaseFull) or code == "53100" or "disk is full" in message:
        return "pleine"
    if code == "25006" or "readonly" in message or "read-only" in message:
        return "lecture seule"
    if code in ("57014", "55P03") or "locked" in message or "busy" in message:
        return "bloquée"
    return "injoignable"
