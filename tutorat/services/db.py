"""Database plumbing: SQLite pragmas and turning named constraint violations into French messages."""

from __future__ import annotations

from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

# Named constraints → what the user reads when one refuses a write.
CONSTRAINT_MESSAGES = {
    "uq_demande_ouverte_par_beneficiaire": "Cette personne a déjà une demande de tutorat en cours.",
    "uq_binome_vivant_par_beneficiaire": "Cette personne a déjà un binôme proposé ou actif.",
    "places_dans_capacite": "Ce tuteur n'a plus de place disponible.",
    "capacite_1_a_3": "Un tuteur peut suivre de 1 à 3 personnes.",
    "duree_positive": "La durée doit être comprise entre 1 minute et 12 heures.",
    "uq_user_account_email": "Un compte existe déjà avec cette adresse électronique.",
}


_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def declare_write_intent(value: bool = True) -> None:
    """Say that the current request will write (a POST): SQLite then takes the write lock up front."""
    _write_intent.set(value)


def configure_engine_events(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        # We emit BEGIN ourselves (below): pysqlite's implicit one cannot be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        # A deferred transaction that reads then writes can fail at once with "database is
        # locked" when another worker wrote meanwhile; BEGIN IMMEDIATE waits (busy_timeout) instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


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
    if "pair.mentee_id" in text:
        return CONSTRAINT_MESSAGES["uq_binome_vivant_par_beneficiaire"]
    return "Cette modification est en conflit avec les données existantes. Rechargez la page et réessayez."
