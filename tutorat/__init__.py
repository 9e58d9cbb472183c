"""Tutorat: peer tutoring between RSA beneficiaries and former beneficiaries (Conseil départemental du Gers)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from werkzeug.routing import IntegerConverter

from tutorat import (
    access_log,
    cli,
    errorpages,
    models,  # noqa: F401  (registers the tables)
    production,
    sessions,
    templating,
)
from tutorat.config import default_config, from_environment
from tutorat.extensions import csrf, db, limiter, login_manager, mail, migrate
from tutorat.services.accounts import load_user
from tutorat.services.db import configure_engine_events, declare_write_intent, engine_options
from tutorat.views import (
    account,
    admin,
    api,
    apply,
    auth,
    caseload,
    indicators,
    main,
    mentee,
    recruit,
    referent,
    tutor,
    vetting,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class BoundedIntConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then the environment, then `config` (tests)."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("TUTORAT_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.jinja_environment = templating.Environment  # before anything builds app.jinja_env
    app.config.from_mapping(default_config(app.instance_path))
    app.config.from_mapping(from_environment())
    if config:
        app.config.from_mapping(config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    # Ids beyond a 32-bit integer cannot exist: a 404, not a database error.
    app.url_map.converters["int"] = BoundedIntConverter
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_sessions(app)
    register_operations(app)
    return app


def register_extensions(app: Flask) -> None:
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    db.init_app(app)
    with app.app_context():
        configure_engine_events(db.engine, app.config["SQLITE_BUSY_TIMEOUT"])
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    login_manager.user_loader(load_user)


def register_blueprints(app: Flask) -> None:
    for module in (
        main,
        auth,
        api,
        account,
        apply,
        mentee,
        tutor,
        referent,
        recruit,
        admin,
        vetting,
        caseload,
        indicators,
    ):
        app.register_blueprint(module.bp)


def register_errorhandlers(app: Flask) -> None:
    errorpages.register(app)


def register_commands(app: Flask) -> None:
    cli.register(app)


def register_template_helpers(app: Flask) -> None:
    templating.register(app)


# Sent with every response (a view may set its own first).
SECURITY_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)


def register_security_headers(app: Flask) -> None:
    access_log.init_app(app)

    @app.before_request
    def write_intent():
        declare_write_intent(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.after_request
    def headers(response):
        # Each one unless the view set it (one pass over the response's few headers).
        present = {key.lower() for key, _value in response.headers}
        for key, value in SECURITY_HEADERS:
            if key.lower() not in present:
                response.headers.add(key, value)
        if request.is_secure and "strict-transport-security" not in present:
            response.headers.add("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Nothing personal may be kept by a browser or a proxy: every response to a logged-in user
        # (the home page shows their name) and every page but the anonymous home page is no-store;
        # static files carry nothing personal.
        endpoint = request.endpoint
        if not request.path.startswith("/static/") and (
            "_user_id" in session or endpoint != "main.index"
        ):
            response.headers["Cache-Control"] = "no-store"
        if endpoint == "main.index":
            response.vary.add("Cookie")
        return response

    # Registered after `headers`, so it runs before it (Flask runs them in reverse): the 503 page
    # that replaces a record whose access could not be logged gets the same headers.
    app.after_request(access_log.after_request)


def register_sessions(app: Flask) -> None:
    """A fresh session at login, logout after the idle timeout (tutorat/sessions.py)."""
    sessions.init_app(app)


def register_operations(app: Flask) -> None:
    """Production settings check, proxy, JSON request log, health endpoint."""
    production.init_app(app)
