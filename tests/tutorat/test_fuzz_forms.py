"""Every form fuzzed with hypothesis: unicode, NUL bytes, 20,000-character strings, SQL and HTML/JS payloads.

At least 300 examples per form; never a 5xx, and a payload sent back is always escaped.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Browser
from tests.factories import PASSWORD, make_admin, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service

pytestmark = pytest.mark.slow

XSS = "<script>alert('x')</script>"
PAYLOADS = [
    XSS,
    '"><img src=x onerror=alert(1)>',
    "' OR '1'='1' --",
    "'; DROP TABLE user_account; --",
    "\x00",
    "a\x00b",
    "%00",
    "../../etc/passwd",
    "${7*7}{{7*7}}",
    "\u202e\u200b",
    "é" * 300,
    "x" * 20_000,
    "-1",
    "0",
    "99999999999999999999",
    "1e309",
    "NaN",
    "",
    " ",
    "32000",
    "Auch",
    "boulanger",
    "K1302",
    "2026-02-30",
    "1900-01-01",
    "9999-12-31",
    "oui",
    "non",
    "yes",
    "no",
    "accept",
    "decline",
    "y",
    "on",
]
value = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20),
    st.integers(-(10**12), 10**12).map(str),
)
field_value = st.one_of(value, st.lists(value, min_size=0, max_size=4))

FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture
def world(app):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, remote_ok=True)
        blank = make_mentee(referent)
        tutor = make_tutor(remote_ok=True, capacity=3)
        other_tutor = make_tutor(remote_ok=True, capacity=3)
        admin = make_admin()
        tutoring_request = request_service.open_request(
            mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.flush()
        pending = pair_service.propose(tutoring_request, tutor.id, actor=referent)
        active_mentee = make_mentee(referent, remote_ok=True)
        d2 = request_service.open_request(
            active_mentee,
            actor=active_mentee,
            topics=["cv"],
            meeting_modes=["video"],
            message="Bonjour",
        )
        db.session.flush()
        active = pair_service.propose(d2, tutor.id, actor=referent)
        pair_service.answer(active, side="tutor", accept=True, actor=tutor)
        pair_service.answer(active, side="mentee", accept=True, actor=active_mentee)
        pair_service.confirm(active, actor=referent)
        open_mentee = make_mentee(referent, remote_ok=True)
        d3 = request_service.open_request(
            open_mentee,
            actor=open_mentee,
            topics=["cv"],
            meeting_modes=["video"],
            message="Bonjour",
        )
        db.session.commit()
        return {
            "referent": referent.email,
            "mentee": mentee.email,
            "tutor": tutor.email,
            "admin": admin.email,
            "active_mentee": active_mentee.email,
            "pending": pending.id,
            "active": active.id,
            "blank": blank.id,
            "open_request": d3.id,
            "other_tutor": other_tutor.id,
        }


# form name → (who, page to read the token from, URL posted to, field names, prefix)
def _forms(w):
    return {
        "login": (None, "/connexion", "/connexion", ["email", "password"], None),
        "forgot": (None, "/mot-de-passe-oublie", "/mot-de-passe-oublie", ["email"], None),
        "mentee_profile": (
            "mentee",
            "/beneficiaire/profil",
            "/beneficiaire/profil",
            [
                "commune",
                "metier_1",
                "metier_2",
                "slots",
                "has_car",
                "max_km",
                "remote_ok",
                "obstacles",
                "shares",
            ],
            None,
        ),
        "mentee_answer": (
            "mentee",
            f"/beneficiaire/binome/{w['pending']}",
            f"/beneficiaire/binome/{w['pending']}",
            ["answer-decision", "answer-reason", "answer-detail"],
            "answer",
        ),
        "tutor_profile": (
            "tutor",
            "/tuteur/profil",
            "/tuteur/profil",
            [
                "commune",
                "metier",
                "slots",
                "has_car",
                "max_km",
                "remote_ok",
                "obstacles",
                "capacity",
                "experience_note",
            ],
            None,
        ),
        "tutor_answer": (
            "tutor",
            f"/tuteur/binome/{w['pending']}",
            f"/tuteur/binome/{w['pending']}/reponse",
            ["answer-decision", "answer-reason", "answer-detail"],
            "answer",
        ),
        "meeting": (
            "tutor",
            f"/tuteur/binome/{w['active']}/rencontre",
            f"/tuteur/binome/{w['active']}/rencontre",
            [
                "date",
                "duration",
                "mode",
                "place",
                "topics",
                "note",
                "next_date",
                "next_time",
                "next_place",
            ],
            None,
        ),
        "next_meeting": (
            "tutor",
            f"/tuteur/binome/{w['active']}",
            f"/tuteur/binome/{w['active']}/prochaine-rencontre",
            ["next-next_date", "next-next_time", "next-next_place"],
            "next",
        ),
        "propose": (
            "referent",
            f"/referent/demandes/{w['open_request']}",
            f"/referent/demandes/{w['open_request']}/proposer",
            ["tutor_id"],
            None,
        ),
        "end": (
            "referent",
            f"/referent/binomes/{w['active']}",
            f"/referent/binomes/{w['active']}/terminer",
            [
                "end-outcomes",
                "end-contract",
                "end-rights",
                "end-stop_reason",
                "end-detail",
                "end-confirm",
            ],
            "end",
        ),
        "new_mentee": (
            "referent",
            "/referent/beneficiaires/nouveau",
            "/referent/beneficiaires/nouveau",
            ["first_name", "last_name", "email", "phone", "consent"],
            None,
        ),
        "social_note": (
            "referent",
            f"/referent/beneficiaires/{w['blank']}",
            f"/referent/beneficiaires/{w['blank']}",
            ["note-social_note"],
            "note",
        ),
        "referent_request": (
            "referent",
            f"/referent/beneficiaires/{w['blank']}/demande",
            f"/referent/beneficiaires/{w['blank']}/demande",
            ["topics", "meeting_modes", "message", "constraints"],
            None,
        ),
        "new_account": (
            "admin",
            "/admin/comptes/nouveau",
            "/admin/comptes/nouveau",
            ["role", "first_name", "last_name", "email", "phone", "organisation"],
            None,
        ),
        "weights": (
            "admin",
            "/admin/poids",
            "/admin/poids",
            ["distance", "sector", "availability", "experience"],
            None,
        ),
        "notifications": (
            "mentee",
            "/compte/",
            "/compte/",
            ["notif-notify_proposals", "notif-notify_reminders", "notif-notify_digest"],
            "notif",
        ),
        "suggest_tutor": (
            "referent",
            "/referent/proposer-un-tuteur/",
            "/referent/proposer-un-tuteur/",
            ["first_name", "last_name", "email", "phone", "note"],
            None,
        ),
        "change_password": (
            "referent",
            "/compte/mot-de-passe",
            "/compte/mot-de-passe",
            ["current", "password", "confirm"],
            None,
        ),
    }


FORM_NAMES = sorted(_forms({"pending": 0, "active": 0, "open_request": 0, "blank": 0}))


def _check(response, sent: dict) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    html = response.get_data(as_text=True)
    for v in sent.values():
        for item in v if isinstance(v, list) else [v]:
            if "<script>" in item or "onerror=" in item:
                assert item not in html, "payload rendered without escaping"


@pytest.mark.parametrize("form", FORM_NAMES)
def test_fuzz_form(app, world, form):
    who, page, url, fields, prefix = _forms(world)[form]
    b = Browser(app.test_client())
    if who:
        assert b.login(world[who], PASSWORD).status_code == 302
    b.get(page)
    assert b.token

    @FUZZ
    @given(st.fixed_dictionaries({}, optional={f: field_value for f in fields}))
    def run(data):
        response = b.post(url, data, prefix=prefix)
        _check(response, data)

    run()


GET_FILTERS = [
    ("referent", "/referent/", ["statut", "territoire", "nom", "page"]),
    ("admin", "/admin/journal", ["action", "personne"]),
    ("admin", "/admin/comptes", ["role"]),
    ("admin", "/admin/candidatures/", ["statut", "canton", "domaine", "age"]),
]


@pytest.mark.parametrize(("who", "url", "params"), GET_FILTERS)
def test_fuzz_query_strings(app, world, who, url, params):
    b = Browser(app.test_client())
    assert b.login(world[who], PASSWORD).status_code == 302

    @FUZZ
    @given(st.fixed_dictionaries({}, optional={p: value for p in params}))
    def run(query):
        response = b.client.get(url, query_string=query)
        _check(response, query)

    run()
