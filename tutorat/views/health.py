"""Health endpoint for the load balancer: /sante (or /health), a bounded write probe, JSON, no login."""

from __future__ import annotations

import contextlib
import sqlite3

from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from tutorat.extensions import db
from tutorat.services import health as health_service

bp = Blueprint("health", __name__)


@bp.get("/sante")
@bp.get("/health")
def health():
    """200 if this worker can write to the database within HEALTH_TIMEOUT, 503 otherwise.

    The balancer then skips the worker; the body says why: injoignable, bloquée (a lock held
    too long, a frozen server), lecture seule, pleine.
    """
    config = current_app.config
    try:
        health_service.probe(config["HEALTH_TIMEOUT"], config["SQLITE_BUSY_TIMEOUT"])
    except (SQLAlchemyError, sqlite3.Error, health_service.DatabaseFull) as exc:
        # The connection may be the thing that failed; the pool replaces it.
        with contextlib.suppress(SQLAlchemyError):
            db.session.rollback()
        state = health_service.state(exc)
        current_app.logger.warning("santé : base %s (%s)", state, type(exc).__name__)
        return jsonify(statut="indisponible", base=state), 503
    return jsonify(statut="ok", base="ok")
