"""Database plumbing: SQLite pragmas and turning named constraint violations into French messages."""

from __future__ import annotations

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


def configure_engine_events(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


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
