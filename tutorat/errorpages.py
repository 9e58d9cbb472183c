"""Error pages that render whatever failed: without a URL adapter (bad Host) and without the database.

Every error handler goes through `render_error`. It never calls Flask's `url_for` (a request whose
Host header is malformed has no URL adapter) nor `render_template` (its context processors load
the current user from the database, which may be the thing that failed): links are built from the
URL map alone, under the request's script root, and the viewer is read once, inside a `try`, or
taken as anonymous when the database is down.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy import exc as sa_exc
from werkzeug.routing import BuildError

from matching import MatchingInputError
from tutorat.extensions import db, limiter, login_manager
from tutorat.services.db import database_unavailable, failure_reason, rollback_quietly
from tutorat.services.errors import Conflict, DomainError

# How long a client (or a proxy) should wait before trying again when the database is unavailable.
RETRY_AFTER_SECONDS = 30

MESSAGES = {
    400: (
        "Demande invalide",
        "La demande envoyée n'a pas pu être comprise. Vérifiez le formulaire et réessayez.",
    ),
    403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
    404: ("Page introuvable", "Cette page n'existe pas ou vous n'y avez pas accès."),
    405: ("Action impossible", "Cette action n'est pas possible sur cette page."),
    409: (
        "Action impossible pour l'instant",
        "Cette action n'est pas possible dans l'état actuel des données. Rechargez la page.",
    ),
    413: ("Envoi trop volumineux", "Les données envoyées sont trop volumineuses."),
    422: ("Donnée refusée", "Une donnée envoyée a été refusée. Vérifiez le formulaire."),
    429: (
        "Trop de tentatives",
        "Vous avez fait trop de tentatives. Patientez une minute puis réessayez.",
    ),
    500: (
        "Erreur du service",
        "Une erreur est survenue de notre côté. Réessayez dans quelques instants.",
    ),
    503: (
        "Service momentanément indisponible",
        "Le service ne peut pas accéder à ses données pour le moment. Ce que vous venez "
        "d'envoyer n'a pas été enregistré : réessayez dans quelques minutes.",
    ),
}


# PostgreSQL conditions that mean "the database cannot serve now", whatever class psycopg gives
# them: read-only transaction (a standby, or default_transaction_read_only), disk full, out of
# memory, too many connections, shutting down, cannot connect.
@dataclass(frozen=True)
class _Viewer:
    """What the page layout reads of the user, read once (no lazy load during rendering)."""

    role: Any
    first_name: str
    is_authenticated: bool = True
    is_anonymous: bool = False


def _url_builder():
    """`url_for` for the error page: the URL map alone, under the script root (no URL adapter)."""
    script_root = request.script_root if has_request_context() else ""
    adapter = current_app.url_map.bind("localhost", script_name=script_root or "/")

    def build(endpoint: str, **values: Any) -> str:
        try:
            return adapter.build(endpoint, {k: v for k, v in values.items() if v is not None})
        except BuildError:
            return (script_root or "") + "/"

    return build


def _anonymous():
    return login_manager.anonymous_user()


def _viewer(database_down: bool):
    """The user the layout shows, or anonymous if the database is down or fails to load them."""
    if not has_request_context():
        return _anonymous()
    if database_down:
        # Later hooks (access log, request log) read `current_user` too: none may query again.
        return unknown_user()
    try:
        user = current_user._get_current_object()
        if not user.is_authenticated:
            return user
        return _Viewer(role=user.role, first_name=user.first_name)
    except Exception:  # the error page must render whatever the user loading did
        _rollback()
        return unknown_user()


def unknown_user():
    """The database cannot say who this is: anonymous from now on, and noted as unknown.

    Later hooks (access log, request log) read `current_user` too: none may query again. The
    request log then gives the role kept in the session, or "inconnu" (tutorat.production).
    """
    g._login_user = _anonymous()
    g.tutorat_user_unknown = True
    return g._login_user


def _rollback() -> None:
    rollback_quietly(db.session)  # the connection may be the thing that failed


def _csrf_token() -> str:
    try:
        return generate_csrf()
    except Exception:  # no session, no secret: the logout button then fails, not the page
        return ""


def render_error(
    status: int,
    detail: str | None = None,
    *,
    database_down: bool = False,
    reason: str | None = None,
):
    """The French error page `status` (templates/errors/error.html), as a response."""
    title, text = MESSAGES.get(status, MESSAGES[500])
    if reason and has_request_context():
        request.environ["tutorat.error"] = reason
    viewer = _viewer(database_down)
    template = current_app.jinja_env.get_template("errors/error.html")
    html = template.render(
        code=status,
        title=title,
        text=detail or text,
        current_user=viewer,
        url_for=_url_builder(),
        csrf_token=_csrf_token,
    )
    response = current_app.response_class(html, status=status, mimetype="text/html")
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _database_error(error: Exception):
    if not database_unavailable(error):
        raise error
    _rollback()
    return render_error(503, database_down=True, reason=failure_reason(error))


def _csrf_error(_error: CSRFError):
    _rollback()
    return render_error(
        400,
        "Le formulaire a expiré ou n'est pas valide (jeton de sécurité). "
        "Revenez à la page précédente, rechargez-la et envoyez-le à nouveau.",
    )


def _too_many(error: RateLimitExceeded):
    # Our limits carry a French message (error_message=…); Flask-Limiter's own is English.
    response = render_error(429, error.description if error.limit.error_message else None)
    current = limiter.current_limit
    if current is not None:
        response.headers["Retry-After"] = str(max(1, int(current.reset_at - time.time())))
    return response


def _domain_error(error: DomainError):
    """A rule refused the action and no view caught it: its French message, never a 500."""
    _rollback()
    return render_error(409 if isinstance(error, Conflict) else 422, error.message)


def _matching_input(error: MatchingInputError):
    """The matching library refused an input (a capacity, a weight, a ROME code…): French 400."""
    _rollback()
    return render_error(400, f"Le classement ne peut pas être calculé avec ces données : {error}")


def register(app: Flask) -> None:
    """Every error handler of the application."""
    for code in MESSAGES:
        app.register_error_handler(code, lambda _e, code=code: render_error(code))
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(MatchingInputError, _matching_input)
    for error_class in (sa_exc.DBAPIError, sa_exc.TimeoutError, sqlite3.OperationalError):
        app.register_error_handler(error_class, _database_error)
