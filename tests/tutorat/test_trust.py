"""Trust: sessions, passwords, brute force, headers, access log, personal data, algorithm transparency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from tests.conftest import Browser
from tests.factories import (
    PASSWORD,
    make_active_pair,
    make_admin,
    make_mentee,
    make_referent,
    make_tutor,
)
from tutorat.extensions import db
from tutorat.models import AccessLog, MenteeProfile, Pair, TutoringRequest, User
from tutorat.services import accounts
from tutorat.services.errors import DomainError

SECRET_NOTE = "NOTE-SOCIALE-SECRETE-RSA-SOCLE-580"


def _world(app, share_obstacles=False):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, first_name="Julie", last_name="Carrère")
        profile = db.session.get(MenteeProfile, mentee.id)
        profile.social_note = SECRET_NOTE
        profile.obstacles = "health"
        profile.share_obstacles = share_obstacles
        tutor = make_tutor()
        tutor.tutor_profile.obstacles = "health"
        pair = make_active_pair(referent, mentee, tutor)
        admin = make_admin()
        db.session.commit()
        return {
            "referent": referent.email,
            "mentee": mentee.email,
            "tutor": tutor.email,
            "admin": admin.email,
            "pair": pair.id,
            "mentee_id": mentee.id,
            "tutor_id": tutor.id,
            "request": pair.request_id,
        }


def _as(app, email, password=PASSWORD):
    b = Browser(app.test_client())
    assert b.login(email, password).status_code == 302
    return b


def test_cookie_captured_before_logout_is_refused_after(app):
    w = _world(app)
    b = _as(app, w["referent"])
    other_device = Browser(app.test_client())
    other_device.client.set_cookie("session", b.client.get_cookie("session").value)
    assert other_device.client.get("/referent/").status_code == 200
    b.post("/deconnexion", {}, page="/referent/")
    assert other_device.client.get("/referent/").status_code == 302  # back to the login page
    assert b.client.get("/referent/").status_code == 302


def test_password_change_and_deactivation_end_sessions(app):
    w = _world(app)
    b = _as(app, w["tutor"])
    stolen = Browser(app.test_client())
    stolen.client.set_cookie("session", b.client.get_cookie("session").value)
    new = "Une-autre-phrase-secrete-2027"
    r = b.post(
        "/compte/mot-de-passe",
        {"current": PASSWORD, "password": new, "confirm": new},
        page="/compte/mot-de-passe",
    )
    assert r.status_code == 302
    assert b.client.get("/tuteur/").status_code == 200  # this session goes on
    assert stolen.client.get("/tuteur/").status_code == 302  # the other one is over
    admin = _as(app, w["admin"])
    r = admin.post(
        f"/admin/comptes/{w['tutor_id']}/desactiver", {}, page="/admin/comptes?role=tutor"
    )
    assert r.status_code == 302
    assert b.client.get("/tuteur/").status_code == 302
    assert Browser(app.test_client()).login(w["tutor"], new).status_code == 401


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("court", False),
        ("azerty123456", False),
        ("aaaaaaaaaaaaaaaa", False),
        ("Carrère2026!!", False),  # the person's name
        ("le chat dort sous la table de la cuisine", True),
        ("Trois-mots-solides-42", True),
    ],
)
def test_password_policy(ctx, password, ok):
    user = make_mentee(make_referent(), last_name="Carrère")
    if ok:
        accounts.set_password(user, password)
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1")
    else:
        with pytest.raises(DomainError):
            accounts.set_password(user, password)


def test_account_lock_and_same_message(app):
    w = _world(app)
    messages = set()
    for _ in range(5):
        r = Browser(app.test_client()).login(w["tutor"], "mauvais mot de passe")
        assert r.status_code == 401
        messages.add(
            r.get_data(as_text=True).split('role="alert"')[1][:300]
            if 'role="alert"' in r.get_data(as_text=True)
            else ""
        )
    unknown = Browser(app.test_client()).login("personne@nulle-part.fr", "mauvais mot de passe")
    assert (
        unknown.status_code == 401
        and "Adresse électronique ou mot de passe incorrect" in unknown.get_data(as_text=True)
    )
    # Locked: even the right password is refused, with the same message.
    locked = Browser(app.test_client()).login(w["tutor"], PASSWORD)
    assert (
        locked.status_code == 401
        and "Adresse électronique ou mot de passe incorrect" in locked.get_data(as_text=True)
    )
    with app.app_context():
        db.session.execute(
            update(User)
            .where(User.email == w["tutor"])
            .values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()
        assert (
            db.session.scalar(select(func.count()).where(AccessLog.action == "login_failed")) == 7
        )
    assert Browser(app.test_client()).login(w["tutor"], PASSWORD).status_code == 302


def test_login_rate_limit_per_ip(app):
    from tutorat.extensions import limiter

    limiter.reset()
    app.config["LOGIN_RATE_LIMIT"] = "20 per minute"
    try:
        b = Browser(app.test_client())
        statuses = [b.login(f"x{i}@example.org", "n'importe quoi").status_code for i in range(25)]
        assert 429 in statuses and statuses.index(429) >= 20
        assert "Trop de tentatives" in b.login("y@example.org", "z").get_data(as_text=True)
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "100000 per minute"
        limiter.reset()


def test_security_headers(app):
    w = _world(app)
    b = _as(app, w["referent"])
    for path in ("/", "/referent/", f"/referent/binomes/{w['pair']}", "/page-qui-n-existe-pas"):
        r = b.client.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert (
            "frame-ancestors 'none'" in csp
            and "unsafe-inline" not in csp
            and "script-src 'self'" in csp
        )
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"]
        assert "Strict-Transport-Security" not in r.headers  # only over HTTPS
    assert b.client.get(f"/referent/binomes/{w['pair']}").headers["Cache-Control"] == "no-store"
    secure = app.test_client().get("/", base_url="https://localhost")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]
    login = Browser(app.test_client()).login(w["mentee"], PASSWORD)
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_error_page_is_french_without_stack_trace(app):
    r = app.test_client().get("/nulle-part")
    assert r.status_code == 404 and "Page introuvable" in r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)


def test_tutor_and_mentee_pages_never_show_referent_fields(app):
    w = _world(app)
    pages = {
        "tutor": [
            "/tuteur/",
            f"/tuteur/binome/{w['pair']}",
            f"/tuteur/binome/{w['pair']}/explication",
            f"/tuteur/binome/{w['pair']}/rencontre",
            "/compte/mes-donnees",
            "/compte/mes-donnees.json",
        ],
        "mentee": [
            "/beneficiaire/",
            f"/beneficiaire/binome/{w['pair']}",
            "/beneficiaire/profil",
            f"/beneficiaire/binome/{w['pair']}/explication",
            "/compte/mes-donnees",
            "/compte/mes-donnees.json",
        ],
    }
    for role, paths in pages.items():
        b = _as(app, w[role])
        for path in paths:
            r = b.client.get(path)
            assert r.status_code == 200, path
            assert SECRET_NOTE not in r.get_data(as_text=True), path
    # The tutor never sees the mentee's last name nor the obstacle she did not share.
    b = _as(app, w["tutor"])
    for path in pages["tutor"][:3]:
        html = b.client.get(path).get_data(as_text=True)
        assert "Carrère" not in html and "santé" not in html.lower(), path
    # The référent does see the note.
    assert SECRET_NOTE in _as(app, w["referent"]).client.get(
        f"/referent/beneficiaires/{w['mentee_id']}"
    ).get_data(as_text=True)


def test_access_log_records_views_denials_and_logins(app):
    w = _world(app)
    b = _as(app, w["referent"])
    b.client.get(f"/referent/beneficiaires/{w['mentee_id']}")
    b.client.get("/referent/beneficiaires/999999")
    with app.app_context():
        rows = db.session.scalars(select(AccessLog).order_by(AccessLog.id)).all()
        views = [r for r in rows if r.action == "view" and r.subject_id == w["mentee_id"]]
        assert views and views[-1].target == "referent.mentee" and views[-1].ip == "127.0.0.1"
        assert any(r.action == "denied" and r.status == 404 for r in rows)
        assert any(r.action == "login" for r in rows)
        # No social content in the log.
        assert not any(SECRET_NOTE in (r.target or "") for r in rows)
    page = (
        _as(app, w["admin"])
        .client.get(f"/admin/journal?personne={w['mentee_id']}")
        .get_data(as_text=True)
    )
    assert "referent.mentee" in page
    # The actions and roles are read in French, not as their stored codes.
    assert "<td>consultation</td>" in page and "référent ou référente)" in page
    assert "<td>view</td>" not in page


def test_my_data_export_erasure_and_anonymisation(app):
    w = _world(app)
    b = _as(app, w["mentee"])
    data = b.client.get("/compte/mes-donnees.json").get_json()
    assert data["compte"]["prenom"] == "Julie" and data["demandes"] and data["binomes"]
    assert SECRET_NOTE not in str(data)
    assert b.post("/compte/effacement", {}, page="/compte/mes-donnees").status_code == 302
    admin = _as(app, w["admin"])
    assert "Julie" in admin.client.get("/admin/effacements").get_data(as_text=True)
    with app.app_context():
        pairs_before = db.session.scalar(select(func.count()).select_from(Pair))
    assert (
        admin.post(
            f"/admin/comptes/{w['mentee_id']}/anonymiser", {}, page="/admin/effacements"
        ).status_code
        == 302
    )
    with app.app_context():
        user = db.session.get(User, w["mentee_id"])
        assert (user.first_name, user.email, user.phone, user.active) == (
            "Personne",
            None,
            None,
            False,
        )
        assert user.mentee_profile.social_note == ""
        assert db.session.get(TutoringRequest, w["request"]).message == ""
        assert (
            db.session.scalar(select(func.count()).select_from(Pair)) == pairs_before
        )  # statistics stay
    assert b.client.get("/beneficiaire/").status_code == 302  # session over


def test_purge_after_two_years_safe_twice(app, runner):
    with app.app_context():
        referent = make_referent()
        old = make_mentee(referent, first_name="Ancienne")
        recent = make_mentee(referent, first_name="Recente")
        long_ago = datetime.now(UTC) - timedelta(days=800)
        db.session.execute(
            update(User).where(User.id == old.id).values(created_at=long_ago, last_login_at=None)
        )
        db.session.commit()
        old_id, recent_id = old.id, recent.id
    first = runner.invoke(args=["purge"])
    assert first.exit_code == 0 and "1 personne(s)" in first.output, first.output
    second = runner.invoke(args=["purge"])
    assert "0 personne(s)" in second.output
    with app.app_context():
        assert db.session.get(User, old_id).anonymised_at is not None
        assert db.session.get(User, recent_id).first_name == "Recente"


def test_explanation_pages(app):
    w = _world(app, share_obstacles=False)
    page = (
        _as(app, w["referent"])
        .client.get(f"/referent/binomes/{w['pair']}/explication")
        .get_data(as_text=True)
    )
    for text in (
        "Un algorithme a aidé",
        "qui a choisi",
        "Expérience vécue",
        "Poids",
        "Les opérations effectuées",
        "ROME",
    ):
        assert text in page, text
    tutor_page = (
        _as(app, w["tutor"])
        .client.get(f"/tuteur/binome/{w['pair']}/explication")
        .get_data(as_text=True)
    )
    assert "non communiquée" in tutor_page and "santé" not in tutor_page.lower()
    mentee_page = (
        _as(app, w["mentee"]).client.get(f"/beneficiaire/binome/{w['pair']}").get_data(as_text=True)
    )
    assert f"/beneficiaire/binome/{w['pair']}/explication" in mentee_page
    public = app.test_client().get("/algorithme")
    assert public.status_code == 200
    html = public.get_data(as_text=True)
    assert "Ce qui n'est jamais utilisé" in html and "Poids actuels" in html


def test_admin_sets_weights_ranking_and_public_page_follow(app):
    w = _world(app)
    admin = _as(app, w["admin"])
    bad = admin.post(
        "/admin/poids",
        {"distance": "0", "sector": "0", "availability": "0", "experience": "0"},
        page="/admin/poids",
    )
    assert bad.status_code == 422 and "plus grand que 0" in bad.get_data(as_text=True)
    bad = admin.post(
        "/admin/poids",
        {"distance": "-5", "sector": "abc", "availability": "1", "experience": "1"},
        page="/admin/poids",
    )
    assert bad.status_code == 422
    ok = admin.post(
        "/admin/poids",
        {"distance": "10", "sector": "70", "availability": "10", "experience": "10"},
        page="/admin/poids",
    )
    assert ok.status_code == 302
    html = app.test_client().get("/algorithme").get_data(as_text=True)
    assert "70 %" in html
    with app.app_context():
        from tutorat.services import suggestions

        assert suggestions.current_weights().to_dict()["sector"] == 0.7
        pair = db.session.get(Pair, w["pair"])
        assert pair.weights["sector"] == 0.35  # a proposal keeps the weights it was made with
