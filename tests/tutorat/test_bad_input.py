"""Bad input on every form: a French message, a 4xx, never a 500, nothing half-written."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import PASSWORD, make_admin, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import Meeting, MenteeProfile, TutoringRequest, User
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service

LONG = "x" * 20_000
PROFILE_OK = {
    "commune": "Auch",
    "metier_1": "boulanger",
    "slots": ["5"],
    "has_car": "no",
    "max_km": "10",
}


@pytest.fixture
def people(app):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, complete=False)
        active_mentee = make_mentee(referent, remote_ok=True)
        tutor = make_tutor(remote_ok=True)
        admin = make_admin()
        tutoring_request = request_service.open_request(
            active_mentee,
            actor=active_mentee,
            topics=["cv"],
            meeting_modes=["video"],
            message="Bonjour",
        )
        db.session.flush()
        pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
        pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
        pair_service.answer(pair, side="mentee", accept=True, actor=active_mentee)
        pair_service.confirm(pair, actor=referent)
        db.session.commit()
        return {
            "referent": referent.email,
            "mentee": mentee.email,
            "mentee_id": mentee.id,
            "tutor": tutor.email,
            "admin": admin.email,
            "pair": pair.id,
        }


def _as(app, email):
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"commune": ""}, "obligatoire"),
        ({"commune": "Paris"}, "Commune inconnue"),
        # « Vouliez-vous dire … ? »: the closest choices as radio buttons, never a silent guess.
        ({"commune": "fleurence"}, "Fleurance (32500)</label>"),
        ({"metier_1": "boulanjer"}, "Boulanger / Boulangère</label>"),
        ({"commune": LONG}, "120 caractères"),
        ({"metier_1": ""}, "Indiquez un métier"),
        ({"metier_1": "Z9999"}, "Métier introuvable"),
        ({"metier_1": "qqqqzzzz"}, "Métier introuvable"),
        ({"metier_1": LONG}, "200 caractères"),
        ({"slots": []}, "Cochez au moins un"),
        ({"slots": ["99"]}, "Créneau inconnu"),
        ({"slots": ["abc"]}, "Créneau inconnu"),
        ({"max_km": "-3"}, "entre 0 et 200"),
        ({"max_km": "abc"}, "Indiquez une distance en kilomètres"),
        ({"has_car": "peut-être"}, "Choisissez une des options"),
        ({"obstacles": ["inconnu"]}, "Choix inconnu"),
    ],
)
def test_mentee_profile_bad_input(app, people, change, message):
    b = _as(app, people["mentee"])
    data = {**PROFILE_OK, **change}
    r = b.post("/beneficiaire/profil", data, page="/beneficiaire/profil")
    html = r.get_data(as_text=True)
    assert 400 <= r.status_code < 500
    assert message in html
    # The other input is kept.
    if "max_km" not in change:
        assert 'value="10"' in html
    with app.app_context():
        assert db.session.get(MenteeProfile, people["mentee_id"]).commune_code is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"topics": [], "meeting_modes": ["video"], "message": "Bonjour"}, "au moins un sujet"),
        ({"topics": ["cv"], "meeting_modes": [], "message": "Bonjour"}, "au moins une façon"),
        ({"topics": ["cv"], "meeting_modes": ["video"], "message": ""}, "obligatoire"),
        ({"topics": ["cv"], "meeting_modes": ["video"], "message": LONG}, "1000 caractères"),
        ({"topics": ["pirate"], "meeting_modes": ["video"], "message": "Bonjour"}, "Choix inconnu"),
        (
            {"topics": ["cv"], "meeting_modes": ["video"], "message": "a\x00b"},
            "caractères invisibles",
        ),
    ],
)
def test_request_bad_input(app, people, data, message):
    b = _as(app, people["referent"])
    url = f"/referent/beneficiaires/{people['mentee_id']}/profil"
    assert b.post(url, PROFILE_OK, page=url).status_code == 302
    url = f"/referent/beneficiaires/{people['mentee_id']}/demande"
    r = b.post(url, data, page=url)
    assert 400 <= r.status_code < 500
    assert message in r.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(TutoringRequest)
                .where(TutoringRequest.mentee_id == people["mentee_id"])
            )
            == 0
        )


def test_second_open_request_is_refused(app, people):
    b = _as(app, people["referent"])
    url = f"/referent/beneficiaires/{people['mentee_id']}/profil"
    b.post(url, PROFILE_OK, page=url)
    url = f"/referent/beneficiaires/{people['mentee_id']}/demande"
    data = {"topics": ["cv"], "meeting_modes": ["video"], "message": "Bonjour"}
    assert b.post(url, data, page=url).status_code == 302
    r = b.post(url, data, page=url)
    assert r.status_code == 409 and "déjà" in r.get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"date": (date.today() + timedelta(days=2)).isoformat()}, "dans le futur"),
        ({"date": "pas-une-date"}, "date valide"),
        ({"date": ""}, "date valide"),
        ({"duration": "0"}, "entre 1 et 720"),
        ({"duration": "-20"}, "entre 1 et 720"),
        ({"duration": "100000"}, "entre 1 et 720"),
        ({"mode": "pigeon"}, "Choisissez une des options"),
        ({"place": LONG}, "150 caractères"),
        ({"note": LONG}, "1000 caractères"),
    ],
)
def test_meeting_bad_input(app, people, change, message):
    b = _as(app, people["tutor"])
    url = f"/tuteur/binome/{people['pair']}/rencontre"
    data = {"date": date.today().isoformat(), "duration": "60", "mode": "in_person", **change}
    r = b.post(url, data, page=url)
    assert 400 <= r.status_code < 500
    assert message in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"role": "referent", "first_name": "", "last_name": "X", "email": "a@b.fr"},
            "obligatoire",
        ),
        (
            {"role": "referent", "first_name": "A", "last_name": "X", "email": "pas-un-courriel"},
            "invalide",
        ),
        ({"role": "referent", "first_name": "A", "last_name": "X", "email": ""}, "obligatoire"),
        (
            {"role": "pirate", "first_name": "A", "last_name": "X", "email": "a@b.fr"},
            "Choisissez une des options",
        ),
        (
            {"role": "tutor", "first_name": LONG, "last_name": "X", "email": "a@b.fr"},
            "80 caractères",
        ),
        (
            {
                "role": "tutor",
                "first_name": "A",
                "last_name": "X",
                "email": "a@b.fr",
                "phone": "abc",
            },
            "téléphone",
        ),
    ],
)
def test_admin_new_account_bad_input(app, people, data, message):
    b = _as(app, people["admin"])
    before = None
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(User))
    r = b.post("/admin/comptes/nouveau", data, page="/admin/comptes/nouveau")
    assert 400 <= r.status_code < 500
    assert message in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_duplicate_email_is_refused(app, people):
    b = _as(app, people["admin"])
    r = b.post(
        "/admin/comptes/nouveau",
        {"role": "tutor", "first_name": "A", "last_name": "B", "email": people["referent"]},
        page="/admin/comptes/nouveau",
    )
    assert r.status_code in (409, 422) and "existe déjà" in r.get_data(as_text=True)


def test_decline_needs_a_reason(app, people):
    with app.app_context():
        referent = db.session.scalars(select(User).where(User.email == people["referent"])).one()
        mentee = make_mentee(referent, remote_ok=True)
        tutor = make_tutor(remote_ok=True, email="declineur@test.example.org")
        tutoring_request = request_service.open_request(
            mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.flush()
        pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
        db.session.commit()
        pair_id, mentee_id = pair.id, mentee.id
    b = _as(app, "declineur@test.example.org")
    page = f"/tuteur/binome/{pair_id}"
    r = b.post(
        f"/tuteur/binome/{pair_id}/reponse",
        {"answer-decision": "decline"},
        prefix="answer",
        page=page,
    )
    assert r.status_code == 422 and "raison du refus" in r.get_data(as_text=True)
    r = b.post(
        f"/tuteur/binome/{pair_id}/reponse",
        {"answer-decision": "decline", "answer-reason": "other"},
        prefix="answer",
        page=page,
    )
    assert r.status_code == 422 and "Précisez" in r.get_data(as_text=True)
    r = b.post(
        f"/tuteur/binome/{pair_id}/reponse",
        {"answer-decision": "decline", "answer-reason": "too_far"},
        prefix="answer",
        page=page,
    )
    assert r.status_code == 302
    with app.app_context():
        assert (
            db.session.scalars(
                select(TutoringRequest).where(TutoringRequest.mentee_id == mentee_id)
            )
            .one()
            .status
            == "open"
        )


@pytest.mark.parametrize("email", ["a\x00b@example.org", "x" * 20_000, "' OR 1=1 --", ""])
def test_hostile_login(app, email):
    b = Browser(app.test_client())
    r = b.login(email, "\x00" + "y" * 300)
    assert r.status_code in (401, 422)
    assert (
        "incorrect" in r.get_data(as_text=True)
        or "invisibles" in r.get_data(as_text=True)
        or "obligatoire" in r.get_data(as_text=True)
        or "254 caractères" in r.get_data(as_text=True)
    )


@pytest.mark.parametrize(
    "path",
    [
        "/referent/demandes/99999999999999999999",
        "/referent/binomes/2147483648",
        "/referent/beneficiaires/-1",
        "/tuteur/binome/0",
    ],
)
def test_huge_or_odd_ids_are_404(app, people, path):
    b = _as(app, people["referent"] if path.startswith("/referent") else people["tutor"])
    assert b.client.get(path).status_code == 404


def test_html_payload_is_escaped(app, people):
    b = _as(app, people["referent"])
    url = f"/referent/beneficiaires/{people['mentee_id']}"
    payload = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    r = b.post(url, {"note-social_note": payload}, prefix="note", page=url)
    assert r.status_code == 302
    html = b.client.get(url).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


@pytest.mark.parametrize(
    "q",
    [
        "\x00",
        "%",
        "_",
        "' OR 1=1 --",
        "x" * 5000,
        "é" * 100,
        "🙂🏡 auch",
        "\u202eשלום עולם",
        "مرحبا",
        "auch\x00jourdain",
        "\ufeff\u200b",
        "32",
        "9" * 400,
        "st " * 300,
    ],
)
def test_api_lookups_never_fail(app, people, q):
    b = _as(app, people["mentee"])
    for endpoint in ("/api/communes", "/api/metiers"):
        r = b.client.get(endpoint, query_string={"q": q})
        assert r.status_code == 200 and isinstance(r.get_json(), list)


def test_a_nul_byte_in_a_search_is_a_400(app):
    """PostgreSQL refuses NUL in a text value: each search says so instead of failing (500)."""
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, remote_ok=True)
        tutoring_request = request_service.open_request(
            mentee, actor=referent, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.commit()
        email, request_id = referent.email, tutoring_request.id
    b = _as(app, email)
    for url in (
        "/referent/?nom=Ju%00lie",
        "/referent/beneficiaires?q=Ju%00lie",
        f"/referent/demandes/{request_id}?tuteur=Ma%00rc",
    ):
        r = b.client.get(url)
        assert r.status_code == 400, url
    assert "caractère non autorisé" in b.client.get("/referent/?nom=%00").get_data(as_text=True)


@pytest.mark.parametrize("digits", ["¹", "²", "٣", "１"])  # str.isdigit() says yes, int() says no
def test_unicode_digits_in_page_numbers_are_not_a_500(app, people, digits):
    """Found by the query-string fuzz: « ?page=¹ » passed isdigit() and broke int() (500)."""
    b = _as(app, people["referent"])
    for url in (
        f"/referent/?page={digits}",
        f"/referent/?statut=attente&page={digits}",
        f"/referent/beneficiaires?page={digits}",
    ):
        assert b.get(url).status_code < 500, url
    admin = _as(app, people["admin"])
    assert admin.get(f"/admin/beneficiaires?page={digits}&referent={digits}").status_code < 500
