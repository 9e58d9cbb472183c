"""Database plumbing: timeouts, SQLite pragmas and turning named constraint violations into French messages."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, cast

from sqlalchemy import FromClause, Table, event, insert, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import CursorResult, Engine, Result, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

# Named constraints → what the user reads when one refuses a write.
CONSTRAINT_MESSAGES = {
    "uq_demande_ouverte_par_beneficiaire": "Cette personne a déjà une demande de tutorat en cours.",
    "uq_binome_vivant_par_beneficiaire": "Cette personne a déjà un binôme proposé ou actif.",
    "places_dans_capacite": "Ce tuteur n'a plus de place disponible.",
    "capacite_1_a_3": "Un tuteur peut suivre de 1 à 3 personnes.",
    "duree_positive": "La durée doit être comprise entre 1 minute et 12 heures.",
    "uq_user_account_email": "Un compte existe déjà avec cette adresse électronique.",
    "uq_numero_allocataire": "Une personne suivie a déjà ce numéro allocataire.",
    "arret_avec_raison": "Choisissez la raison de l'arrêt dans la liste.",
    "probleme_avec_description": "Décrivez le problème en quelques mots.",
    "point_une_fois_par_tour": "Vous avez déjà répondu à cette question. Merci !",
    "objectif_non_vide": "Écrivez l'objectif en quelques mots.",
    "une_prochaine_rencontre_par_binome": (
        "La prochaine rencontre vient d'être changée par ailleurs : rechargez la page."
    ),
}


_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def declare_write_intent(value: bool = True) -> None:
    """Say that the current request will write (a POST): SQLite then takes the write lock up front."""
    _write_intent.set(value)


def postgres_connect_args(config: Mapping[str, Any], options: str = "") -> dict[str, Any]:
    """libpq settings that make a down or frozen PostgreSQL fail fast instead of hanging a worker.

    ``connect_timeout`` bounds the connection (libpq waits at least 2 s), ``statement_timeout``
    every statement, including one waiting for a lock that a stuck session holds.
    """
    statement = f"-c statement_timeout={int(config['DB_STATEMENT_TIMEOUT_MS'])}"
    # A département's base (tens of megabytes) is read from memory: an index lookup costs about a
    # sequential page, not PostgreSQL's default of four (made for spinning disks). With the default,
    # a référent's 160 mentees are found by scanning every account (bench/README.md). An operator's
    # own `-c random_page_cost=` in the URL's options wins, as any later `-c`.
    planner = "-c random_page_cost=1.1"
    return {
        "connect_timeout": int(config["DB_CONNECT_TIMEOUT"]),
        # Ours first: a `-c` given later (URL or SQLALCHEMY_ENGINE_OPTIONS) wins.
        "options": " ".join(part for part in (statement, planner, options) if part),
    }


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """SQLALCHEMY_ENGINE_OPTIONS with the timeouts of DB_CONNECT_TIMEOUT and DB_STATEMENT_TIMEOUT_MS."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    url = make_url(str(config["SQLALCHEMY_DATABASE_URI"]))
    if url.get_backend_name() != "postgresql":
        return options
    given = dict(options.get("connect_args") or {})
    extra = " ".join(str(v) for v in (url.query.get("options"), given.pop("options", None)) if v)
    options["connect_args"] = {**postgres_connect_args(config, extra), **given}
    # Waiting for a pooled connection is bounded too (threads or gevent workers).
    options.setdefault("pool_timeout", int(config["DB_CONNECT_TIMEOUT"]))
    return options


def configure_engine_events(engine: Engine, busy_timeout_ms: int = 10000) -> None:
    if engine.dialect.name == "postgresql":
        _note_writes(engine)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        # We emit BEGIN ourselves (below): pysqlite's implicit one cannot be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # First, so that the pragmas below wait (a bounded time) for a lock another process holds.
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # 8 MB of pages kept by each connection instead of SQLite's default 2 MB: at the Gers scale
        # (a 50 MB base) the dashboard's statement alone reads more than 2 MB of pages, which the
        # default cache gave back to the system at every run (1.2 -> 0.9 ms; bench/README.md).
        cursor.execute("PRAGMA cache_size=-8000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        # A deferred transaction that reads then writes can fail at once with "database is
        # locked" when another worker wrote meanwhile; BEGIN IMMEDIATE waits (busy_timeout) instead.
        if _write_intent.get():
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            # A read (every GET) sends the same BEGIN on the driver's connection: it takes no
            # lock, so it cannot wait or fail, and SQLAlchemy's statement machinery (execution
            # context, cursor, result) cost more than the rest of the transaction's start.
            conn.connection.driver_connection.execute("BEGIN")


def _note_writes(engine: Engine) -> None:
    """Mark a PostgreSQL connection's transaction as written as soon as it runs anything but a
    SELECT (`end_read_only` commits only a transaction that never did)."""

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.info["wrote"] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith("SELECT"):
            conn.info["wrote"] = True


def _end_read_only(session: Session) -> None:
    """End with COMMIT a PostgreSQL transaction that only read (the same effect as a rollback).

    psycopg forgets the statements it has prepared on the server at every ROLLBACK (a rolled-back
    DDL could have changed what they refer to); a request that only read ends with one, when its
    session closes. Committed, the statements of a page stay prepared on the connection, and the
    pages that run the same statements again and again (a dashboard, a demande) are not planned
    anew each time (bench/README.md: a millisecond of planning for the dashboard's statement).
    A transaction that wrote anything, or holds unflushed changes, is rolled back as before.

    The driver's connection commits, not the session: the session then closes as always (its
    rollback finds no transaction), and its objects are not expired by a commit, as the code that
    still reads them once the request is over (tests, commands) expects.
    """
    if not session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return  # the dialect first: on SQLite (no prepared statements) nothing more is looked at
    if session.new or session.dirty or session.deleted:
        return
    connection = session.connection()
    if connection.info.get("wrote") is False:
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection is not None:
            dbapi_connection.commit()


def integrity_message(error: IntegrityError) -> str:
    """The French message of the named constraint behind `error`, or a generic one."""
    text = str(error.orig)
    for name, message in CONSTRAINT_MESSAGES.items():
        if name in text:
            return message
    # SQLite names the columns of a failed unique index rather than the index.
    if "user_account.email" in text:
        return CONSTRAINT_MESSAGES["uq_user_account_email"]
    if "tutoring_request.mentee_id" in text:
        return CONSTRAINT_MESSAGES["uq_demande_ouverte_par_beneficiaire"]
    if "mentee_profile.caf_number" in text:
        return CONSTRAINT_MESSAGES["uq_numero_allocataire"]
    if "next_meeting.pair_id" in text:
        return CONSTRAINT_MESSAGES["une_prochaine_rencontre_par_binome"]
    if "pair.mentee_id" in text:
        return CONSTRAINT_MESSAGES["uq_binome_vivant_par_beneficiaire"]
    return "Cette modification est en conflit avec les données existantes. Rechargez la page et réessayez."


# ---- The end of a request must not fail because the database did ----

_log = logging.getLogger("tutorat")


_UNAVAILABLE_SQLSTATES = {"25006", "53100", "53200", "53300", "57P01", "57P02", "57P03"}
_UNAVAILABLE_PREFIXES = ("08",)  # connection exceptions


def database_unavailable(error: BaseException) -> bool:
    """True if `error` says the database is down, frozen, full or read-only (not a bug of ours)."""
    if isinstance(error, sa_exc.TimeoutError | sqlite3.OperationalError):
        return True  # the pool gave no connection in time; SQLite locked, full, read-only
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return True
    if error.connection_invalidated:
        return True
    state = getattr(error.orig, "sqlstate", None) or ""
    return state in _UNAVAILABLE_SQLSTATES or state.startswith(_UNAVAILABLE_PREFIXES)


def failure_reason(error: BaseException) -> str:
    """One line for the request log: the driver's exception class and the first line of its message.

    The driver's own message, not SQLAlchemy's, which appends the statement and its parameters.
    """
    orig = getattr(error, "orig", None) or error
    first_line = (str(orig).strip().splitlines() or [""])[0]
    return f"{type(orig).__module__}.{type(orig).__name__}: {first_line}"[:300]


def _invalidate(session: Session) -> None:
    """Drop the session's connections (a terminated backend must not go back to the pool)."""
    try:
        session.invalidate()
    except Exception:  # nothing more can be done with these connections
        _log.debug("invalidation impossible", exc_info=True)


def rollback_quietly(session: Session | scoped_session) -> bool:
    """Roll back; if the database refuses (terminated, down), log one line and drop the connection.

    For the end of a request and the error pages, which must answer whatever the database does.
    """
    try:
        session.rollback()
        return True
    except Exception as error:
        _log.warning("annulation impossible, connexion abandonnée : %s", failure_reason(error))
        target = session.registry() if isinstance(session, scoped_session) else session
        _invalidate(target)
        return False


def remove_quietly(scoped: scoped_session) -> None:
    """End the request's session (Flask-SQLAlchemy's teardown) without ever raising.

    Its rollback may fail (the server ended the backend mid-request, or went down): the error
    would escape the request after the response was made, and gunicorn would answer its own
    English "Internal Server Error". The connection is then invalidated, never reused.
    """
    if not scoped.registry.has():
        return
    session = scoped.registry()
    try:
        _end_read_only(session)
        session.close()
    except Exception as error:
        _log.warning("fin de requête : connexion abandonnée : %s", failure_reason(error))
        _invalidate(session)
    finally:
        scoped.registry.clear()


def changed_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (a conditional UPDATE is a claim: 1 or 0)."""
    return cast(CursorResult[Any], result).rowcount or 0


def allocate_ids(session: Session | scoped_session, table_name: str, count: int) -> list[int]:
    """`count` fresh primary keys of `table_name` (an integer `id`), to insert many rows at once
    without RETURNING, and to link other rows to them in the same batch.

    PostgreSQL takes them from the column's sequence (never given twice). SQLite has no sequence:
    they follow the largest id, in the caller's write transaction (SQLite has one writer at a time).
    """
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :count)"
                ),
                {"table": table_name, "count": count},
            )
        )
    start = session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table_name}")) or 0
    return list(range(start + 1, start + 1 + count))


def insert_many(
    session: Session | scoped_session, table: FromClause, rows: list[dict[str, Any]]
) -> None:
    """Insert many rows of a Core `table` in a few multi-row statements (a thousand rows each).

    RETURNING is asked only so that SQLAlchemy batches the rows into multi-row INSERTs
    ("insertmanyvalues", its statement compiled once and cached) on SQLite and PostgreSQL alike:
    a plain executemany is one statement per row on PostgreSQL, each firing the statement triggers
    (`pool_version` on user_account: thousands of updates of one row in one transaction), and a
    `.values([...])` of a thousand rows is compiled anew each time (seconds per batch).
    """
    if rows:
        target = cast(Table, table)  # a model's __table__ is typed as a FromClause
        session.execute(insert(target).returning(*target.primary_key.columns), rows).all()
