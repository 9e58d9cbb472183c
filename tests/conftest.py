"""Test fixtures: one schema per session (built by the migrations), emptied after each test."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from tutorat import create_app
from tutorat.extensions import db
from tutorat.services import audit

# Tables whose content the tests create; reference data stays for the whole session.
MUTABLE_TABLES = (
    "referent_change",
    "beneficiary_import",
    "tutor_application_event",
    "tutor_application",
    "outbox_email_person",
    "outbox_sms_person",
    "outbox_sms",
    "letter_person",
    "letter",
    "pair_report",
    "check_in",
    "goal",
    "access_log",
    "meeting_change",
    "next_meeting",
    "meeting",
    "pair_outcome",
    "status_event",
    "pair",
    "tutoring_request",
    "mentee_profile",
    "tutor_profile",
    "outbox_email",
    "setting",
    "user_account",
    # Last: the triggers of the deletions above change it.
    "indicator_month_pending",
    "indicator_month",
)
PG_URL = os.environ.get("TUTORAT_TEST_DATABASE_URL")
# The attempt counters (Flask-Limiter, tutorat/services/throttle.py) live in a real Redis database,
# as in production; only this logical database is ever emptied. Two suites run at the same time
# need two numbers (`make test`: 14 for SQLite, 13 for PostgreSQL).
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/14")


def _redis_or_memory() -> str:
    """The test Redis database, emptied; memory:// only off CI when no Redis answers."""
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).flushdb()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        return "memory://"
    return REDIS_TEST_URL


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if PG_URL:
        _reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            # Rate limits stay on (as in production) but far above what the tests do;
            # the rate-limit test lowers the login limit for itself.
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": _redis_or_memory(),
            # pytest-xdist's workers share the Redis database: each counts under its own prefix, so
            # that one test's `limiter.reset()` does not empty the counters another is filling.
            "RATELIMIT_STORAGE_OPTIONS": {
                "key_prefix": f"LIMITS-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
            },
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "100000 per minute",
            "RESET_RATE_LIMIT": "100000 per minute",
            "RESET_ACCOUNT_RATE_LIMIT": "100000 per minute",
            "APPLY_RATE_LIMIT": "100000 per minute",
            "SERVER_NAME": None,
            "BASE_URL": "http://localhost",
        }
    )
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    from flask_migrate import upgrade

    from tutorat.services.reference import load_reference_data

    with app.app_context():
        upgrade()
        load_reference_data()
    _SESSION_LIMITER.extend(_limiter_state())
    yield app
    with app.app_context():
        db.engine.dispose()
    audit.dispose_engine(app)


@pytest.fixture(autouse=True)
def _clean_tables(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.rollback()
        with db.engine.begin() as conn:
            for table in MUTABLE_TABLES:
                conn.execute(text(f"DELETE FROM {table}"))
        db.session.remove()


# The session app's limiter state, taken once it is built.
_SESSION_LIMITER: list = []


def _limiter_state() -> tuple:
    from tutorat.extensions import limiter

    return (limiter._storage, limiter._limiter, limiter.enabled, limiter.initialized)


@pytest.fixture(autouse=True)
def _limiter_storage():
    """Give the session's app its limiter storage back: the limiter is one object per process,
    and any app a test (or a module's fixture) builds replaces its storage. Restored to the state
    taken when the session app was built, not to what the test found (a module fixture may
    already have replaced it)."""
    from tutorat.extensions import limiter

    if _SESSION_LIMITER:
        limiter._storage, limiter._limiter, limiter.enabled, limiter.initialized = _SESSION_LIMITER
    yield
    if _SESSION_LIMITER:
        limiter._storage, limiter._limiter, limiter.enabled, limiter.initialized = _SESSION_LIMITER


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_RE = re.compile(
    r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="(?:[\w-]+-)?csrf_token"'
)


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


class Browser:
    """A test client that submits forms as a browser would: with the page's CSRF token."""

    def __init__(self, client):
        self.client = client
        self.token: str | None = None

    def get(self, url: str, **kw):
        response = self.client.get(url, **kw)
        html = response.get_data(as_text=True)
        if "csrf_token" in html:
            self.token = csrf_from(html)
        return response

    def post(
        self,
        url: str,
        data: dict | None = None,
        *,
        prefix: str | None = None,
        page: str | None = None,
        **kw,
    ):
        if page is not None or self.token is None:
            self.get(page or url)
        data = dict(data or {})
        data[f"{prefix}-csrf_token" if prefix else "csrf_token"] = self.token
        return self.client.post(url, data=data, **kw)

    def login(self, email: str, password: str):
        response = self.post(
            "/connexion", {"email": email, "password": password}, page="/connexion"
        )
        if response.status_code == 302:
            # A login starts a new session with a new CSRF token: the next post reads it again.
            self.token = None
        return response


@pytest.fixture
def browser(client):
    return Browser(client)


def pytest_report_header(config):
    base = "PostgreSQL " + PG_URL if PG_URL else "SQLite (fichier temporaire)"
    return f"base de test : {base} ; compteurs de tentatives : {REDIS_TEST_URL}"


ROOT = Path(__file__).resolve().parent.parent
