"""Production: required settings, secure cookies behind a proxy, JSON request log, /sante, gunicorn, SIGKILL."""

from __future__ import annotations

import json
import os
import runpy
from pathlib import Path

import pytest
from sqlalchemy import event

from tests.conftest import PG_URL, REDIS_TEST_URL, ROOT, Browser
from tests.factories import PASSWORD, make_mentee, make_referent, make_tutor
from tutorat import create_app
from tutorat.extensions import db
from tutorat.production import SettingsError
from tutorat.services import audit

GOOD = {
    "TUTORAT_ENV": "production",
    "SECRET_KEY": "k" * 48,
    "MAIL_SERVER": "smtp.gers.example.fr",
    "BASE_URL": "https://tutorat.gers.example.fr",
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
    "RATELIMIT_STORAGE_URI": REDIS_TEST_URL,
}


@pytest.fixture
def clean_env(monkeypatch):
    """No production setting comes from the environment of the machine running the tests."""
    for key in (
        "TUTORAT_ENV",
        "SECRET_KEY",
        "MAIL_SERVER",
        "BASE_URL",
        "DATABASE_URL",
        "TRUSTED_PROXIES",
        "ALLOWED_HOSTS",
        "RATELIMIT_STORAGE_URI",
        "REQUEST_LOG",
    ):
        monkeypatch.delenv(key, raising=False)


def test_production_refuses_to_start_without_its_settings(clean_env):
    with pytest.raises(SettingsError) as caught:
        create_app({"TUTORAT_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    message = str(caught.value)
    assert message.startswith("Tutorat ne démarre pas en production")
    for setting in ("SECRET_KEY", "MAIL_SERVER", "BASE_URL", "RATELIMIT_STORAGE_URI"):
        assert setting in message
    assert "https" in message


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SECRET_KEY": "dev-only-not-secret"}, "SECRET_KEY"),
        ({"SECRET_KEY": "court"}, "SECRET_KEY est trop courte"),
        ({"BASE_URL": "http://tutorat.gers.example.fr"}, "BASE_URL"),
        ({"MAIL_SERVER": ""}, "MAIL_SERVER"),
        # Counters per worker: an attacker's tries would be multiplied by the number of workers.
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI vaut memory://"),
    ],
)
def test_each_missing_setting_is_named(clean_env, change, named):
    with pytest.raises(SettingsError, match=named):
        create_app({**GOOD, **change})


def test_production_from_the_environment(clean_env, monkeypatch):
    monkeypatch.setenv("TUTORAT_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("MAIL_SERVER", "127.0.0.1")  # a local relay, set on purpose
    monkeypatch.setenv("BASE_URL", "https://tutorat.gers.example.fr")
    monkeypatch.setenv("DATABASE_URL", "postgresql://tutorat@db.example/tutorat")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", REDIS_TEST_URL)
    app = create_app()
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://tutorat@db.example/tutorat"
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_secure_cookies_and_one_proxy(clean_env):
    app = create_app({**GOOD, "TESTING": True})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["TRUSTED_PROXIES"] == 1
    client = app.test_client()
    # Behind the proxy that terminates TLS: the request is https, so HSTS is sent.
    # (A page that needs no database: this one is in memory, without tables.)
    response = client.get(
        "/a-propos",
        base_url="http://tutorat.gers.example.fr",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status_code == 200
    assert "max-age" in response.headers["Strict-Transport-Security"]
    # Without the proxy's header the request stays http (no HSTS on plain http).
    assert (
        "Strict-Transport-Security"
        not in client.get("/a-propos", base_url="http://tutorat.gers.example.fr").headers
    )


def test_development_keeps_plain_cookies(clean_env):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["TRUSTED_PROXIES"] is None


def test_health_is_json_one_write_no_login(app, client):
    with app.app_context():
        engine = db.engine
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get("/sante")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    assert response.is_json and response.get_json()["statut"] == "ok"
    # A write, not a read: a read-only or full database answers SELECT 1 (tests/tutorat/test_faults.py).
    assert any(s.startswith("INSERT INTO health_check") for s in statements), statements
    # No login, no user loaded: the accounts table is only probed for a lock (PostgreSQL), no row read.
    assert not any("setting" in s for s in statements), statements
    assert all(
        "user_account" not in s or ("LIMIT" in s and "WHERE" not in s) for s in statements
    ), statements
    assert client.get("/health").get_json()["base"] == "ok"


def test_health_says_503_when_the_database_is_unreachable(clean_env):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/nothing",
            "TESTING": True,
        }
    )
    response = app.test_client().get("/sante")
    assert response.status_code == 503
    assert response.get_json() == {"statut": "indisponible", "base": "injoignable"}


def test_one_json_line_per_request_without_personal_data(app, database_url, capsys):
    logged = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REQUEST_LOG": True,
            "LOGIN_RATE_LIMIT": "100000 per minute",
        }
    )
    with logged.app_context():
        referent = make_referent(first_name="Solène", last_name="Bégué")
        mentee = make_mentee(
            referent, first_name="Fabrice", last_name="Lasserre", email="fabrice@example.org"
        )
        db.session.commit()
        email, mentee_id = referent.email, mentee.id
    browser = Browser(logged.test_client())
    assert browser.login(email, PASSWORD).status_code == 302
    capsys.readouterr()
    try:
        response = browser.client.get(f"/referent/beneficiaires/{mentee_id}?q=secret")
    finally:
        with logged.app_context():  # this second app's connections, closed before it goes
            db.engine.dispose()
        audit.dispose_engine(logged)
    assert response.status_code == 200
    assert response.headers["X-Request-Id"]
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert len(lines) == 1, lines
    entry = json.loads(lines[0])
    assert entry["event"] == "request"
    assert entry["method"] == "GET"
    assert entry["endpoint"] == "referent.mentee"
    assert entry["status"] == 200
    assert entry["role"] == "referent"
    assert isinstance(entry["duration_ms"], float)
    # Nothing else: no path (it holds ids), no query string, no name, no email.
    assert set(entry) == {
        "ts", "level", "logger", "event", "method", "endpoint", "status", "duration_ms", "role",
        "request_id", "pid",
    }  # fmt: skip
    for personal in ("Fabrice", "Lasserre", "fabrice@", "Solène", email, "/referent/", "secret"):
        assert personal not in lines[0], personal


def test_rate_limits_shared_in_redis(clean_env, monkeypatch):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("Redis injoignable sur 127.0.0.1:6379")
    from tutorat.extensions import limiter

    # The limiter is one object for every app of the process: give the session's app its
    # storage back afterwards.
    monkeypatch.setattr(limiter, "_storage", limiter._storage)
    monkeypatch.setattr(limiter, "_limiter", limiter._limiter)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/15")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/15"
    assert type(limiter.storage).__name__.startswith("Redis")
    assert limiter.storage.check()


def test_gunicorn_settings(monkeypatch):
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["workers"] == 2 * os.cpu_count() + 1
    assert settings["accesslog"] is None  # the application's JSON line instead
    assert settings["preload_app"] is True
    monkeypatch.setenv("GUNICORN_WORKERS", "2")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"] == 2


@pytest.mark.slow
def test_sigkill_in_the_middle_of_writes_leaves_no_partial_data(tmp_path, clean_env):
    """Issue 5: gunicorn workers killed (SIGKILL) while référents write; invariants hold, /sante is back."""
    from bench import kill_worker

    url = f"sqlite:///{tmp_path / 'kill.sqlite3'}"
    if PG_URL:
        # The session's PostgreSQL database is the tests' own: use a sibling database.
        url = PG_URL.rsplit("/", 1)[0] + "/" + Path(PG_URL).name + "_kill"
    lines: list[str] = []
    report = kill_worker.run(
        url, kills=4, referents=3, mentees=40, tutors=10, workdir=tmp_path, echo=lines.append
    )
    assert not any(report.violations.values()), "\n".join(lines)
    assert report.kills >= 4
    assert report.cut_writes >= 1, "aucun worker tué au milieu d'une écriture : " + "\n".join(lines)
    assert max(report.recovery) < 5, report.recovery


def _two_open_demandes_one_place():
    from tutorat.services import requests as request_service

    referent = make_referent()
    tutor = make_tutor(remote_ok=True, capacity=1)
    mentees = [make_mentee(referent, remote_ok=True) for _ in range(2)]
    for mentee in mentees:
        request_service.open_request(
            mentee, actor=referent, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
    db.session.commit()
    return referent, tutor


def test_match_dry_run_writes_nothing(app, runner):
    from sqlalchemy import func, select

    from tutorat.models import Pair

    with app.app_context():
        _two_open_demandes_one_place()
    result = runner.invoke(args=["match", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "simulation : rien n'est enregistré" in result.output
    assert "bénéficiaires appariés    1 ;" in result.output  # one place for two demandes
    assert "au plus 1 appariés" in result.output
    assert "(optimum prouvé)" in result.output  # the dual bound is met
    assert result.output.count("→ tuteur n°") == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pair)) == 0


def test_match_refuses_k_below_1_in_french(app, runner):
    result = runner.invoke(args=["match", "--k", "0"])
    assert result.exit_code == 1
    assert "--k : au moins 1 tuteur gardé par demande, pas 0." in result.output
    assert "Traceback" not in result.output


def test_match_create_proposes_on_behalf_of_the_referent(app, runner):
    from sqlalchemy import select

    from tutorat.models import Pair, StatusEvent
    from tutorat.services.batch import SYSTEM_REASON

    with app.app_context():
        referent, tutor = _two_open_demandes_one_place()
        referent_id, tutor_id = referent.id, tutor.id
    result = runner.invoke(args=["match", "--create", "--yes", "--summary-only"])
    assert result.exit_code == 0, result.output
    assert "1 proposition(s) créée(s)" in result.output
    with app.app_context():
        pair = db.session.scalars(select(Pair)).one()
        assert (pair.tutor_id, pair.proposed_by_id, pair.status) == (
            tutor_id,
            referent_id,
            "proposed",
        )
        events = db.session.scalars(
            select(StatusEvent).where(StatusEvent.to_status == "proposed")
        ).all()
        assert len(events) == 2  # the binôme's creation and the demande's change
        for event in events:
            assert event.actor_id is None and event.on_behalf_of_id == referent_id
            assert event.reason.startswith(SYSTEM_REASON)
        from tutorat.demo.scale import invariant_violations

        assert not any(invariant_violations().values())


def test_export_then_import_into_a_new_database(app, runner, tmp_path, clean_env):
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from tutorat.models import Commune, Pair, StatusEvent, TutoringRequest, User

    with app.app_context():
        _two_open_demandes_one_place()
    runner.invoke(args=["match", "--create", "--yes", "--summary-only"])
    path = tmp_path / "tutorat.jsonl.gz"
    result = runner.invoke(args=["export", str(path)])
    assert result.exit_code == 0, result.output
    assert oct(path.stat().st_mode & 0o777) == "0o600"  # personal data: the owner only

    def counts():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Commune, User, TutoringRequest, Pair, StatusEvent)
        }

    with app.app_context():
        before = counts()
    target = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new.sqlite3'}",
        }
    )
    with target.app_context():
        upgrade()
    result = target.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    with target.app_context():
        assert counts() == before
        # Importing twice is refused: the application's tables are no longer empty.
    again = target.test_cli_runner().invoke(args=["import", str(path)])
    assert again.exit_code != 0 and "n'est pas vide" in again.output
    with target.app_context():
        db.engine.dispose()
