"""Health endpoint for the load balancer: /sante (or /health), one cheap query, JSON, no login."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tutorat.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/sante")
@bp.get("/health")
def health():
    """200 if this worker can reach the database, 503 otherwise (the balancer then skips it)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        current_app.logger.warning("santé : base injoignable (%s)", type(exc).__name__)
        return jsonify(statut="indisponible", base="injoignable"), 503
    return jsonify(statut="ok", base="ok")
