"""Links in emails come from BASE_URL alone, whatever the request's Host and X-Forwarded-* say.

Every kind of email the application sends is caused here through real HTTP requests (or, for the
cron jobs, inside a request carrying the same headers), with the production proxy settings, then
delivered to the in-process SMTP server; every URL in each message must start with BASE_URL.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.conftest import REDIS_TEST_URL, ROOT, Browser
from tests.factories import (
    PASSWORD,
    make_active_pair,
    make_admin,
    make_mentee,
    make_referent,
    make_tutor,
)
from tutorat import create_app, production
from tutorat.extensions import db
from tutorat.models import Meeting, OutboxEmail, Pair, PairOutcome, TutorApplication, User
from tutorat.services import followup, notifications, vetting, voices
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service
from tutorat.services.emails import KINDS
from tutorat.services.profiles import PARIS

BASE = "https://tutorat.gers.example.fr"
EVIL = "evil.example"
# What an anonymous client can put in its request; the proxy forwards what it does not clear.
HOSTILE = {
    "Host": EVIL,
    "X-Forwarded-Host": EVIL,
    "X-Forwarded-Proto": "http",
    "X-Forwarded-Prefix": f"@{EVIL}",
    "X-Forwarded-Port": "8443",
    "X-Forwarded-For": "203.0.113.66",
}
URL = re.compile(r"""https?://[^\s<>"']+""")
HREF = re.compile(r"""href=["']([^"']*)["']""")
EMAIL_TEMPLATES = ROOT / "templates" / "email"


class HostileClient:
    """A test client whose every request carries the hostile headers."""

    def __init__(self, client) -> None:
        self.client = client

    def get(self, url: str, **kw):
        return self.client.get(url, headers=HOSTILE, **kw)

    def post(self, url: str, **kw):
        return self.client.post(url, headers=HOSTILE, **kw)


@pytest.fixture
def behind_proxy(app, monkeypatch):
    """The shared test app with BASE_URL set and the proxy trust that production installs."""
    monkeypatch.setitem(app.config, "BASE_URL", BASE)
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", 1)
    saved = app.wsgi_app
    production.apply(app)
    yield app
    app.wsgi_app = saved


def _browser(app, email: str | None = None) -> Browser:
    b = Browser(HostileClient(app.test_client()))
    if email is not None:
        r = b.login(email, PASSWORD)
        assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return b


def _ok(response) -> None:
    assert response.status_code == 302, response.get_data(as_text=True)[:800]


def _email_kinds() -> set[str]:
    return {p.stem for p in EMAIL_TEMPLATES.glob("*.txt") if not p.name.startswith("_")}


def _urls(message) -> list[str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return URL.findall(text) + URL.findall(html) + HREF.findall(html)


def _assert_only_our_links(message) -> int:
    urls = _urls(message)
    for url in urls:
        assert url.startswith(BASE + "/"), (message["Subject"], url)
        assert urlsplit(url).netloc == urlsplit(BASE).netloc, (message["Subject"], url)
    whole = message.as_string()
    # ":8443", not "8443": the MIME boundary is made of random digits.
    assert EVIL not in whole and ":8443" not in whole, message["Subject"]
    return len(urls)


def test_every_email_kind_links_to_base_url_despite_hostile_headers(behind_proxy, smtp):
    app = behind_proxy
    now = datetime.now(UTC)
    with app.app_context():
        admin = make_admin()
        referent = make_referent()
        mentees = [make_mentee(referent) for _ in range(4)]
        tutors = [make_tutor() for _ in range(4)]
        tutoring_requests = [
            request_service.open_request(
                m, actor=m, topics=["cv"], meeting_modes=["video"], message="Bonjour"
            )
            for m in mentees
        ]
        db.session.commit()
        emails = {
            "admin": admin.email,
            "referent": referent.email,
            "mentees": [m.email for m in mentees],
            "tutors": [t.email for t in tutors],
        }
        tutor_ids = [t.id for t in tutors]
        referent_id = referent.id
        request_ids = [d.id for d in tutoring_requests]

    # Invitations: an account created by the admin, a mentee created by their référent.
    a = _browser(app, emails["admin"])
    _ok(
        a.post(
            "/admin/comptes/nouveau",
            {
                "role": "tutor",
                "first_name": "Nouveau",
                "last_name": "Tuteur",
                "email": "nouveau.tuteur@test.example.org",
                "organisation": "MDS",
            },
            page="/admin/comptes/nouveau",
        )
    )
    ref = _browser(app, emails["referent"])
    _ok(
        ref.post(
            "/referent/beneficiaires/nouveau",
            {
                "first_name": "Paul",
                "last_name": "Invité",
                "email": "paul.invite@test.example.org",
                "phone": "",
                "consent": "y",
            },
            page="/referent/beneficiaires/nouveau",
        )
    )

    # Proposals; the tutor then the mentee accept; the référent confirms, then ends the binôme.
    pair_ids = []
    for request_id, tutor_id in zip(request_ids, tutor_ids, strict=True):
        _ok(
            ref.post(
                f"/referent/demandes/{request_id}/proposer",
                {"tutor_id": str(tutor_id)},
                page=f"/referent/demandes/{request_id}",
            )
        )
        with app.app_context():
            pair_ids.append(
                db.session.scalars(select(Pair.id).where(Pair.request_id == request_id)).one()
            )
    first, declined, reminded, expired = pair_ids
    t0 = _browser(app, emails["tutors"][0])
    _ok(
        t0.post(
            f"/tuteur/binome/{first}/reponse",
            {"answer-decision": "accept"},
            prefix="answer",
            page=f"/tuteur/binome/{first}",
        )
    )
    m0 = _browser(app, emails["mentees"][0])
    _ok(
        m0.post(
            f"/beneficiaire/binome/{first}",
            {"answer-decision": "accept"},
            prefix="answer",
            page=f"/beneficiaire/binome/{first}",
        )
    )
    _ok(ref.post(f"/referent/binomes/{first}/confirmer", {}, page=f"/referent/binomes/{first}"))
    _ok(
        ref.post(
            f"/referent/binomes/{first}/terminer",
            {"end-outcomes": "training", "end-confirm": "y"},
            prefix="end",
            page=f"/referent/binomes/{first}",
        )
    )
    # A refusal.
    _ok(
        _browser(app, emails["tutors"][1]).post(
            f"/tuteur/binome/{declined}/reponse",
            {"answer-decision": "decline", "answer-reason": "other", "answer-detail": "Absent"},
            prefix="answer",
            page=f"/tuteur/binome/{declined}",
        )
    )

    # Password reset, asked anonymously (after the tutor's logins: a login ends earlier links).
    _ok(
        _browser(app).post(
            "/mot-de-passe-oublie", {"email": emails["tutors"][0]}, page="/mot-de-passe-oublie"
        )
    )

    # A tutor deactivated with one active binôme and one pending proposal (issue 11 item 10).
    with app.app_context():
        tutor = make_tutor(capacity=2)
        active, pending = (make_mentee(db.session.get(User, referent_id)) for _ in range(2))
        for mentee in (active, pending):
            tutoring_request = request_service.open_request(
                mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
            )
            db.session.flush()
            pair = pair_service.propose(
                tutoring_request, tutor.id, actor=db.session.get(User, referent_id)
            )
            if mentee is active:
                pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
                pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
                pair_service.confirm(pair, actor=db.session.get(User, referent_id))
        db.session.commit()
        deactivated_id = tutor.id
    _ok(
        _browser(app, emails["admin"]).post(
            f"/admin/comptes/{deactivated_id}/desactiver", {}, page="/admin/comptes?role=tutor"
        )
    )

    # The admin gives a beneficiary to another référent (issue 14): both référents and the person.
    with app.app_context():
        successor_id = make_referent().id
        moved_id = make_mentee(db.session.get(User, referent_id)).id
        db.session.commit()
    _ok(
        _browser(app, emails["admin"]).post(
            "/admin/transfert",
            {
                "from_referent": str(referent_id),
                "to_referent": str(successor_id),
                "mentee_ids": [str(moved_id)],
            },
            page="/admin/transfert",
        )
    )
    # A binôme paused by its tutor, resumed by its mentee, a problem reported, a stop requested,
    # and the check-in its first meeting brings (services/voices.py, checkins.py).
    with app.app_context():
        referent = db.session.get(User, referent_id)
        voice_tutor, voice_mentee = make_tutor(), make_mentee(referent)
        voice_pair = make_active_pair(referent, voice_mentee, voice_tutor)
        db.session.add(
            Meeting(
                pair_id=voice_pair.id,
                logged_by_id=voice_tutor.id,
                date=now.date(),
                duration_minutes=30,
                mode="phone",
            )
        )
        db.session.commit()
        voice = {"pair": voice_pair.id, "tutor": voice_tutor.email, "mentee": voice_mentee.email}
    vt, vm = _browser(app, voice["tutor"]), _browser(app, voice["mentee"])
    tutor_pair, mentee_pair = (
        f"/tuteur/binome/{voice['pair']}",
        f"/beneficiaire/binome/{voice['pair']}",
    )
    until = (now + timedelta(days=10)).date().isoformat()
    _ok(vt.post(f"{tutor_pair}/pause", {"until": until}, page=f"{tutor_pair}/pause"))
    _ok(vm.post(f"{mentee_pair}/reprendre", {}, page=mentee_pair))
    _ok(vm.post(f"{mentee_pair}/signaler", {"comment": "Un souci"}, page=f"{mentee_pair}/signaler"))
    # The next meeting, tomorrow: run-reminders reminds both the day before (services/meetings.py).
    tomorrow = (now.astimezone(PARIS) + timedelta(days=1)).date().isoformat()
    _ok(
        vt.post(
            f"{tutor_pair}/prochaine-rencontre",
            {"next-next_date": tomorrow},
            prefix="next",
            page=tutor_pair,
        )
    )

    # A demande put on the waiting list; a tutor who fits appears: run-reminders tells the référent.
    with app.app_context():
        waiting_mentee = make_mentee(db.session.get(User, referent_id), remote_ok=True)
        waiting_request = request_service.open_request(
            waiting_mentee,
            actor=waiting_mentee,
            topics=["cv"],
            meeting_modes=["video"],
            message="Bonjour",
        )
        db.session.commit()
        waiting_id = waiting_request.id
    _ok(
        ref.post(
            f"/referent/demandes/{waiting_id}/liste-attente",
            {"wait-reason": "Aucun tuteur pour l'instant"},
            prefix="wait",
            page=f"/referent/demandes/{waiting_id}",
        )
    )
    with app.app_context():
        make_tutor(remote_ok=True, capacity=1)
        db.session.commit()
    # Tutor applications (issue 17): an invitation from the référent, two applications sent
    # anonymously, one validated once its checklist is complete, the other refused.
    _ok(
        _browser(app, emails["referent"]).post(
            "/referent/proposer-un-tuteur/",
            {"first_name": "Iris", "last_name": "Invitée", "email": "iris@test.example.org"},
            page="/referent/proposer-un-tuteur/",
        )
    )
    for first in ("Valentin", "Roxane"):
        applicant = _browser(app)
        applicant.get("/devenir-tuteur")
        with app.app_context():
            started = vetting.form_started_token(now=time.time() - 60)
        _ok(
            applicant.post(
                "/devenir-tuteur",
                {
                    "first_name": first,
                    "last_name": "Candidat",
                    "email": f"{first.lower()}@test.example.org",
                    "commune": "32013",
                    "metier": "J1501",
                    "slots": ["0"],  # lundi matin: nobody here waits for it
                    "capacity": "1",
                    "has_car": "yes",
                    "max_km": "20",
                    "charter": "y",
                    "consent": "y",
                    "started": started,
                },
            )
        )
    with app.app_context():
        valentin, roxane = (
            db.session.scalars(
                select(TutorApplication.id).where(TutorApplication.email == f"{n}@test.example.org")
            ).one()
            for n in ("valentin", "roxane")
        )
    admin = _browser(app, emails["admin"])
    page = f"/admin/candidatures/{valentin}"
    for item in ("identity", "criminal_record", "info_meeting"):
        _ok(
            admin.post(
                f"{page}/verification/{item}",
                {f"{item}-day": now.date().isoformat()},
                page=page,
            )
        )
    _ok(admin.post(f"{page}/valider", {}, page=page))
    page = f"/admin/candidatures/{roxane}"
    _ok(admin.post(f"{page}/refuser", {"reason": "Pas de besoin dans votre canton."}, page=page))

    # Reminders, expiry and the digest are cron jobs; run them inside a request that carries the
    # same headers (as an admin button would), so nothing of the request may reach the links.
    with app.app_context():
        db.session.get(Pair, reminded).proposed_at = now - timedelta(days=4)
        db.session.get(Pair, expired).proposed_at = now - timedelta(days=11)
        # The loop: the first binôme's mentee, out of the RSA, said yes months ago.
        ended = db.session.get_one(Pair, pair_ids[0])
        ended.outcome_rows.append(PairOutcome(outcome="left_rsa"))
        ended.ended_at = now - timedelta(days=100)
        ended.mentee_would_help, ended.mentee_would_help_at = True, now - timedelta(days=100)
        db.session.commit()
    with app.test_request_context(
        "/admin/",
        base_url=f"http://{EVIL}:8443",
        headers=HOSTILE,
        environ_overrides={"SCRIPT_NAME": f"@{EVIL}"},
    ):
        report = followup.run_reminders(now=now)
        assert report == {
            "rappels": 1,
            "expirées": 1,
            "listes d'attente": 1,
            "invitations à devenir tuteur": 1,
        }
        # The référent and their successor, who now follows someone (the transfer above).
        assert followup.send_digests(now=now) == 2
        db.session.commit()
        assert voices.run_scheduled(now=now) == {"pauses terminées": 0, "points": 2}
        assert followup.remind_tomorrow(now=now) == 1
        db.session.commit()
    _ok(vt.post(f"{tutor_pair}/arret", {"reason": "no_time"}, page=f"{tutor_pair}/arret"))

    with app.app_context():
        kinds = set(db.session.scalars(select(OutboxEmail.kind)))
        notifications.send_pending()
        db.session.remove()
    # Every kind of email there is was sent in this test (a new one must be added here).
    assert kinds == _email_kinds() == set(KINDS)

    messages = smtp.inbox.messages
    assert len(messages) >= len(kinds)
    for message in messages:
        _assert_only_our_links(message)
        kind = message["Message-ID"].strip().strip("<").split(".", 1)[0]
        # Every email one may refuse ends with the settings and one-click unsubscribe links, and
        # carries them in its List-Unsubscribe headers (RFC 8058); security emails do not.
        footer = [u for u in _urls(message) if "/desabonnement/" in u or u.endswith("/compte/")]
        if KINDS[kind].account_security or KINDS[kind].applicant:
            # An applicant has no account, hence nothing to unsubscribe from.
            assert not footer and message["List-Unsubscribe"] is None, kind
        else:
            assert footer and message["List-Unsubscribe"].startswith(f"<{BASE}/desabonnement/")
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        links = len(_urls(message)) - len(footer)
        # Only these tell of something over, with nothing to open.
        linkless = kind == "pair_ended" or (
            kind in ("expired", "pair_withdrawn") and emails["referent"] not in message["To"]
        )
        assert links == 0 if linkless else links >= 3, kind  # text, HTML text, href
    # The reset link works at BASE_URL's path.
    [reset] = [m for m in smtp.inbox.to(emails["tutors"][0]) if "mot de passe" in m["Subject"]]
    text = reset.get_body(preferencelist=("plain",)).get_content()
    link = next(u for u in URL.findall(text) if "/mot-de-passe/" in u)
    assert _browser(app).get(link[len(BASE) :]).status_code == 200


def test_email_templates_use_link_not_url_for():
    """Email templates build their links with link(), from BASE_URL; never url_for or base_url."""
    for path in EMAIL_TEMPLATES.iterdir():
        source = path.read_text(encoding="utf-8")
        assert "url_for" not in source, path.name
        assert "base_url" not in source, path.name
        assert "request." not in source, path.name


def test_url_for_fails_loudly_in_an_email(app):
    template = app.jinja_env.from_string("Lien : {{ url_for('auth.login') }}")
    with app.test_request_context("/", headers=HOSTILE), pytest.raises(RuntimeError, match="link"):
        notifications._render(template)


def test_link_ignores_the_request(app, monkeypatch):
    from tutorat.links import absolute_url

    monkeypatch.setitem(app.config, "BASE_URL", BASE + "/tutorat/")
    with app.test_request_context(
        "/", headers=HOSTILE, environ_overrides={"SCRIPT_NAME": f"@{EVIL}"}
    ):
        assert absolute_url("auth.set_password", token="a b") == (
            f"{BASE}/tutorat/mot-de-passe/a%20b"
        )
    with app.app_context():
        assert absolute_url("referent.pair", pair_id=3) == f"{BASE}/tutorat/referent/binomes/3"


# ---- 7b: what people type is never a link in the HTML email ----


def test_free_text_urls_are_not_links_in_the_html_email(behind_proxy, smtp):
    app = behind_proxy
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent)
        tutor = make_tutor()
        tutoring_request = request_service.open_request(
            mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.commit()
        referent_email, tutor_email, tutor_id, request_id = (
            referent.email,
            tutor.email,
            tutor.id,
            tutoring_request.id,
        )
    ref = _browser(app, referent_email)
    _ok(ref.post(f"/referent/demandes/{request_id}/proposer", {"tutor_id": str(tutor_id)}))
    with app.app_context():
        pair_id = db.session.scalars(select(Pair.id).where(Pair.request_id == request_id)).one()
    detail = (
        f"Voir https://{EVIL}/connexion?x=1&y=2 ou {BASE}.{EVIL}/piege "
        f"ou {BASE}@{EVIL}/piege ou <b>gras</b>"
    )
    _ok(
        _browser(app, tutor_email).post(
            f"/tuteur/binome/{pair_id}/reponse",
            {"answer-decision": "decline", "answer-reason": "other", "answer-detail": detail},
            prefix="answer",
            page=f"/tuteur/binome/{pair_id}",
        )
    )
    with app.app_context():
        notifications.send_pending()
    [message] = [m for m in smtp.inbox.to(referent_email) if "refusée" in m["Subject"]]
    html = message.get_body(preferencelist=("html",)).get_content()
    hrefs = [h for h in HREF.findall(html) if "/desabonnement/" not in h]
    # Our own links (the demande, then the footer's settings) are links; nothing the tutor typed is.
    assert hrefs == [f"{BASE}/referent/demandes/{request_id}", f"{BASE}/compte/"], hrefs
    assert html.count("<a ") == 3
    assert f"https://{EVIL}/connexion?x=1&amp;y=2" in html  # still there, as escaped text
    assert "&lt;b&gt;gras&lt;/b&gt;" in html and "<b>" not in html
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"{BASE}@{EVIL}/piege" in text


def test_is_ours_refuses_lookalikes(app, monkeypatch):
    from tutorat.links import is_ours

    monkeypatch.setitem(app.config, "BASE_URL", BASE + "/")
    with app.app_context():
        assert is_ours(f"{BASE}/tuteur/binome/1") and is_ours(BASE) and is_ours(f"{BASE}?a=1")
        for url in (
            f"{BASE}.{EVIL}/x",
            f"{BASE}@{EVIL}/x",
            f"{BASE}:8443/x",
            f"{BASE}evil/x",
            f"http://{BASE[len('https://') :]}/x",
            f"https://{EVIL}/",
        ):
            assert not is_ours(url), url


# ---- The proxy and the Host header in production ----

PRODUCTION = {
    "TUTORAT_ENV": "production",
    "TESTING": True,
    "SECRET_KEY": "k" * 48,
    "MAIL_SERVER": "smtp.gers.example.fr",
    "BASE_URL": BASE,
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
    "RATELIMIT_STORAGE_URI": REDIS_TEST_URL,
}


@pytest.fixture
def prod_app(monkeypatch):
    for key in ("TUTORAT_ENV", "BASE_URL", "ALLOWED_HOSTS", "TRUSTED_PROXIES", "DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    app = create_app(dict(PRODUCTION))

    @app.get("/_vu-par-flask")
    def seen():
        from flask import request

        return {
            "host": request.host,
            "script_root": request.script_root,
            "scheme": request.scheme,
            "remote_addr": request.remote_addr,
        }

    return app


def test_proxy_trusts_only_the_client_address_and_scheme(prod_app):
    client = prod_app.test_client()
    seen = client.get(
        "/_vu-par-flask",
        headers={**HOSTILE, "Host": "tutorat.gers.example.fr", "X-Forwarded-Proto": "https"},
    ).get_json()
    assert seen == {
        "host": "tutorat.gers.example.fr",
        "script_root": "",
        "scheme": "https",
        "remote_addr": "203.0.113.66",
    }


@pytest.mark.parametrize(
    "host",
    [EVIL, "tutorat.gers.example.fr.evil.example", "localhost", "bad host", "", "a" * 300],
)
def test_production_refuses_another_host_with_a_plain_french_400(prod_app, host):
    client = prod_app.test_client()
    for path in ("/", "/connexion", "/mot-de-passe-oublie", "/_vu-par-flask"):
        response = client.get(path, headers={"Host": host})
        assert response.status_code == 400, (path, host)
        assert response.mimetype == "text/plain"
        assert "Requête refusée" in response.get_data(as_text=True)
    # The load balancer's health check, from localhost, answers for any well-formed host.
    well_formed = host in (EVIL, "tutorat.gers.example.fr.evil.example", "localhost")
    # (Its in-memory database has no tables: /sante answers 503 there, but it answers.)
    health = client.get("/sante", headers={"Host": host})
    if well_formed:
        assert health.status_code in (200, 503) and health.is_json
    else:
        assert health.status_code == 400


def test_production_serves_its_own_host(prod_app):
    client = prod_app.test_client()
    for host in (
        "tutorat.gers.example.fr",
        "TUTORAT.gers.example.fr",
        "tutorat.gers.example.fr:443",
    ):
        assert client.get("/connexion", headers={"Host": host}).status_code == 200, host


def test_allowed_hosts_setting(monkeypatch):
    for key in ("TUTORAT_ENV", "BASE_URL", "TRUSTED_PROXIES", "DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ALLOWED_HOSTS", "tutorat.gers.fr, www.tutorat.gers.fr")
    app = create_app(dict(PRODUCTION))
    assert app.config["ALLOWED_HOSTS"] == ["tutorat.gers.fr", "www.tutorat.gers.fr"]
    client = app.test_client()
    assert client.get("/connexion", headers={"Host": "www.tutorat.gers.fr"}).status_code == 200
    assert client.get("/connexion", headers={"Host": "tutorat.gers.example.fr"}).status_code == 400
