"""Role × route matrix over every route of app.url_map: a new route without an entry fails."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import Browser
from tests.factories import PASSWORD, make_admin, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import Meeting, Pair, TutoringRequest
from tutorat.services import imports, vetting
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service

ROLES = ("anonymous", "mentee", "tutor", "referent", "admin")
LOGIN = 302  # anonymous → login page
OK, FORBIDDEN, MISSING, NOT_ALLOWED = 200, 403, 404, 405


def _only(role: str, ok: int = OK) -> dict[str, int]:
    out = {r: FORBIDDEN for r in ROLES}
    out["anonymous"] = LOGIN
    out[role] = ok
    return out


EVERYONE = dict.fromkeys(ROLES, OK)
LOGGED_IN_REDIRECT = {
    "anonymous": LOGIN,
    "mentee": 302,
    "tutor": 302,
    "referent": 302,
    "admin": 302,
}
API = {"anonymous": LOGIN, "mentee": OK, "tutor": OK, "referent": OK, "admin": OK}
STAFF = {"anonymous": LOGIN, "mentee": FORBIDDEN, "tutor": FORBIDDEN, "referent": OK, "admin": OK}

# GET routes: expected status per role, on the role's own objects.
GET_MATRIX: dict[str, dict[str, int]] = {
    "main.index": EVERYONE,
    "main.about": EVERYONE,
    "main.accessibility": EVERYONE,
    "main.privacy": EVERYONE,
    "main.report_problem": EVERYONE,
    "main.my_space": LOGGED_IN_REDIRECT,
    "auth.login": {"anonymous": OK, "mentee": 302, "tutor": 302, "referent": 302, "admin": 302},
    "auth.set_password": dict.fromkeys(ROLES, 410),  # a forged token: « déjà servi », not a 404
    "api.communes": API,
    "api.metiers": API,
    "mentee.home": _only("mentee"),
    "mentee.profile": _only("mentee"),
    "mentee.new_request": _only("mentee", 302),  # own demande already open → redirect home
    "mentee.pair": _only("mentee"),
    "tutor.home": _only("tutor"),
    "tutor.profile": _only("tutor"),
    "tutor.pair": _only("tutor"),
    "tutor.new_meeting": _only("tutor"),
    "referent.dashboard": _only("referent"),
    "referent.request_detail": _only("referent"),
    "referent.request_left_out": _only("referent"),
    "referent.pair": _only("referent"),
    "referent.end": _only("referent"),  # the form ending a binôme
    "referent.mentees": _only("referent"),
    "referent.new_mentee": _only("referent"),
    "referent.mentee": _only("referent"),
    "referent.mentee_profile": _only("referent"),
    "referent.mentee_request": _only("referent"),
    "referent.mentee_contact": _only("referent"),
    "referent.letters": _only("referent"),
    # No letter pending in this world: the page says so (404), never another's letters.
    "referent.letters_pdf": {**_only("referent"), "referent": MISSING},
    "referent.letter_pdf": {**_only("referent"), "referent": MISSING},
    "account.contact_details": API,
    "main.unsubscribe": dict.fromkeys(ROLES, MISSING),  # with a forged token
    "indicators.home": STAFF,
    "indicators.shortage_page": STAFF,
    "indicators.communes": STAFF,
    "indicators.territories": STAFF,
    "indicators.table_page": STAFF,
    "indicators.export": STAFF,
    "indicators.fairness_page": STAFF,
    "indicators.fairness_export": STAFF,
    "indicators.checkins_page": STAFF,
    "indicators.checkins_export": STAFF,
    "account.settings": API,
    "account.my_data": API,
    "account.my_data_json": API,
    "main.algorithm": EVERYONE,
    "admin.access_log": _only("admin"),
    "admin.erasures": _only("admin"),
    "admin.weights": _only("admin"),
    "admin.min_score": _only("admin"),
    "admin.learned": _only("admin"),
    "referent.explanation": _only("referent"),
    "mentee.explanation": _only("mentee"),
    "tutor.explanation": _only("tutor"),
    "referent.explanation_pdf": _only("referent"),
    "referent.pair_summary_pdf": _only("referent"),
    "mentee.explanation_pdf": _only("mentee"),
    "tutor.explanation_pdf": _only("tutor"),
    "account.change_password": API,
    "auth.forgot_password": {
        "anonymous": OK,
        "mentee": OK,
        "tutor": OK,
        "referent": OK,
        "admin": OK,
    },
    "admin.home": _only("admin"),
    "admin.accounts_list": _only("admin"),
    "admin.new_account": _only("admin"),
    "admin.emails": _only("admin"),
    "health.health": EVERYONE,  # the load balancer's probe: no login
    "admin.beneficiaries": _only("admin"),
    "admin.referents": _only("admin"),
    "admin.transfer": _only("admin"),
    "caseload.upload": STAFF,
    "caseload.sample": STAFF,
    # A file is seen only by who uploaded it (here the référent "ours"): the admin gets a 404.
    "caseload.preview": {**STAFF, "admin": MISSING},
    "caseload.report": {**STAFF, "admin": MISSING},
    # Pause, ask to stop, report a problem (services/voices.py).
    "mentee.pair_voice_page": _only("mentee"),
    "tutor.pair_voice_page": _only("tutor"),
    # Tutor applications: the public form and charter; vetting is the administration's only.
    "apply.form": EVERYONE,
    "apply.thanks": EVERYONE,
    "apply.charter": EVERYONE,
    "applications.index": _only("admin"),
    "applications.detail": _only("admin"),
    "recruit.suggest": _only("referent"),
    "tutor.leave": _only("tutor"),
    # Correcting a meeting (GET shows the form, POST corrects it).
    "tutor.edit_meeting": _only("tutor"),
    # Issue 17, the rest: the attestation once the binôme has ended (here it runs: 404), the public
    # form's typing suggestions, an applicant's withdrawal link (here a forged one: 404).
    "tutor.attestation_pdf": {**_only("tutor"), "tutor": MISSING},
    "admin.tutor_attestation": {**_only("admin"), "admin": MISSING},
    "apply.communes": EVERYONE,
    "apply.metiers": EVERYONE,
    "apply.withdraw": dict.fromkeys(ROLES, MISSING),
    "indicators.recruitment": {**STAFF, "referent": FORBIDDEN},
    "indicators.recruitment_export": {**STAFF, "referent": FORBIDDEN},
}
# POST-only routes: the role allowed to call them (others: 403, anonymous: login).
POST_ONLY: dict[str, str | None] = {
    "auth.logout": None,
    "account.request_erasure": None,
    "admin.anonymise": "admin",
    "admin.deactivate": "admin",
    "mentee.cancel_request": "mentee",
    "mentee.confirm_meeting": "mentee",
    "tutor.answer": "tutor",
    "tutor.wish": "tutor",
    "referent.propose": "referent",
    "referent.propose_outside": "referent",
    "referent.waiting_list": "referent",
    "referent.leave_waiting_list": "referent",
    "referent.mentee_answer": "referent",
    "referent.confirm": "referent",
    "referent.withdraw": "referent",
    "admin.validate_tutor": "admin",
    "admin.retry_email": "admin",
    "referent.letters_sent": "referent",
    "admin.retry_sms": "admin",
    "main.sms_inbound": None,  # public, behind a secret address: test_letters_sms checks it
    "admin.adopt_weights": "admin",
    "mentee.resume": "mentee",
    "tutor.resume": "tutor",
    "referent.resume": "referent",
    "referent.handle_report": "referent",
    "mentee.answer_check_in": "mentee",
    "tutor.answer_check_in": "tutor",
    "mentee.add_goal": "mentee",
    "mentee.mark_goal": "mentee",
    "tutor.mark_goal": "tutor",
    "applications.check": "admin",
    "applications.validate": "admin",
    "applications.refuse": "admin",
    "tutor.accept_charter": "tutor",
    "referent.check_in_answer": "referent",
    "tutor.delete_meeting": "tutor",
    "tutor.next_meeting": "tutor",
    "tutor.cancel_next_meeting": "tutor",
    "mentee.help_later": "mentee",
    "referent.help_later": "referent",
    "account.withdraw_help_later": "mentee",
    "applications.loop_setting": "admin",
}
# Routes with an object: which are scoped (someone else's object must be a 404).
SCOPED = {
    "referent.request_left_out": "referent",
    "mentee.pair": "mentee",
    "tutor.pair": "tutor",
    "tutor.new_meeting": "tutor",
    "referent.request_detail": "referent",
    "referent.pair": "referent",
    "referent.end": "referent",
    "referent.mentee": "referent",
    "referent.mentee_profile": "referent",
    "referent.mentee_request": "referent",
    "referent.mentee_contact": "referent",
    "referent.explanation": "referent",
    "mentee.explanation": "mentee",
    "tutor.explanation": "tutor",
    "caseload.preview": "referent",
    "caseload.report": "referent",
    "mentee.pair_voice_page": "mentee",
    "tutor.pair_voice_page": "tutor",
    "tutor.edit_meeting": "tutor",
    "tutor.attestation_pdf": "tutor",
}


def test_every_route_has_an_entry(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    missing = endpoints - set(GET_MATRIX) - set(POST_ONLY)
    assert not missing, f"routes sans entrée dans la matrice des droits : {sorted(missing)}"


@pytest.fixture
def world(app):
    """Two of each: the objects of 'ours' and of 'theirs' (same roles, other people)."""
    with app.app_context():
        out = {}
        for side in ("ours", "theirs"):
            referent = make_referent()
            mentee = make_mentee(referent, remote_ok=True)
            tutor = make_tutor(remote_ok=True)
            db.session.flush()
            tutoring_request = request_service.open_request(
                mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
            )
            db.session.flush()
            pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
            pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
            pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
            pair_service.confirm(pair, actor=referent)
            db.session.flush()
            db.session.add(
                Meeting(
                    pair_id=pair.id,
                    logged_by_id=tutor.id,
                    date=pair.proposed_at.date(),
                    duration_minutes=30,
                    mode="video",
                )
            )
            # A second, open demande to look at in the référent's queue.
            other = make_mentee(referent)
            request_service.open_request(
                other, actor=referent, topics=["cv"], meeting_modes=["video"], message="Bonjour"
            )
            db.session.flush()
            upload = imports.upload(
                "nom;prénom;commune\r\nLefèvre;Hélène;Auch\r\n".encode(),
                "liste.csv",
                actor=referent,
                referent=None,
            )
            out[side] = {
                "import": upload.id,
                "referent": referent.email,
                "mentee": mentee.email,
                "tutor": tutor.email,
                "pair": pair.id,
                "mentee_id": mentee.id,
                "meeting": db.session.scalar(select(Meeting.id).where(Meeting.pair_id == pair.id)),
                "request": db.session.scalar(
                    select(TutoringRequest.id).where(TutoringRequest.mentee_id == other.id)
                ),
                "tutor_id": tutor.id,
                "application": vetting.open_for_account(
                    make_tutor(validated=False), actor=referent
                ).id,
            }
        out["admin"] = make_admin().email
        db.session.commit()
        assert (
            db.session.scalar(select(Pair.status).where(Pair.id == out["ours"]["pair"])) == "active"
        )
    return out


def _url(app, endpoint: str, objs: dict) -> str:
    args = {
        "mentee.pair": {"pair_id": objs["pair"]},
        "tutor.pair": {"pair_id": objs["pair"]},
        "referent.explanation": {"pair_id": objs["pair"]},
        "mentee.explanation": {"pair_id": objs["pair"]},
        "tutor.explanation": {"pair_id": objs["pair"]},
        "referent.explanation_pdf": {"pair_id": objs["pair"]},
        "referent.pair_summary_pdf": {"pair_id": objs["pair"]},
        "mentee.explanation_pdf": {"pair_id": objs["pair"]},
        "tutor.explanation_pdf": {"pair_id": objs["pair"]},
        "admin.anonymise": {"user_id": objs["tutor_id"]},
        "admin.deactivate": {"user_id": objs["tutor_id"]},
        "tutor.new_meeting": {"pair_id": objs["pair"]},
        "referent.pair": {"pair_id": objs["pair"]},
        "referent.request_detail": {"request_id": objs["request"]},
        "referent.request_left_out": {"request_id": objs["request"]},
        "referent.mentee": {"user_id": objs["mentee_id"]},
        "referent.mentee_profile": {"user_id": objs["mentee_id"]},
        "referent.mentee_request": {"user_id": objs["mentee_id"]},
        "referent.mentee_contact": {"user_id": objs["mentee_id"]},
        "referent.letter_pdf": {"letter_id": 999999},
        "main.unsubscribe": {"token": "jeton-invalide"},
        "main.sms_inbound": {"token": "jeton-invalide"},
        "auth.set_password": {"token": "jeton-invalide"},
        "indicators.export": {"table": "cantons"},
        "indicators.table_page": {"table": "cantons"},
        "mentee.cancel_request": {"request_id": objs["request"]},
        "mentee.confirm_meeting": {
            "pair_id": objs["pair"],
            "meeting_id": objs["meeting"],
            "choice": "confirmer",
        },
        "tutor.answer": {"pair_id": objs["pair"]},
        "tutor.wish": {"pair_id": objs["pair"]},
        "referent.propose": {"request_id": objs["request"]},
        "referent.propose_outside": {"request_id": objs["request"]},
        "referent.waiting_list": {"request_id": objs["request"]},
        "referent.leave_waiting_list": {"request_id": objs["request"]},
        "referent.mentee_answer": {"pair_id": objs["pair"]},
        "referent.confirm": {"pair_id": objs["pair"]},
        "referent.withdraw": {"pair_id": objs["pair"]},
        "referent.end": {"pair_id": objs["pair"]},
        "admin.validate_tutor": {"user_id": objs["tutor_id"]},
        "admin.retry_email": {"email_id": 1},
        "admin.retry_sms": {"sms_id": 1},
        "caseload.preview": {"import_id": objs["import"]},
        "caseload.report": {"import_id": objs["import"]},
        "mentee.pair_voice_page": {"pair_id": objs["pair"], "what": "signaler"},
        "tutor.pair_voice_page": {"pair_id": objs["pair"], "what": "signaler"},
        "mentee.resume": {"pair_id": objs["pair"]},
        "tutor.resume": {"pair_id": objs["pair"]},
        "referent.resume": {"pair_id": objs["pair"]},
        "referent.handle_report": {"pair_id": objs["pair"], "report_id": 1},
        "mentee.answer_check_in": {"pair_id": objs["pair"], "check_in_id": 1},
        "tutor.answer_check_in": {"pair_id": objs["pair"], "check_in_id": 1},
        "mentee.add_goal": {"pair_id": objs["pair"]},
        "mentee.mark_goal": {"pair_id": objs["pair"], "goal_id": 1},
        "tutor.mark_goal": {"pair_id": objs["pair"], "goal_id": 1},
        "referent.check_in_answer": {"pair_id": objs["pair"], "check_in_id": 1},
        "tutor.edit_meeting": {"pair_id": objs["pair"], "meeting_id": objs["meeting"]},
        "tutor.delete_meeting": {"pair_id": objs["pair"], "meeting_id": objs["meeting"]},
        "tutor.next_meeting": {"pair_id": objs["pair"]},
        "tutor.cancel_next_meeting": {"pair_id": objs["pair"]},
        "applications.detail": {"application_id": objs["application"]},
        "applications.check": {"application_id": objs["application"], "item": "identity"},
        "applications.validate": {"application_id": objs["application"]},
        "applications.refuse": {"application_id": objs["application"]},
        "tutor.attestation_pdf": {"pair_id": objs["pair"]},
        "admin.tutor_attestation": {"pair_id": objs["pair"]},
        "apply.withdraw": {"token": "jeton-invalide"},
        "mentee.help_later": {"pair_id": objs["pair"]},
        "referent.help_later": {"pair_id": objs["pair"]},
        "indicators.recruitment_export": {"table": "recrutement-cantons"},
    }.get(endpoint, {})
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **args)


def _client(app, world, role: str) -> Browser:
    b = Browser(app.test_client())
    if role != "anonymous":
        email = world["admin"] if role == "admin" else world["ours"][role]
        assert b.login(email, PASSWORD).status_code == 302
    return b


@pytest.mark.parametrize("role", ROLES)
def test_get_matrix(app, world, role):
    b = _client(app, world, role)
    failures = []
    for endpoint, expected in GET_MATRIX.items():
        url = _url(app, endpoint, world["ours"])
        status = b.client.get(url).status_code
        if status != expected[role]:
            failures.append(f"{endpoint} {url}: {status} au lieu de {expected[role]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("endpoint", sorted(SCOPED))
def test_someone_elses_object_is_a_404(app, world, endpoint):
    b = _client(app, world, SCOPED[endpoint])
    assert b.client.get(_url(app, endpoint, world["theirs"])).status_code == MISSING


@pytest.mark.parametrize("role", ROLES)
def test_post_only_routes(app, world, role):
    b = _client(app, world, role)
    b.get("/connexion" if role == "anonymous" else "/")
    failures = []
    for endpoint, allowed in POST_ONLY.items():
        url = _url(app, endpoint, world["ours"])
        if b.client.get(url).status_code != NOT_ALLOWED:
            failures.append(f"GET {endpoint} devrait être refusé (405)")
        if allowed is None or role == allowed:
            continue
        status = b.post(url, {}).status_code
        expected = LOGIN if role == "anonymous" else FORBIDDEN
        if status != expected:
            failures.append(f"POST {endpoint} par {role}: {status} au lieu de {expected}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "endpoint",
    [
        "tutor.answer",
        "tutor.wish",
        "referent.confirm",
        "referent.withdraw",
        "referent.end",
        "referent.mentee_answer",
        "mentee.confirm_meeting",
        "referent.propose",
        "referent.propose_outside",
        "referent.waiting_list",
        "referent.leave_waiting_list",
        "mentee.resume",
        "tutor.resume",
        "referent.resume",
        "referent.handle_report",
        "mentee.pair_voice_page",
        "tutor.pair_voice_page",
        "mentee.answer_check_in",
        "tutor.answer_check_in",
        "mentee.add_goal",
        "mentee.mark_goal",
        "tutor.mark_goal",
        "referent.check_in_answer",
        "tutor.delete_meeting",
        "tutor.next_meeting",
        "tutor.cancel_next_meeting",
        "mentee.help_later",
        "referent.help_later",
    ],
)
def test_scoped_post_on_someone_elses_object_is_a_404(app, world, endpoint):
    b = _client(app, world, POST_ONLY.get(endpoint) or SCOPED[endpoint])
    b.get("/")
    assert b.post(_url(app, endpoint, world["theirs"]), {}).status_code == MISSING


def test_post_without_csrf_is_refused(app, world):
    b = _client(app, world, "referent")
    r = b.client.post(_url(app, "referent.withdraw", world["ours"]), data={})
    assert r.status_code == 400
    assert "jeton de sécurité" in r.get_data(as_text=True)
