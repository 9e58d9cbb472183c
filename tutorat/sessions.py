"""Browser sessions: a fresh session at login, and logout after a while without activity.

Tutorat is used on shared computers (a Maison des Solidarités, a library, an insertion
workshop): a session left open must not stay usable by the next person. At login the whole
session is replaced (no value set before login survives, the CSRF token is new: no session
fixation). Each request of a logged-in user stamps the time; after ``IDLE_TIMEOUT_STAFF_MINUTES``
(référents, administration: 30 by default) or ``IDLE_TIMEOUT_PARTICIPANT_MINUTES`` (bénéficiaires,
tuteurs: 60) without one, the next request logs out and says so in French.

The session is Flask's signed cookie: the stamp cannot be changed by the browser.
"""

from __future__ import annotations

import secrets
import time

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_user, logout_user
from itsdangerous import URLSafeTimedSerializer

from tutorat.models import User
from tutorat.models.users import STAFF_ROLES

SEEN = "_seen"  # last activity, seconds since the epoch
SID = "_sid"  # a random id per login, new each time
ROLE = "_role"  # for the request log when the database cannot load the user (tutorat.production)
# The stamp is rewritten at most this often (each rewrite sends a new cookie).
REFRESH_SECONDS = 30
# Requests that neither need a user nor count as activity.
# Logout is never refused for idleness (and must work when the database cannot load the user).
_SKIPPED_ENDPOINTS = {"static", "health.health", "auth.logout"}


def idle_minutes(role: str) -> int:
    config = current_app.config
    if role in STAFF_ROLES:
        return int(config["IDLE_TIMEOUT_STAFF_MINUTES"])
    return int(config["IDLE_TIMEOUT_PARTICIPANT_MINUTES"])


def begin(user: User) -> None:
    """Log `user` in with a brand-new session (nothing from before the login is kept)."""
    session.clear()
    # Flask-WTF keeps the request's token in g: the next form gets a new one.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    login_user(user)
    session[SID] = secrets.token_urlsafe(16)
    session[ROLE] = str(user.role)
    session[SEEN] = int(time.time())


def end() -> None:
    """Log out of this browser and drop everything its session held."""
    logout_user()
    session.clear()


def check_idle():
    """Before each request: log out a session idle for too long, else note the activity."""
    if request.endpoint in _SKIPPED_ENDPOINTS or "_user_id" not in session:
        return None
    if request.endpoint is None:
        # No such page: the 404 page needs no account (and renders without the database).
        return None
    if not current_user.is_authenticated:
        return None  # an ended session (logout elsewhere, deactivated): Flask-Login handles it
    now = int(time.time())
    seen = session.get(SEEN)
    limit = idle_minutes(current_user.role)
    if not isinstance(seen, int) or now - seen > limit * 60 or seen > now + 60:
        end()
        flash(
            f"Votre session a expiré après {limit} minute{'s' if limit > 1 else ''} sans activité. "
            "Reconnectez-vous pour continuer. Sur un ordinateur partagé, pensez à vous "
            "déconnecter en partant.",
            "info",
        )
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))
    if now - seen >= REFRESH_SECONDS:
        session[SEEN] = now
    return None


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie, the same cookie, for less work per request.

    Flask builds the cookie's serializer for every request (twice when the cookie is rewritten):
    here it is built once per secret key (and fallbacks). An unchanged session is not written, as
    in Flask, without first reading the seven cookie settings it would be written with.
    """

    def __init__(self) -> None:
        self._serializer: tuple[tuple, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._serializer
        if cached is None or cached[0] != keys:
            cached = self._serializer = (keys, super().get_signing_serializer(app))
        return cached[1]

    def save_session(self, app, session, response) -> None:
        if session and not self.should_set_cookie(app, session):
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
    app.before_request(check_idle)
