"""Small helpers shared by the views: commit once, show a domain error next to its field."""

from __future__ import annotations

from flask import flash
from sqlalchemy.exc import IntegrityError

from tutorat.extensions import db
from tutorat.services.db import integrity_message
from tutorat.services.errors import Conflict, DomainError


def commit_or_error(form=None) -> tuple[bool, int]:
    """Commit the request's work once. On a refused rule, roll back and return (False, status)."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        flash(integrity_message(exc), "error")
        return False, 409
    return True, 200


def show_error(error: DomainError, form=None) -> int:
    """Roll back, put the French message next to its field (or on top) and give the HTTP status."""
    db.session.rollback()
    field = getattr(form, error.field, None) if (form is not None and error.field) else None
    if field is not None:
        field.errors = [*list(field.errors or []), error.message]
    else:
        flash(error.message, "error")
    return 409 if isinstance(error, Conflict) else 422


def form_errors_status(form) -> int:
    flash("Le formulaire contient des erreurs : corrigez les champs indiqués.", "error")
    return 422
