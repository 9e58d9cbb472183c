"""Data versions kept in the database, so that every worker on every machine knows when a cache is stale.

Three tokens live in the `setting` table: ``version:tutors`` changes whenever a tutor's profile,
places or account, a commune or the ROME changes; ``version:activity`` changes whenever a
demande, binôme, meeting, status event or profile changes; ``version:data`` changes with any of
those and with anything else a page can show (a name, a setting such as the weights, the
reference data), that is every write but the access log, the outbox and the login bookkeeping
(failed attempts, lock, password hash, session number). A worker may keep in its own memory
something computed from those tables (the tutors' matching arrays, the indicators of a period,
rendered pages: `tutorat.pagecache`), stored under the tokens it read *before* reading the data:
as soon as another worker commits a change, the token differs and the copy is thrown away.
Nothing else is shared between workers.

Writes are noticed by session events (ORM objects flushed, and INSERT/UPDATE/DELETE statements
run through the session); the new token is written last, just before the commit, in the same
transaction as the change. A write in raw SQL (`text(...)`) or outside the session is not seen:
such code calls `bump()` itself (as the Gers-sized generator and `flask import` do).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from flask import has_request_context, request
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tutorat.models import Setting
from tutorat.models._types import utcnow

TUTORS = "version:tutors"
ACTIVITY = "version:activity"
DATA = "version:data"
KEYS = (TUTORS, ACTIVITY)
ALL = (TUTORS, ACTIVITY, DATA)

# Table → versions its changes make stale.
_TABLE_VERSIONS: dict[str, tuple[str, ...]] = {
    "tutor_profile": ALL,
    "commune": ALL,
    "tutoring_request": (ACTIVITY, DATA),
    "pair": (ACTIVITY, DATA),
    "meeting": (ACTIVITY, DATA),
    "status_event": (ACTIVITY, DATA),
    "mentee_profile": (ACTIVITY, DATA),
    # Reference data is shown with the tutors (métier labels in their rendered candidate lists).
    "rome_grand_domaine": ALL,
    "rome_domaine": ALL,
    "rome_metier": ALL,
    "rome_appellation": ALL,
}
# A user account matters to matching only through these columns (a deactivated tutor is no
# longer proposed); to pages, through every column but the login bookkeeping.
_USER_COLUMNS = ("active", "role")
_USER_BOOKKEEPING = frozenset({"failed_logins", "locked_until", "password_hash", "session_version"})
_PENDING = "tutorat_versions_pending"


def _mark(session: Session, keys: Iterable[str]) -> None:
    session.info.setdefault(_PENDING, set()).update(keys)


def _keys_for_object(obj, *, new: bool = False, deleted: bool = False) -> tuple[str, ...]:
    table = getattr(getattr(obj, "__table__", None), "name", None)
    if table == "user_account":
        if new or deleted:
            return ALL if getattr(obj, "role", None) in ("tutor", None) else (DATA,)
        from sqlalchemy import inspect

        state = inspect(obj)
        changed = {
            attr.key
            for attr in state.mapper.column_attrs
            if state.attrs[attr.key].history.has_changes()
        }
        if changed & set(_USER_COLUMNS):
            return ALL
        if not changed - _USER_BOOKKEEPING:
            return ()
        # A tutor's name is shown in the candidate lists kept with the tutors' version.
        return ALL if getattr(obj, "role", None) == "tutor" else (DATA,)
    if table == "setting":
        # The tokens themselves are written by bump(); any other setting (the weights) is shown.
        return () if str(getattr(obj, "key", "")).startswith("version:") else (DATA,)
    return _TABLE_VERSIONS.get(table or "", ())


def _before_flush(session: Session, _context, _instances) -> None:
    for obj in session.new:
        _mark(session, _keys_for_object(obj, new=True))
    for obj in session.deleted:
        _mark(session, _keys_for_object(obj, deleted=True))
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            _mark(session, _keys_for_object(obj))


def _do_orm_execute(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name == "user_account":
        _mark(state.session, ALL)
    elif name in _TABLE_VERSIONS:
        _mark(state.session, _TABLE_VERSIONS[name])


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer commit writes the tokens, last
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if pending:
        bump(session, pending)


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def bump(session: Session, keys: Iterable[str] = ALL) -> None:
    """Give each of `keys` a new token, in the current transaction (an upsert: no race on creation)."""
    now = utcnow()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"base non prise en charge : {dialect}")
    for key in sorted(set(keys)):
        stmt = insert(Setting).values(key=key, value=uuid.uuid4().hex, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Setting.key],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
        session.execute(stmt)


def read(session: Session, *extra: str) -> dict[str, object]:
    """The current tokens (and the `extra` settings asked for) in one query; a missing key is absent."""
    rows = session.execute(
        select(Setting.key, Setting.value).where(Setting.key.in_((*ALL, *extra)))
    )
    return dict(rows.all())


def token_column(key: str):
    """`key`'s token as a column, to read it with another query (one round trip less)."""
    return select(Setting.value).where(Setting.key == key).scalar_subquery()


def remember(key: str, token: object) -> None:
    """Keep `key`'s token, read at the start of this request, for `current()`."""
    if has_request_context():  # on the request, not `g`: a test may keep one `g` for many requests
        request.environ.setdefault("tutorat.versions", {})[key] = token


def current(session: Session, key: str) -> object:
    """`key`'s token as read at the start of this request, or now; None if it does not exist."""
    if has_request_context():
        known = request.environ.get("tutorat.versions", {})
        if key in known:
            return known[key]
    return read(session).get(key)


def pending(session: Session) -> set[str]:
    """Versions this transaction has made stale but not yet written: its caches must not be used."""
    return set(session.info.get(_PENDING, ()))


def install(session_class: type[Session]) -> None:
    """Listen to the sessions of `session_class` (idempotent)."""
    listeners = (
        ("before_flush", _before_flush),
        ("do_orm_execute", _do_orm_execute),
        ("before_commit", _before_commit),
        ("after_transaction_end", _after_transaction_end),
    )
    for name, fn in listeners:
        if not event.contains(session_class, name, fn):
            event.listen(session_class, name, fn)


__all__ = [
    "ACTIVITY",
    "ALL",
    "DATA",
    "KEYS",
    "TUTORS",
    "bump",
    "current",
    "install",
    "pending",
    "read",
    "remember",
    "token_column",
]
