"""Health endpoint for the load balancer: /sante (or /health), a bounded write probe, JSON, no login."""

from __future__ import annotations

import contextlib
import sqlite3
import threading

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from tutorat.extensions import db
from tutorat.services import health as health_service
from tutorat.services.db import failure_reason

bp = Blueprint("health", __name__)


class ProbeTimeout(Exception):
    """The probe did not finish in time: a frozen server, or a connection that never opens."""


class _Probe:
    """One probe of the database, shared by every health check that arrives while it runs."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None


# One probe at a time per worker, shared: a check arriving while a probe runs waits for that
# probe's answer instead of starting another (no pile of threads while a database is frozen) or
# answering 503 at once (a worker with several threads got up to four checks at a time from a
# balancer or a benchmark, and all but one were told « bloquée » while the database was fine).
_guard = threading.Lock()
_current: _Probe | None = None


def _probe_within(timeout_s: float, busy_timeout_ms: int) -> None:
    """Run the probe in a thread of its own (or join the one running) and wait `timeout_s` at
    most (plus a little).

    The probe's own timeouts bound its statements, but not a connection to a host that never
    answers (libpq waits at least 2 s): the thread keeps waiting, the balancer has its answer.
    """
    global _current
    with _guard:
        probe = _current
        if probe is None:
            probe = _current = _Probe()
            _start(probe, timeout_s, busy_timeout_ms)
    if not probe.done.wait(timeout_s + 0.3):
        raise ProbeTimeout(f"no answer within {timeout_s} s")
    if probe.error is not None:
        raise probe.error


def _start(probe: _Probe, timeout_s: float, busy_timeout_ms: int) -> None:
    # The app behind the proxy (Flask types current_app as the app itself, hence the ignore).
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        global _current
        try:
            with app.app_context():
                try:
                    health_service.probe(timeout_s, busy_timeout_ms)
                except BaseException as exc:
                    with contextlib.suppress(SQLAlchemyError):
                        db.session.rollback()
                    probe.error = exc
        finally:
            with _guard:
                if _current is probe:
                    _current = None
            probe.done.set()

    threading.Thread(target=run, name="tutorat-sante", daemon=True).start()


@bp.get("/sante")
@bp.get("/health")
def health():
    """200 if the database takes a write within HEALTH_TIMEOUT, 503 otherwise — answered within
    that time whatever the database does (a frozen server, a host that never answers).

    The balancer then skips the worker; the body says why: injoignable, bloquée (a lock held
    too long, a frozen server), lecture seule, pleine.
    """
    config = current_app.config
    try:
        _probe_within(config["HEALTH_TIMEOUT"], config["SQLITE_BUSY_TIMEOUT"])
    except ProbeTimeout as exc:
        return _unavailable("bloquée", exc)
    except (SQLAlchemyError, sqlite3.Error, health_service.DatabaseFull) as exc:
        return _unavailable(health_service.state(exc), exc)
    return jsonify(statut="ok", base="ok")


def _unavailable(state: str, exc: BaseException):
    # The request log's `error` field (tutorat/production.py), as for the other 503 pages.
    request.environ["tutorat.error"] = failure_reason(exc)
    current_app.logger.warning("santé : base %s (%s)", state, type(exc).__name__)
    return jsonify(statut="indisponible", base=state), 503
