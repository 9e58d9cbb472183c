"""Running in production: required settings checked at start-up, secure cookies, one proxy, JSON logs.

With ``TUTORAT_ENV=production`` the application refuses to start (in gunicorn and in every
``flask`` command) until the secret key, the mail server, an https base URL and a shared storage
for the attempt limits (Redis) are set, and says so in French. Each request then writes one JSON line (method, endpoint, status, duration, role):
never a path, an id, a name or an email, so the log holds no personal data.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, request, session
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.sansio.utils import host_is_trusted

from tutorat.links import allowed_hosts
from tutorat.sessions import ROLE
from tutorat.views import health

DEV_SECRET_KEY = "dev-only-not-secret"
DEFAULT_MAIL_SERVER = "127.0.0.1"
MIN_SECRET_KEY_LENGTH = 32
REQUEST_LOGGER = "tutorat.requests"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class SettingsError(RuntimeError):
    """A setting required in production is missing or unsafe (the message is for the operator)."""


def is_production(config: dict[str, Any]) -> bool:
    return str(config.get("TUTORAT_ENV", "")).strip().lower() in {"production", "prod"}


def problems(config: dict[str, Any], environ: Mapping[str, str] | None = None) -> list[str]:
    """What prevents running in production, one French sentence per setting (empty: all is well)."""
    environ = os.environ if environ is None else environ
    out = []
    key = config.get("SECRET_KEY") or ""
    if not key or key == DEV_SECRET_KEY:
        out.append(
            "SECRET_KEY n'est pas définie (ou vaut la valeur de développement) : donnez une valeur "
            "longue et aléatoire, par exemple celle de "
            "« python -c 'import secrets; print(secrets.token_urlsafe(48))' »."
        )
    elif len(key) < MIN_SECRET_KEY_LENGTH:
        out.append(
            f"SECRET_KEY est trop courte ({len(key)} caractères) : il en faut au moins "
            f"{MIN_SECRET_KEY_LENGTH}, tirés au hasard."
        )
    mail = config.get("MAIL_SERVER") or ""
    if not mail or (mail == DEFAULT_MAIL_SERVER and not environ.get("MAIL_SERVER")):
        out.append(
            "MAIL_SERVER n'est pas définie : indiquez le serveur SMTP qui envoie les courriels "
            "(et MAIL_PORT, MAIL_USE_TLS, MAIL_USERNAME, MAIL_PASSWORD s'il le faut)."
        )
    base_url = config.get("BASE_URL") or ""
    if not base_url.startswith("https://"):
        out.append(
            "BASE_URL doit être l'adresse publique du service en https "
            f"(par exemple https://tutorat.gers.fr) ; valeur actuelle : « {base_url or 'vide'} »."
        )
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://").strip().lower()
    if storage.startswith("memory"):
        out.append(
            "RATELIMIT_STORAGE_URI vaut memory:// : les tentatives de connexion seraient comptées "
            "dans chaque worker séparément (un attaquant multiplierait ses essais). Indiquez un "
            "stockage partagé, par exemple RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0."
        )
    return out


def warnings(config: dict[str, Any]) -> list[str]:
    """Settings that work but deserve a look in production."""
    out = []
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        out.append(
            "la base est un fichier SQLite : un seul serveur possible ; en production, "
            "DATABASE_URL=postgresql+psycopg://…"
        )
    return out


def apply(app: Flask) -> None:
    """Check the settings (production) and set what follows from them: cookies, proxy."""
    config = app.config
    if is_production(config):
        found = problems(config)
        if found:
            raise SettingsError(
                "Tutorat ne démarre pas en production (TUTORAT_ENV=production) : "
                + " ".join(f"({i}) {p}" for i, p in enumerate(found, start=1))
            )
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
        config["PREFERRED_URL_SCHEME"] = "https"
        if config.get("TRUSTED_PROXIES") is None:
            config["TRUSTED_PROXIES"] = 1
        for text in warnings(config):
            app.logger.warning("configuration : %s", text)
    if is_production(config) or config.get("ALLOWED_HOSTS"):
        # Inside ProxyFix: the Host header as the proxy passed it (ProxyFix leaves it alone).
        # (Wrapping app.wsgi_app is Flask's way to add a WSGI middleware; mypy sees a method.)
        app.wsgi_app = HostCheck(app.wsgi_app, allowed_hosts(config))  # type: ignore[method-assign]
    trust_proxies(app, int(config.get("TRUSTED_PROXIES") or 0))


def trust_proxies(app: Flask, proxies: int) -> None:
    """Behind `proxies` reverse proxies (nginx, a load balancer): believe only what they set.

    The client's address (rate limits, access log) and the scheme (secure cookies, HSTS). Never
    X-Forwarded-Host, -Port or -Prefix: a client can send them, and they would change the host and
    path that `url_for` builds (see tutorat/links.py and the nginx configuration in the README).
    """
    if proxies <= 0:
        return
    # Flask's way to add a WSGI middleware (mypy sees a method assigned).
    app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
        app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0, x_prefix=0
    )


HOST_REFUSED = (
    "Requête refusée : l'adresse demandée (en-tête Host) n'est pas celle de ce service.\n"
).encode()
# The load balancer's health check calls from localhost, with any Host.
HOST_EXEMPT_PATHS = frozenset({"/sante", "/health"})


def well_formed_host(host: str) -> bool:
    """A Host header Flask can build a URL adapter from: valid characters, port, label lengths."""
    if not host_is_trusted(host, None):
        return False
    if host.startswith("["):  # an IPv6 address, checked above
        return True
    try:
        host.partition(":")[0].encode("idna")
    except UnicodeError:
        return False
    return True


class HostCheck:
    """WSGI middleware: a request whose Host is not one of ours gets a plain 400, before Flask.

    Plain text, without the application: a Host that Flask cannot parse must not reach the error
    pages (they need a URL adapter built from that Host).
    """

    def __init__(self, wsgi_app, allowed: list[str]) -> None:
        self.wsgi_app = wsgi_app
        # Empty (BASE_URL without a host): nothing but the health check is served.
        self.allowed = allowed

    def __call__(self, environ, start_response):
        host = str(environ.get("HTTP_HOST") or "").lower()
        if well_formed_host(host) and (
            environ.get("PATH_INFO") in HOST_EXEMPT_PATHS
            or (bool(self.allowed) and host_is_trusted(host, self.allowed))
        ):
            return self.wsgi_app(environ, start_response)
        start_response(
            "400 Bad Request",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(HOST_REFUSED))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [HOST_REFUSED]


# ---- Structured logs ----


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message or fields, exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        else:
            data["message"] = record.getMessage()
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (gunicorn's, or a test's capture)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _json_handler() -> logging.Handler:
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter())
    handler.set_name("tutorat-json")
    return handler


def _install_handler(logger: logging.Logger, level: int) -> None:
    if not any(h.get_name() == "tutorat-json" for h in logger.handlers):
        logger.addHandler(_json_handler())
    logger.setLevel(level)
    logger.propagate = False


class RequestTimer:
    """WSGI middleware: one log line per request, written once the response (and teardown) is done."""

    def __init__(self, wsgi_app, logger: logging.Logger) -> None:
        self.wsgi_app = wsgi_app
        self.logger = logger

    def __call__(self, environ, start_response):
        start = time.perf_counter()
        status_holder: list[str] = []

        def recording_start_response(status, headers, exc_info=None):
            status_holder.append(status)
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, recording_start_response)
        finally:
            code = int(status_holder[0].split(" ", 1)[0]) if status_holder else 500
            fields = {
                "event": "request",
                "method": environ.get("REQUEST_METHOD", ""),
                "endpoint": environ.get("tutorat.endpoint") or "-",
                "status": code,
                "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                "role": environ.get("tutorat.role") or "anonyme",
                "request_id": environ.get("tutorat.request_id", ""),
                "pid": os.getpid(),
            }
            # Why the request failed, when the error page knows (tutorat.errorpages): the
            # database driver's exception and the first line of its message, no statement.
            if environ.get("tutorat.error"):
                fields["error"] = environ["tutorat.error"]
            self.logger.info("request", extra={"fields": fields})


def configure_logging(app: Flask) -> None:
    """JSON lines on stderr: the request log (unless disabled), and the app's own log in production."""
    enabled = app.config.get("REQUEST_LOG")
    if enabled is None:
        enabled = not app.testing
    if is_production(app.config):
        _install_handler(app.logger, logging.INFO)
    if not enabled:
        return
    logger = logging.getLogger(REQUEST_LOGGER)
    _install_handler(logger, logging.INFO)
    # Flask's way to add a WSGI middleware (mypy sees a method assigned).
    app.wsgi_app = RequestTimer(app.wsgi_app, logger)  # type: ignore[method-assign]

    @app.after_request
    def _note_request(response):
        environ = request.environ
        environ["tutorat.endpoint"] = request.endpoint or "-"
        environ["tutorat.role"] = _role()
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
        environ["tutorat.request_id"] = request_id
        response.headers.setdefault("X-Request-Id", request_id)
        return response


def _role() -> str:
    """The role for the request log, never from a query.

    The user if loaded anyway (no extra query for static files or /sante); if the database could
    not load them (tutorat.errorpages), the role kept in the session at login, else "inconnu".
    """
    user = g.get("_login_user")
    if g.get("tutorat_user_unknown"):
        if "_user_id" not in session:
            return "anonyme"
        return str(session.get(ROLE) or "inconnu")
    if user is not None and user.is_authenticated:
        return str(getattr(user, "role", None) or "inconnu")
    return "anonyme"


def init_app(app: Flask) -> None:
    """Everything this module adds to the application (called last by `create_app`)."""
    apply(app)
    configure_logging(app)
    app.register_blueprint(health.bp)


__all__ = [
    "HostCheck",
    "JsonFormatter",
    "SettingsError",
    "apply",
    "configure_logging",
    "init_app",
    "problems",
    "trust_proxies",
]
