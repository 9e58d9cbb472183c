"""Faults: a malformed Host, a database down, read-only, full, locked or frozen → French pages, fast.

Each fault is real: a PostgreSQL port where nothing listens, a SQLite file opened read-only, a
SQLite database that may not grow (``max_page_count``), another connection holding SQLite's
exclusive lock, a PostgreSQL session holding an ACCESS EXCLUSIVE lock. The user logs in while
the database works (so the session has whatever the application puts in it), then the fault is
set and the same session asks a page and sends a form.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event, text

from tests.conftest import PG_URL, Browser
from tests.factories import PASSWORD, make_mentee, make_referent
from tutorat import create_app
from tutorat.extensions import db
from tutorat.services import audit

# In this worktree's port range (9200-9249); nothing listens there.
CLOSED_PORT = 9237
DOWN_URL = f"postgresql+psycopg://postgres@127.0.0.1:{CLOSED_PORT}/tutorat"
NOTE = "é" * 4000  # 8,000 bytes: the row needs a new (overflow) page


def make_app(uri: str, **extra) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": uri,
            "REQUEST_LOG": True,
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "BASE_URL": "http://localhost",
            "SQLITE_BUSY_TIMEOUT": 300,
            **extra,
        }
    )


def close(app: Flask) -> None:
    with app.app_context():
        db.engine.dispose()
    audit.dispose_engine(app)


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite database with the reference data, copied for each test."""
    from tutorat.services.reference import load_reference_data

    path = tmp_path_factory.mktemp("faults") / "template.sqlite3"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        load_reference_data()
    close(app)
    return path


@dataclass
class Site:
    """A working SQLite site with a référent logged in on a beneficiary's page."""

    app: Flask
    path: Path
    browser: Browser
    page: str
    others: list[Flask] = field(default_factory=list)

    def stop_connections(self) -> None:
        close(self.app)

    def client_of(self, app: Flask) -> Browser:
        """The logged-in session (cookie and CSRF token) on another app with the same secret."""
        self.others.append(app)
        other = Browser(app.test_client())
        cookie = self.browser.client.get_cookie("session")
        assert cookie is not None
        other.client.set_cookie("session", cookie.value)
        other.token = self.browser.token
        return other


@pytest.fixture
def site(sqlite_template, tmp_path):
    path = tmp_path / "tutorat.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent)
        db.session.commit()
        email, page = referent.email, f"/referent/beneficiaires/{mentee.id}"
    browser = Browser(app.test_client())
    assert browser.login(email, PASSWORD).status_code == 302
    assert browser.get(page).status_code == 200
    result = Site(app, path, browser, page)
    yield result
    for other in result.others:
        close(other)
    close(app)


def post_note(browser: Browser, page: str):
    return browser.post(page, {"note-social_note": NOTE}, prefix="note")


def logged(capsys) -> list[dict]:
    return [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]


def assert_french_503(response, lines: list[dict], cause: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:300]
    assert response.headers["Retry-After"].isdigit()
    assert '<html lang="fr">' in html
    assert "Service momentanément indisponible" in html
    assert "pas été enregistré" in html
    assert "Internal Server Error" not in html
    failures = [line for line in lines if line.get("status") == 503]
    assert failures, lines
    assert cause in failures[-1]["error"], failures[-1]
    # One line, the driver's message: no statement, no parameter.
    assert "\n" not in failures[-1]["error"] and "SELECT" not in failures[-1]["error"]


# ---- 7a: a malformed Host ----


@pytest.mark.parametrize("host", ["x" * 300, "a..b", ".", "a" * 64 + ".gers.fr"])
def test_malformed_host_gives_a_french_400(host):
    # No database at all behind it: the error page needs neither the URL adapter nor a query.
    app = make_app(DOWN_URL)
    try:
        response = app.test_client().get("/a-propos", headers={"Host": host})
    finally:
        close(app)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<html lang="fr">' in html and "Demande invalide" in html
    assert 'href="/static/css/tutorat.css"' in html
    assert 'href="/a-propos"' in html  # links from the URL map, under the script root


def test_error_page_links_keep_the_script_root():
    app = make_app(DOWN_URL)
    try:
        response = app.test_client().get(
            "/a-propos", base_url="http://localhost/tutorat/", headers={"Host": "a..b"}
        )
    finally:
        close(app)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'href="/tutorat/static/css/tutorat.css"' in html


def test_not_found_renders_while_the_database_is_down(site):
    down = site.client_of(make_app(DOWN_URL))
    response = down.client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


# ---- 8: the database down, read-only, full or locked → French 503 ----


def test_postgresql_refusing_connections_gives_a_french_503(site, capsys):
    down = site.client_of(make_app(DOWN_URL))
    capsys.readouterr()
    start = time.monotonic()
    page = down.client.get(site.page)
    assert_french_503(page, logged(capsys), "OperationalError")
    form = post_note(down, site.page)
    assert_french_503(form, logged(capsys), "OperationalError")
    assert time.monotonic() - start < 10


def test_read_only_sqlite_reads_and_refuses_writes_with_a_503(site, capsys):
    site.stop_connections()
    read_only = site.client_of(make_app(f"sqlite:///file:{site.path}?mode=ro&uri=true"))
    assert read_only.get("/referent/").status_code == 200  # reading still works
    # (not the beneficiary's record: its view cannot be logged, see test_faults_teardown.py)
    capsys.readouterr()
    assert_french_503(post_note(read_only, site.page), logged(capsys), "readonly")


def test_full_sqlite_reads_and_refuses_writes_with_a_503(site, capsys):
    site.stop_connections()
    with sqlite3.connect(site.path) as conn:
        conn.execute("VACUUM")  # no free page left inside the file
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    full = make_app(f"sqlite:///{site.path}")
    with full.app_context():

        @event.listens_for(db.engine, "connect")
        def _no_growth(dbapi_connection, _record):
            dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    browser = site.client_of(full)
    assert browser.get(site.page).status_code == 200
    capsys.readouterr()
    assert_french_503(post_note(browser, site.page), logged(capsys), "disk is full")
    with full.app_context():
        db.engine.dispose()
    with sqlite3.connect(site.path) as conn:
        note = conn.execute("SELECT max(length(social_note)) FROM mentee_profile").fetchone()[0]
    assert not note  # nothing half-written


def test_locked_sqlite_gives_a_french_503_within_the_busy_timeout(site, capsys):
    site.stop_connections()
    holder = sqlite3.connect(site.path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE setting SET updated_at = updated_at")
        capsys.readouterr()
        start = time.monotonic()
        assert_french_503(site.browser.client.get(site.page), logged(capsys), "locked")
        assert_french_503(post_note(site.browser, site.page), logged(capsys), "locked")
        assert time.monotonic() - start < 5
    finally:
        holder.close()
    assert site.browser.get(site.page).status_code == 200  # back as soon as the lock goes


# ---- 9: timeouts, and /sante checks a write within a second ----


def test_sqlite_connections_keep_eight_megabytes_of_pages(app):
    """SQLite's default page cache (2 MB) is smaller than what the dashboard reads at Gers scale."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("PRAGMA cache_size")).scalar() == -8000
            assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_a_sqlite_read_request_sees_one_snapshot_and_a_write_takes_the_lock_first(app):
    """A GET's statements run in one transaction (its BEGIN goes straight to the driver), so a row
    committed by another worker meanwhile is not seen half-way; a POST's BEGIN IMMEDIATE waits."""
    from tutorat.services.db import declare_write_intent

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's own BEGIN")
        path = db.engine.url.database
    count = text("SELECT count(*) FROM health_check")
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        with app.test_request_context("/"):
            declare_write_intent(False)
            before = db.session.execute(count).scalar()
            other.execute("INSERT INTO health_check (checked_at) VALUES ('2026-01-01 00:00:00')")
            assert db.session.execute(count).scalar() == before  # the snapshot of its BEGIN
            db.session.rollback()
            assert db.session.execute(count).scalar() == before + 1
            db.session.rollback()
        with app.test_request_context("/", method="POST"):
            declare_write_intent(True)
            db.session.execute(count)
            # The write lock is held from the first statement: another writer is refused.
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("DELETE FROM health_check")
            db.session.rollback()
    finally:
        declare_write_intent(False)
        other.execute("DELETE FROM health_check")
        other.close()


def test_postgresql_connections_carry_the_timeouts():
    from tutorat.services.db import engine_options

    options = engine_options(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db?options=-c%20search_path%3Dx",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"application_name": "tutorat"}},
            "DB_CONNECT_TIMEOUT": 3,
            "DB_STATEMENT_TIMEOUT_MS": 2500,
        }
    )
    args = options["connect_args"]
    assert args["connect_timeout"] == 3
    assert args["application_name"] == "tutorat"
    # Ours first, so that an operator's own `-c statement_timeout=` (later) wins.
    assert args["options"] == "-c statement_timeout=2500 -c random_page_cost=1.1 -c search_path=x"
    assert options["pool_timeout"] == 3
    sqlite = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SQLALCHEMY_ENGINE_OPTIONS": {}}
    assert engine_options({**sqlite, "DB_CONNECT_TIMEOUT": 3, "DB_STATEMENT_TIMEOUT_MS": 1}) == {}


def test_sqlite_busy_timeout_is_the_setting(site):
    with site.app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 300


def health_of(app: Flask):
    start = time.monotonic()
    response = app.test_client().get("/sante")
    return response, time.monotonic() - start


def test_health_says_503_when_sqlite_is_read_only(site):
    site.stop_connections()
    read_only = make_app(f"sqlite:///file:{site.path}?mode=ro&uri=true")
    site.others.append(read_only)
    response, _ = health_of(read_only)
    assert response.status_code == 503
    assert response.get_json() == {"statut": "indisponible", "base": "lecture seule"}
    # The same database, writable: all is well.
    assert health_of(site.app)[0].get_json() == {"statut": "ok", "base": "ok"}


def test_health_says_503_when_sqlite_is_full(site):
    site.stop_connections()
    with sqlite3.connect(site.path) as conn:
        conn.execute("VACUUM")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    full = make_app(f"sqlite:///{site.path}")
    site.others.append(full)
    with full.app_context():

        @event.listens_for(db.engine, "connect")
        def _no_growth(dbapi_connection, _record):
            dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    response, _ = health_of(full)
    assert response.status_code == 503
    assert response.get_json()["base"] == "pleine"


def test_health_checks_at_the_same_time_share_one_probe(site, monkeypatch):
    """A worker with several threads gets several checks at once: while the database is fine they
    all say so (each used to answer 503 « bloquée » while another thread's probe ran)."""
    from concurrent.futures import ThreadPoolExecutor

    from tutorat.services import health as health_service

    real, probes = health_service.probe, []

    def slow_probe(timeout_s, busy_timeout_ms):
        probes.append(1)
        time.sleep(0.2)  # long enough for the other checks to arrive meanwhile
        real(timeout_s, busy_timeout_ms)

    monkeypatch.setattr(health_service, "probe", slow_probe)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: health_of(site.app), range(6)))
    assert [r.status_code for r, _ in answers] == [200] * 6
    assert all(elapsed < 1.5 for _, elapsed in answers)
    assert len(probes) < 6  # shared: not one probe per check


class _Blackhole:
    """A TCP server that accepts connections and never answers (a frozen database host)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


def test_health_answers_within_its_timeout_when_the_host_never_answers():
    hole = _Blackhole()
    frozen = make_app(
        f"postgresql+psycopg://postgres@127.0.0.1:{hole.port}/tutorat",
        HEALTH_TIMEOUT=0.5,
        DB_CONNECT_TIMEOUT=5,
    )
    try:
        response, elapsed = health_of(frozen)
        assert response.status_code == 503
        assert response.get_json() == {"statut": "indisponible", "base": "bloquée"}
        # Not the 5 s of the connection timeout: the balancer has its answer in time.
        assert elapsed < 1.5
        # While that probe still waits, the next check waits for it, within the same bound,
        # rather than starting another (no pile of threads).
        response, elapsed = health_of(frozen)
        assert response.status_code == 503 and elapsed < 1.5
    finally:
        hole.close()
        close(frozen)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: TUTORAT_TEST_DATABASE_URL")
@pytest.mark.parametrize(
    "table",
    [
        "health_check",  # the probe's own write
        "user_account",  # every page reads it: a lock there stops them all, /sante says so too
    ],
)
def test_health_answers_503_fast_when_postgresql_is_frozen(app, table):
    probe = make_app(PG_URL)
    try:
        assert health_of(probe)[0].status_code == 200
        with app.app_context():
            holder = db.engine.connect()
        try:
            holder.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            response, elapsed = health_of(probe)
        finally:
            holder.rollback()
            holder.close()
        assert response.status_code == 503
        assert response.get_json() == {"statut": "indisponible", "base": "bloquée"}
        assert elapsed < 2
        assert health_of(probe)[0].status_code == 200  # the lock gone, the worker is back
    finally:
        close(probe)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: TUTORAT_TEST_DATABASE_URL")
def test_frozen_postgresql_gives_a_503_within_the_statement_timeout(app, capsys):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent)
        db.session.commit()
        email, page = referent.email, f"/referent/beneficiaires/{mentee.id}"
        assert db.session.execute(text("SHOW statement_timeout")).scalar() == "10s"
        holder = db.engine.connect()
    frozen = make_app(PG_URL, DB_STATEMENT_TIMEOUT_MS=500)
    try:
        browser = Browser(frozen.test_client())
        assert browser.login(email, PASSWORD).status_code == 302
        assert browser.get(page).status_code == 200
        try:
            # Without a statement timeout the page would wait for this lock for ever: the
            # server ends the holder after 8 s, so that such a failure is a failure, not a hang.
            holder.exec_driver_sql("SET idle_in_transaction_session_timeout = '8s'")
            holder.exec_driver_sql("LOCK TABLE user_account IN ACCESS EXCLUSIVE MODE")
            capsys.readouterr()
            start = time.monotonic()
            response = browser.client.get(page)
            elapsed = time.monotonic() - start
        finally:
            with contextlib.suppress(Exception):
                holder.rollback()
            holder.close()
        assert_french_503(response, logged(capsys), "QueryCanceled")
        assert elapsed < 3
    finally:
        close(frozen)


# ---- The same through a real gunicorn ----

GUNICORN_PORT = 9211


def _http(method: str, path: str, *, host: str, body: str = "", cookie: str = ""):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", GUNICORN_PORT, timeout=20)
    try:
        conn.putrequest(method, path, skip_host=True)
        conn.putheader("Host", host)
        if cookie:
            conn.putheader("Cookie", cookie)
        if body:
            conn.putheader("Content-Type", "application/x-www-form-urlencoded")
            conn.putheader("Content-Length", str(len(body.encode())))
        conn.endheaders(body.encode() if body else None)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


def test_gunicorn_bad_host_and_database_down_give_french_pages(tmp_path):
    import os
    import re
    import subprocess
    import sys
    from urllib.parse import urlencode

    from tests.conftest import ROOT, csrf_from

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUTORAT_", "GUNICORN_"))}
    env.update(
        DATABASE_URL=DOWN_URL,
        SECRET_KEY="s" * 48,
        REQUEST_LOG="1",
        TUTORAT_INSTANCE_PATH=str(tmp_path),
        GUNICORN_BIND=f"127.0.0.1:{GUNICORN_PORT}",
        GUNICORN_WORKERS="1",
        GUNICORN_PRELOAD="0",
    )
    log = tmp_path / "gunicorn.log"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(gunicorn), "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, _, _ = _http("GET", "/a-propos", host="localhost")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        assert status == 200  # a page that needs no database

        status, _, html = _http("GET", "/a-propos", host="x" * 300)
        assert status == 400, html[:300]
        assert "Demande invalide" in html and '<html lang="fr">' in html

        status, headers, html = _http("GET", "/connexion", host="localhost")
        assert status == 200
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        form = urlencode({"email": "a@example.org", "password": "x", "csrf_token": csrf_from(html)})
        status, headers, html = _http(
            "POST", "/connexion", host="localhost", body=form, cookie=cookie
        )
        assert status == 503, html[:300]
        assert headers["Retry-After"].isdigit()
        assert "Service momentanément indisponible" in html
        assert "Internal Server Error" not in html
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lines = [json.loads(x) for x in re.findall(r"^\{.*\}$", log.read_text(), re.M)]
    failed = [x for x in lines if x.get("event") == "request" and x.get("status") == 503]
    assert failed and "OperationalError" in failed[-1]["error"], lines
