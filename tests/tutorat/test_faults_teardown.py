"""Faults at the end of a request: teardown, after-request hooks, logout, the access log.

The audit of issue 11 item 8 found answers that escaped the French pages when the database
failed *around* the view rather than inside it: the session's end-of-request rollback on a
terminated backend (gunicorn's English "Internal Server Error"), the access log loading the
user after the response (a 500 for a style sheet), a logout that could not write (the session
kept working) and a record shown although its access could not be logged.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from tests.conftest import PG_URL, Browser
from tests.factories import PASSWORD, make_mentee, make_referent
from tests.tutorat.test_faults import (
    DOWN_URL,
    assert_french_503,
    logged,
    make_app,
    site,  # noqa: F401  (fixture)
    sqlite_template,  # noqa: F401  (fixture)
)
from tutorat.extensions import db
from tutorat.models import AccessLog, User
from tutorat.services import audit


def _terminated(*_args, **_kwargs):
    raise sa_exc.OperationalError(
        "ROLLBACK", {}, Exception("terminating connection due to administrator command")
    )


def _mentee_name(site_) -> str:
    mentee_id = int(site_.page.rsplit("/", 1)[1])
    with site_.app.app_context():
        return db.session.get(User, mentee_id).last_name


# ---- 1: the end-of-request rollback fails ----


def test_failed_rollback_at_teardown_still_serves_the_page(site, monkeypatch, caplog):  # noqa: F811
    monkeypatch.setattr(Session, "close", _terminated)
    response = site.browser.client.get(site.page)
    assert response.status_code == 200
    assert _mentee_name(site) in response.get_data(as_text=True)
    assert "fin de requête : connexion abandonnée" in caplog.text


def test_failed_rollback_after_a_database_error_gives_the_french_503(site, monkeypatch, capsys):  # noqa: F811
    down = site.client_of(make_app(DOWN_URL))
    monkeypatch.setattr(Session, "rollback", _terminated)
    monkeypatch.setattr(Session, "close", _terminated)
    capsys.readouterr()
    response = down.client.get(site.page)
    assert_french_503(response, logged(capsys), "OperationalError")


# ---- 2: a logged-in browser while the database refuses connections ----


def test_logged_in_browser_gets_static_files_and_no_500_while_the_database_is_down(site, capsys):  # noqa: F811
    down = site.client_of(make_app(DOWN_URL))
    css = down.client.get("/static/css/tutorat.css")
    assert css.status_code == 200  # the 503 page keeps its style sheet
    css.close()
    for path in ("/sante", "/health"):
        assert down.client.get(path).status_code == 503
    capsys.readouterr()
    page = down.client.get(site.page)
    lines = logged(capsys)
    assert_french_503(page, lines, "OperationalError")
    # The role kept in the session at login, not "anonyme".
    assert [x["role"] for x in lines if x.get("status") == 503] == ["referent"]


def test_request_log_carries_an_error_a_view_sets(capsys):
    from flask import request

    from tests.tutorat.test_faults import close

    probe = make_app(DOWN_URL)

    @probe.get("/essai-erreur")
    def _view():
        request.environ["tutorat.error"] = "sonde : base en lecture seule"
        return "", 503

    try:
        capsys.readouterr()
        assert probe.test_client().get("/essai-erreur").status_code == 503
    finally:
        close(probe)
    line = [x for x in logged(capsys) if x.get("event") == "request"][-1]
    assert line["error"] == "sonde : base en lecture seule"


# ---- 3: logout with a read-only database ----


def test_logout_with_a_read_only_database_ends_this_browser_session(site, capsys):  # noqa: F811
    site.stop_connections()
    read_only = site.client_of(make_app(f"sqlite:///file:{site.path}?mode=ro&uri=true"))
    assert read_only.get("/referent/").status_code == 200  # logged in
    capsys.readouterr()
    response = read_only.post("/deconnexion", {})
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:300]
    assert response.headers["Retry-After"].isdigit()
    assert "Vous êtes bien déconnecté sur cet appareil" in html
    assert "session=" in response.headers.get("Set-Cookie", "")
    failures = [x for x in logged(capsys) if x.get("status") == 503]
    assert "readonly" in failures[-1]["error"]
    # The next person at this computer is not logged in.
    after = read_only.client.get("/referent/")
    assert after.status_code == 302 and "/connexion" in after.headers["Location"]


# ---- 4: a record is not shown when its access cannot be logged ----


def test_record_whose_access_log_line_cannot_be_written_is_not_shown(site, capsys):  # noqa: F811
    name = _mentee_name(site)
    site.stop_connections()
    read_only = site.client_of(make_app(f"sqlite:///file:{site.path}?mode=ro&uri=true"))
    capsys.readouterr()
    response = read_only.client.get(site.page)
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:300]
    assert response.headers["Retry-After"].isdigit()
    assert "journal des accès" in html and name not in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in response.headers
    failures = [x for x in logged(capsys) if x.get("status") == 503]
    assert failures and "journal des accès" in failures[-1]["error"]


def test_record_view_refused_when_the_access_log_database_refuses(app, monkeypatch):
    """Same on the test database (PostgreSQL when configured): the log's own connection fails."""
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent)
        db.session.commit()
        email, page, name = (
            referent.email,
            f"/referent/beneficiaires/{mentee.id}",
            mentee.last_name,
        )
    browser = Browser(app.test_client())
    assert browser.login(email, PASSWORD).status_code == 302
    assert name in browser.get(page).get_data(as_text=True)
    refusing = create_engine(DOWN_URL, connect_args={"connect_timeout": 2})
    monkeypatch.setattr(audit, "log_engine", lambda: refusing)
    try:
        response = browser.client.get(page)
    finally:
        refusing.dispose()
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:300]
    assert name not in html
    monkeypatch.undo()
    with app.app_context():
        viewed = db.session.scalars(
            select(AccessLog).where(AccessLog.subject_id == mentee.id, AccessLog.action == "view")
        ).all()
    assert len(viewed) == 1  # the first view only


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: TUTORAT_TEST_DATABASE_URL")
def test_backend_terminated_before_teardown_still_answers(app, caplog):
    """The audit's case: PostgreSQL ends the backend after the page is made, before its rollback."""
    from flask import request_finished
    from sqlalchemy import text

    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent)
        db.session.commit()
        email, page, name = (
            referent.email,
            f"/referent/beneficiaires/{mentee.id}",
            mentee.last_name,
        )
        killer = db.engine.connect()
    browser = Browser(app.test_client())
    assert browser.login(email, PASSWORD).status_code == 302
    terminated: list[int] = []

    def terminate(_sender, **_extra):
        pid = db.session.connection().connection.dbapi_connection.info.backend_pid
        killer.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        killer.commit()
        terminated.append(pid)

    request_finished.connect(terminate, app)
    try:
        response = browser.client.get(page)
    finally:
        request_finished.disconnect(terminate, app)
        killer.close()
    assert terminated
    assert response.status_code == 200 and name in response.get_data(as_text=True)
    assert "fin de requête : connexion abandonnée" in caplog.text
    assert browser.client.get(page).status_code == 200  # the dead connection was not reused


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: TUTORAT_TEST_DATABASE_URL")
def test_logout_with_a_read_only_postgresql_ends_this_browser_session(app):
    from tests.tutorat.test_faults import close

    with app.app_context():
        referent = make_referent()
        db.session.commit()
        email = referent.email
    read_only = make_app(
        PG_URL,
        SQLALCHEMY_ENGINE_OPTIONS={
            "connect_args": {"options": "-c default_transaction_read_only=on"}
        },
    )
    try:
        browser = Browser(app.test_client())
        assert browser.login(email, PASSWORD).status_code == 302
        other = Browser(read_only.test_client())
        other.client.set_cookie("session", browser.client.get_cookie("session").value)
        assert other.get("/referent/").status_code == 200
        response = other.post("/deconnexion", {})
        assert response.status_code == 503
        assert "Vous êtes bien déconnecté sur cet appareil" in response.get_data(as_text=True)
        after = other.client.get("/referent/")
        assert after.status_code == 302 and "/connexion" in after.headers["Location"]
    finally:
        close(read_only)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: TUTORAT_TEST_DATABASE_URL")
def test_a_read_only_request_keeps_its_prepared_statements_and_a_write_is_still_undone(app):
    """A request that only read ends with COMMIT (psycopg keeps the statements it prepared, which a
    ROLLBACK forgets); one that wrote without committing is rolled back, as always."""
    from sqlalchemy import update

    with app.app_context():
        referent = make_referent()
        db.session.commit()
        referent_id, first_name = referent.id, referent.first_name
    same = select(User.first_name).where(User.id == referent_id)
    with app.app_context():  # the app context's end is the request's (Flask-SQLAlchemy's teardown)
        for _ in range(6):  # psycopg prepares a statement at its fifth run on a connection
            assert db.session.execute(same).scalar() == first_name
        used = db.session.connection().connection.dbapi_connection
    # The request's own driver connection, back in the pool (whichever the pool gives next):
    # idle, its statement still prepared on the server.
    assert used.info.transaction_status == 0  # IDLE: the transaction was ended
    prepared = used.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    used.commit()
    assert prepared[0] >= 1
    with app.app_context():
        db.session.execute(update(User).where(User.id == referent_id).values(first_name="Écrit"))
        wrote = db.session.connection().connection.dbapi_connection
    assert wrote.info.transaction_status == 0
    with app.app_context():
        assert db.session.execute(same).scalar() == first_name  # the write was rolled back
