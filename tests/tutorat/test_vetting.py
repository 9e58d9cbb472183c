"""Tutor applications: the public form and its anti-spam, the checklist, validation, refusal, invitations."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import PASSWORD, make_admin, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import (
    ApplicationEvent,
    ApplicationSource,
    ApplicationStatus,
    ChecklistItem,
    OutboxEmail,
    Pair,
    PairStatus,
    Role,
    TutorApplication,
    TutorProfile,
    User,
)
from tutorat.services import charter, suggestions, vetting
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service
from tutorat.services.errors import Conflict, DomainError

FORM = "/devenir-tuteur"


def _started(seconds_ago: float = 30) -> str:
    return vetting.form_started_token(now=time.time() - seconds_ago)


def _answers(app, **overrides) -> dict:
    with app.app_context():
        started = _started()
    data = {
        "first_name": "Nadia",
        "last_name": "Bernès",
        "email": "nadia.bernes@test.example.org",
        "phone": "06 11 22 33 44",
        "commune": "32013",  # Auch
        "metier": "J1501",
        "slots": ["5", "15"],
        "capacity": "2",
        "has_car": "yes",
        "max_km": "25",
        "remote_ok": "y",
        "obstacles": ["childcare"],
        "experience_note": "Deux ans au RSA, puis une formation d'aide-soignante.",
        "charter": "y",
        "consent": "y",
        "website": "",
        "started": started,
    }
    data.update(overrides)
    return data


def _apply(app, client, **overrides):
    b = Browser(client)
    b.get(FORM)
    return b.post(FORM, _answers(app, **overrides))


def _applications(app) -> list[TutorApplication]:
    with app.app_context():
        return list(db.session.scalars(select(TutorApplication).order_by(TutorApplication.id)))


def _emails(app, kind: str) -> list[OutboxEmail]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind)))


def _login(client, email: str) -> Browser:
    b = Browser(client)
    assert b.login(email, PASSWORD).status_code == 302
    return b


# ---- The public form ----


def test_home_page_links_to_the_application(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/devenir-tuteur"' in html


def test_apply_without_an_account(app, client):
    r = _apply(app, client)
    assert r.status_code == 302 and r.headers["Location"].endswith("/devenir-tuteur/merci")
    [application] = _applications(app)
    assert application.status == ApplicationStatus.TO_REVIEW
    assert application.source == ApplicationSource.PUBLIC
    assert application.email == "nadia.bernes@test.example.org"
    assert application.commune_code == "32013" and application.metier_code == "J1501"
    assert application.availability == (1 << 5) | (1 << 15)
    assert application.capacity == 2 and application.obstacles == "childcare"
    assert application.charter_version == charter.CURRENT_VERSION
    assert application.consent_at is not None
    # Nobody has an account before validation.
    with app.app_context():
        assert not db.session.scalar(
            select(func.count()).where(User.email == "nadia.bernes@test.example.org")
        )
        events = db.session.scalars(
            select(ApplicationEvent).where(ApplicationEvent.application_id == application.id)
        ).all()
    assert [(e.to_status, e.item) for e in events] == [
        (ApplicationStatus.TO_REVIEW.value, None),
        (None, ChecklistItem.CHARTER),
    ]
    [email] = _emails(app, "application_received")
    assert email.recipient == "nadia.bernes@test.example.org"
    assert "Nadia" in email.body_text and "bulletin n° 3" in email.body_text
    assert "http://localhost/charte-des-tuteurs" in email.body_text


@pytest.mark.parametrize(
    "overrides",
    [
        {"email": "nadia.bernes@test.example.org"},  # same email
        {"email": "autre@test.example.org", "phone": "+33 6 11 22 33 44"},  # same phone
        {"email": "NADIA.Bernes@test.example.org"},  # same email, typed differently
    ],
)
def test_applying_twice_gives_the_same_answer_and_no_duplicate(app, client, overrides):
    assert _apply(app, client).status_code == 302
    again = _apply(app, client, **overrides)
    assert again.status_code == 302 and again.headers["Location"].endswith("/merci")
    assert len(_applications(app)) == 1
    assert len(_emails(app, "application_received")) == 1


def test_an_existing_account_is_not_told_apart(app, client):
    with app.app_context():
        make_tutor(email="deja@test.example.org")
        db.session.commit()
    r = _apply(app, client, email="deja@test.example.org", phone="")
    assert r.status_code == 302 and r.headers["Location"].endswith("/merci")
    assert _applications(app) == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"website": "http://spam.example.com"},  # the honeypot
        {"started": "FAST"},  # replaced below by a token of now: sent in under 3 s
        {"started": "pas-un-jeton"},  # forged
        {"started": ""},  # missing
    ],
)
def test_bots_are_thanked_and_nothing_is_kept(app, client, overrides):
    if overrides.get("started") == "FAST":
        with app.app_context():
            overrides = {"started": _started(seconds_ago=1)}
    r = _apply(app, client, **overrides)
    assert r.status_code == 302 and r.headers["Location"].endswith("/merci")
    assert _applications(app) == []
    assert _emails(app, "application_received") == []


def test_a_token_signed_with_another_key_is_a_bot(app):
    with app.app_context():
        token = vetting.form_started_token(now=time.time() - 60)
        assert not vetting.looks_like_a_bot("", token)
        assert vetting.looks_like_a_bot("", token[:-2] + "xx")
        assert vetting.looks_like_a_bot(" x ", token)
        # A form left open for hours (a person who took their time) is not a bot.
        assert not vetting.looks_like_a_bot("", vetting.form_started_token(now=time.time() - 9e4))
        # A start time in the future cannot be typed by a person either.
        assert vetting.looks_like_a_bot("", vetting.form_started_token(now=time.time() + 60))


def test_unknown_commune_and_metier_offer_close_matches(app, client):
    r = _apply(app, client, commune="Aucch", metier="boulangre")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    # « Vouliez-vous dire … ? »: the closest choices as radio buttons (forms.SuggestedField).
    assert "Commune inconnue" in html or 'name="commune_choix"' in html
    assert 'name="metier_choix"' in html or "Métier introuvable" in html
    assert _applications(app) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"charter": ""}, "Lisez la charte"),
        ({"consent": ""}, "Cochez la case pour que nous puissions"),
        ({"email": ""}, "Indiquez votre adresse électronique"),
        ({"email": "pas-une-adresse"}, "Adresse électronique invalide"),
        ({"slots": []}, "Cochez au moins un moment"),
        ({"capacity": "7"}, "Choisissez une des options de la liste"),
        ({"phone": "12"}, "Numéro de téléphone invalide"),
        ({"first_name": "Na\ndia"}, "une seule ligne"),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_kept(app, client, overrides, message):
    r = _apply(app, client, **overrides)
    assert r.status_code == 422
    assert message.lower() in r.get_data(as_text=True).lower()
    assert _applications(app) == []


def test_fifty_applications_from_one_address_in_a_minute_are_refused(app, client):
    app.config["APPLY_RATE_LIMIT"] = "10 per minute"
    try:
        b = Browser(app.test_client())
        b.client.environ_base["REMOTE_ADDR"] = "198.51.100.50"
        b.get(FORM)
        statuses = [
            b.post(
                FORM, _answers(app, email=f"bot{i}@test.example.org", phone="", website="x")
            ).status_code
            for i in range(50)
        ]
    finally:
        app.config["APPLY_RATE_LIMIT"] = "100000 per minute"
    assert statuses[:10] == [302] * 10
    assert set(statuses[10:]) == {429}
    assert _applications(app) == []
    # Another address is not blocked.
    assert _apply(app, client).status_code == 302


def test_the_charter_page_is_public_and_versioned(client):
    r = client.get("/charte-des-tuteurs")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and f"Version {charter.CURRENT_VERSION}" in html
    assert "bulletin n° 3" in html
    assert client.get("/charte-des-tuteurs?version=99").status_code == 404
    assert client.get("/charte-des-tuteurs?version=abc").status_code == 404


# ---- Vetting ----


@pytest.fixture
def admin_browser(app, client):
    with app.app_context():
        email = make_admin().email
        db.session.commit()
    return _login(client, email)


def _one(app) -> TutorApplication:
    [application] = _applications(app)
    return application


def test_the_whole_journey_apply_vet_validate_propose(app, client):
    assert _apply(app, client).status_code == 302
    application = _one(app)
    with app.app_context():
        admin_email = make_admin(first_name="Claire", last_name="Dufaur").email
        referent = make_referent()
        mentee = make_mentee(referent, commune="32013", metiers="J1501")
        referent_id, mentee_id = referent.id, mentee.id
        db.session.commit()
    admin = _login(app.test_client(), admin_email)

    home = admin.get("/admin/").get_data(as_text=True)
    assert "1 candidature de tuteur à examiner" in home
    listing = admin.get("/admin/candidatures/").get_data(as_text=True)
    assert "Bernès Nadia" in listing and "Auch" in listing
    assert re.search(r'stats__value">1</span> à examiner', listing)
    page = f"/admin/candidatures/{application.id}"
    detail = admin.get(page).get_data(as_text=True)
    assert "nadia.bernes@test.example.org" in detail and "aide-soignante" in detail

    # « Valider » refuses an incomplete checklist, naming what is missing.
    r = admin.post(f"{page}/valider", {}, page=page)
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "identité vérifiée" in html and "bulletin n° 3" in html
    assert "information suivie" in html
    assert "charte" not in html.split("il manque", 1)[1].split(".", 1)[0]

    today = date.today()
    # A date in the future is refused.
    r = admin.post(
        f"{page}/verification/identity",
        {"identity-day": (today + timedelta(days=3)).isoformat()},
        page=page,
    )
    assert r.status_code == 422 and "futur" in r.get_data(as_text=True)
    # The charter is the person's own act: no route records it for them.
    assert admin.post(f"{page}/verification/charter", {}, page=page).status_code == 404
    for item in ("identity", "criminal_record", "info_meeting"):
        r = admin.post(f"{page}/verification/{item}", {f"{item}-day": today.isoformat()}, page=page)
        assert r.status_code == 302, item

    r = admin.post(f"{page}/valider", {}, page=page)
    assert r.status_code == 302
    with app.app_context():
        application = db.session.get_one(TutorApplication, application.id)
        assert application.status == ApplicationStatus.VALIDATED
        tutor = db.session.get_one(User, application.tutor_id)
        profile = db.session.get_one(TutorProfile, tutor.id)
        assert tutor.role == Role.TUTOR and tutor.email == "nadia.bernes@test.example.org"
        assert profile.validated_at is not None
        assert profile.commune_code == "32013" and profile.metier_code == "J1501"
        assert profile.capacity == 2 and profile.charter_version == charter.CURRENT_VERSION
        assert application.identity_checked_by.full_name == "Claire Dufaur"
        steps = db.session.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == application.id)
            .order_by(ApplicationEvent.id)
        ).all()
        assert [s.item or s.to_status for s in steps] == [
            ApplicationStatus.TO_REVIEW,
            ChecklistItem.CHARTER,
            ChecklistItem.IDENTITY,
            ChecklistItem.CRIMINAL_RECORD,
            ChecklistItem.INFO_MEETING,
            ApplicationStatus.VALIDATED,
        ]
        # The first proposal to the new tutor: they are in the référent's ranking.
        referent = db.session.get_one(User, referent_id)
        tutoring_request = request_service.open_request(
            db.session.get_one(User, mentee_id),
            actor=referent,
            topics=["cv"],
            meeting_modes=["in_person"],
            message="Bonjour",
        )
        db.session.flush()
        ranked = [c.tutor.id for c in suggestions.candidates_for(tutoring_request)[0]]
        assert tutor.id in ranked
        pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
        db.session.commit()
        assert db.session.get_one(Pair, pair.id).tutor_id == tutor.id
    [validated] = _emails(app, "application_validated")
    assert validated.recipient == "nadia.bernes@test.example.org"
    link = re.search(r"http://localhost/mot-de-passe/\S+", validated.body_text)
    assert link, validated.body_text
    # Validating twice is a conflict, not a second account.
    assert admin.post(f"{page}/valider", {}, page=page).status_code == 409


def test_the_job_title_picked_on_the_form_goes_to_the_new_tutors_profile(app, client):
    title = "Aide-soignant / Aide-soignante en gériatrie"
    assert _apply(app, client, metier=f"{title} — J1501").status_code == 302
    application = _one(app)
    assert (application.metier_code, application.metier_title) == ("J1501", title)
    with app.app_context():
        admin_email = make_admin().email
        db.session.commit()
    admin = _login(app.test_client(), admin_email)
    page = f"/admin/candidatures/{application.id}"
    detail = admin.get(page).get_data(as_text=True)
    assert title in detail and "ROME J1501" in detail
    assert title in admin.get("/admin/candidatures/").get_data(as_text=True)
    today = date.today().isoformat()
    for item in ("identity", "criminal_record", "info_meeting"):
        r = admin.post(f"{page}/verification/{item}", {f"{item}-day": today}, page=page)
        assert r.status_code == 302, item
    assert admin.post(f"{page}/valider", {}, page=page).status_code == 302
    with app.app_context():
        tutor_id = db.session.get_one(TutorApplication, application.id).tutor_id
        profile = db.session.get_one(TutorProfile, tutor_id)
        assert (profile.metier_code, profile.metier_title) == ("J1501", title)
        assert profile.metier_shown == title


def test_refusal_needs_a_reason_and_emails_it(app, client, admin_browser):
    assert _apply(app, client).status_code == 302
    page = f"/admin/candidatures/{_one(app).id}"
    r = admin_browser.post(f"{page}/refuser", {"reason": "non"}, page=page)
    assert r.status_code == 422
    assert _one(app).status == ApplicationStatus.TO_REVIEW
    reason = "Nous ne recrutons pas de tuteurs dans votre canton pour le moment."
    r = admin_browser.post(f"{page}/refuser", {"reason": reason}, page=page)
    assert r.status_code == 302
    application = _one(app)
    assert application.status == ApplicationStatus.REFUSED
    assert application.refusal_reason == reason
    [email] = _emails(app, "application_refused")
    assert email.recipient == "nadia.bernes@test.example.org" and reason in email.body_text
    # Decided: neither validated nor refused again.
    assert admin_browser.post(f"{page}/valider", {}, page=page).status_code == 409
    # Refused, the person may apply again later (it is no longer in progress).
    assert _apply(app, client).status_code == 302
    assert len(_applications(app)) == 2


def test_filters_of_the_list(app, client, admin_browser):
    assert _apply(app, client).status_code == 302  # Auch, J1501
    assert (
        _apply(
            app,
            client,
            first_name="Paul",
            last_name="Lacoste",
            email="paul@test.example.org",
            phone="06 99 88 77 66",
            commune="32107",
            metier="K2204",
        ).status_code
        == 302
    )
    with app.app_context():
        auch_canton = db.session.scalar(
            select(TutorApplication.commune_code).where(TutorApplication.email.like("nadia%"))
        )
        from tutorat.models import Commune

        canton = db.session.get_one(Commune, auch_canton).canton_code
    by_canton = admin_browser.get(f"/admin/candidatures/?canton={canton}").get_data(as_text=True)
    assert "Nadia" in by_canton
    by_domain = admin_browser.get("/admin/candidatures/?domaine=K").get_data(as_text=True)
    assert "Lacoste Paul" in by_domain and "Nadia" not in by_domain
    old = admin_browser.get("/admin/candidatures/?age=plus").get_data(as_text=True)
    assert "Nadia" not in old and "Aucune candidature" in old
    assert (
        admin_browser.get("/admin/candidatures/?age=7")
        .get_data(as_text=True)
        .count("/admin/candidatures/")
        >= 2
    )
    for bad in ("statut=nimporte", "canton=';drop", "domaine=ZZ", "age=1000"):
        assert admin_browser.get(f"/admin/candidatures/?{bad}").status_code == 400


def test_an_admin_created_tutor_goes_through_the_checklist(app, client, admin_browser):
    r = admin_browser.post(
        "/admin/comptes/nouveau",
        {
            "role": "tutor",
            "first_name": "Luc",
            "last_name": "Abadie",
            "email": "luc.abadie@test.example.org",
        },
        page="/admin/comptes/nouveau",
    )
    assert r.status_code == 302
    with app.app_context():
        luc = db.session.scalars(
            select(User).where(User.email == "luc.abadie@test.example.org")
        ).one()
        assert db.session.get_one(TutorProfile, luc.id).validated_at is None
        application = vetting.open_application_of(luc)
        assert application is not None and application.source == ApplicationSource.ADMIN
        luc_id, application_id = luc.id, application.id
        # The password the invitation lets him choose, set here directly.
        from tutorat.services import accounts

        accounts.set_password(luc, PASSWORD)
        db.session.commit()
    assert r.headers["Location"].endswith(f"/admin/candidatures/{application_id}")
    # The old « Valider » of the accounts list goes through the checklist too.
    r = admin_browser.post(f"/admin/tuteurs/{luc_id}/valider", {}, page="/admin/")
    assert r.status_code == 303
    with app.app_context():
        assert db.session.get_one(TutorProfile, luc_id).validated_at is None
    page = f"/admin/candidatures/{application_id}"
    today = date.today().isoformat()
    for item in ("identity", "criminal_record", "info_meeting"):
        assert (
            admin_browser.post(f"{page}/verification/{item}", {f"{item}-day": today}, page=page)
        ).status_code == 302
    r = admin_browser.post(f"{page}/valider", {}, page=page)
    assert r.status_code == 409 and "charte" in r.get_data(as_text=True)
    # Luc accepts the charter online, from his account.
    luc_browser = _login(app.test_client(), "luc.abadie@test.example.org")
    home = luc_browser.get("/tuteur/").get_data(as_text=True)
    assert "Acceptez la charte des tuteurs" in home
    assert luc_browser.post("/tuteur/charte", {}, page="/tuteur/").status_code == 302
    assert "Acceptez la charte" not in luc_browser.get("/tuteur/").get_data(as_text=True)
    assert admin_browser.post(f"{page}/valider", {}, page=page).status_code == 302
    with app.app_context():
        assert db.session.get_one(TutorProfile, luc_id).validated_at is not None


def test_a_new_charter_version_asks_again(app, monkeypatch):
    with app.app_context():
        tutor = make_tutor(validated=False)
        admin = make_admin()
        application = vetting.open_for_account(tutor, actor=admin)
        vetting.accept_charter(tutor)
        for item in (
            ChecklistItem.IDENTITY,
            ChecklistItem.CRIMINAL_RECORD,
            ChecklistItem.INFO_MEETING,
        ):
            vetting.record_check(application, item, date.today(), actor=admin)
        assert vetting.missing_items(application) == []
        monkeypatch.setattr(charter, "VERSIONS", {**charter.VERSIONS, 2: date.today()})
        monkeypatch.setattr(charter, "CURRENT_VERSION", 2)
        assert vetting.missing_items(application) == [ChecklistItem.CHARTER]
        with pytest.raises(Conflict, match="charte"):
            vetting.validate(application, actor=admin)
        vetting.accept_charter(tutor)
        assert vetting.missing_items(application) == []
        vetting.validate(application, actor=admin)
        assert tutor.tutor_profile.charter_version == 2
        db.session.rollback()


def test_only_the_administration_vets(app):
    with app.app_context():
        referent = make_referent()
        admin = make_admin()
        application = vetting.open_for_account(make_tutor(validated=False), actor=admin)
        with pytest.raises(DomainError):
            vetting.record_check(application, ChecklistItem.IDENTITY, date.today(), actor=referent)
        with pytest.raises(DomainError):
            vetting.validate(application, actor=referent)
        with pytest.raises(DomainError):
            vetting.refuse(application, "Une raison assez longue.", actor=referent)
        db.session.rollback()


def test_applicants_are_seen_by_the_administration_only(app, client):
    assert _apply(app, client).status_code == 302
    application_id = _one(app).id
    with app.app_context():
        referent = make_referent()
        tutor = make_tutor()
        mentee = make_mentee(referent)
        emails = {"referent": referent.email, "tutor": tutor.email, "mentee": mentee.email}
        db.session.commit()
    for role, email in emails.items():
        b = _login(app.test_client(), email)
        for url in ("/admin/candidatures/", f"/admin/candidatures/{application_id}"):
            r = b.get(url)
            assert r.status_code == 403, (role, url)
            assert "Bernès" not in r.get_data(as_text=True)
        r = b.post(f"/admin/candidatures/{application_id}/valider", {}, page="/")
        assert r.status_code == 403, role
    anonymous = app.test_client()
    assert anonymous.get(f"/admin/candidatures/{application_id}").status_code == 302
    assert _one(app).status == ApplicationStatus.TO_REVIEW


# ---- A référent suggests someone ----


def test_a_referent_invites_someone_who_then_applies(app, client):
    with app.app_context():
        referent = make_referent(first_name="Sophie", last_name="Lamothe")
        db.session.commit()
        referent_email, referent_id = referent.email, referent.id
    b = _login(client, referent_email)
    page = "/referent/proposer-un-tuteur/"
    r = b.post(page, {"first_name": "Karim", "last_name": "Daudet", "email": ""}, page=page)
    assert r.status_code == 422
    person = {
        "first_name": "Karim",
        "last_name": "Daudet",
        "email": "karim@test.example.org",
        "note": "Votre parcours pourrait en aider d'autres.",
    }
    assert b.post(page, person, page=page).status_code == 302
    invitation = _one(app)
    assert invitation.status == ApplicationStatus.INVITED
    assert invitation.source == ApplicationSource.REFERENT
    assert invitation.suggested_by_id == referent_id
    [email] = _emails(app, "application_invitation")
    assert "Sophie Lamothe" in email.body_text and "Votre parcours" in email.body_text
    link = re.search(r"http://localhost(/devenir-tuteur\?invitation=\S+)", email.body_text)
    assert link
    # A second invitation to the same person sends nothing.
    r = b.post(page, person, page=page, follow_redirects=True)
    assert "déjà un compte ou une candidature" in r.get_data(as_text=True)
    assert len(_emails(app, "application_invitation")) == 1

    # Karim opens the link: the form is pre-filled and says who invited him.
    karim = Browser(app.test_client())
    html = karim.get(link.group(1)).get_data(as_text=True)
    assert "Sophie Lamothe" in html and 'value="karim@test.example.org"' in html
    r = karim.post(
        link.group(1),
        _answers(
            app,
            first_name="Karim",
            last_name="Daudet",
            email="karim@test.example.org",
            phone="",
        ),
    )
    assert r.status_code == 302
    application = _one(app)  # the same row, now « à examiner », still naming the référent
    assert application.id == invitation.id
    assert application.status == ApplicationStatus.TO_REVIEW
    assert application.suggested_by_id == referent_id
    with app.app_context():
        admin_email = make_admin().email
        db.session.commit()
    admin = _login(app.test_client(), admin_email)
    listing = admin.get("/admin/candidatures/").get_data(as_text=True)
    assert "proposée par un référent" in listing and "Sophie Lamothe" in listing


def test_a_forged_invitation_link_is_ignored(app, client):
    html = client.get("/devenir-tuteur?invitation=pas-un-jeton").get_data(as_text=True)
    assert "vous invite à devenir tuteur" not in html
    assert _apply(app, client).status_code == 302


# ---- Tutors protected ----


def test_unavailable_until_keeps_a_tutor_out_of_the_ranking_and_is_shown(app, client):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent)
        tutor = make_tutor()
        tutoring_request = request_service.open_request(
            mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.commit()
        tutor_email, tutor_id, request_id = tutor.email, tutor.id, tutoring_request.id
        assert tutor_id in [c.tutor.id for c in suggestions.candidates_for(tutoring_request)[0]]
    b = _login(client, tutor_email)
    page = b.get("/tuteur/profil")
    assert page.status_code == 200
    form = {
        "commune": "32307",
        "metier": "J1501",
        "slots": ["5", "15"],
        "has_car": "yes",
        "max_km": "30",
        "capacity": "1",
        "unavailable_until": (date.today() - timedelta(days=2)).isoformat(),
    }
    r = b.post("/tuteur/profil", form)
    assert r.status_code == 422 and "passée" in r.get_data(as_text=True)
    later = date.today() + timedelta(days=20)
    form["unavailable_until"] = later.isoformat()
    assert b.post("/tuteur/profil", form).status_code == 302
    home = b.get("/tuteur/").get_data(as_text=True)
    assert "indisponible jusqu'au" in home
    with app.app_context():
        from tutorat.models import TutoringRequest

        tutoring_request = db.session.get_one(TutoringRequest, request_id)
        assert tutor_id not in [c.tutor.id for c in suggestions.candidates_for(tutoring_request)[0]]
        profile = db.session.get_one(TutorProfile, tutor_id)
        profile.unavailable_until = None
        profile.rest_until = datetime.now(UTC) + timedelta(days=5)
        db.session.commit()
    home = b.get("/tuteur/").get_data(as_text=True)
    assert "Temps de repos après votre dernier binôme" in home
    assert "indisponible jusqu'au" not in home


# ---- The public form fuzzed ----

FUZZ_FIELDS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "commune",
    "metier",
    "slots",
    "capacity",
    "has_car",
    "max_km",
    "remote_ok",
    "obstacles",
    "experience_note",
    "charter",
    "consent",
]


def test_the_public_form_fuzzed_never_fails_and_never_half_writes(app, client):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.tutorat.test_fuzz_forms import _check, field_value

    b = Browser(client)
    b.get(FORM)
    with app.app_context():
        started = _started()

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.fixed_dictionaries({}, optional={f: field_value for f in FUZZ_FIELDS}))
    def run(data):
        response = b.post(FORM, {**data, "started": started, "website": ""})
        assert response.status_code in (302, 400, 422), response.status_code
        _check(response, data)  # what was sent back is escaped
        with app.app_context():
            applications = db.session.scalars(select(TutorApplication)).all()
            events = db.session.scalar(select(func.count()).select_from(ApplicationEvent))
            # An application is written whole (with its two events) or not at all.
            assert events == 2 * len(applications)
            for application in applications:
                assert application.status == ApplicationStatus.TO_REVIEW
                assert application.commune_code and application.metier_code
                assert application.charter_version == charter.CURRENT_VERSION

    run()


def test_a_tutor_leaves_the_programme_and_pending_proposals_are_withdrawn(app, client):
    with app.app_context():
        referent = make_referent()
        tutor = make_tutor(capacity=2)
        pair = pair_service.propose(
            request_service.open_request(
                make_mentee(referent),
                actor=referent,
                topics=["cv"],
                meeting_modes=["video"],
                message="Bonjour",
            ),
            tutor.id,
            actor=referent,
        )
        db.session.commit()
        tutor_email, tutor_id, pair_id = tutor.email, tutor.id, pair.id
    b = _login(client, tutor_email)
    page = b.get("/tuteur/quitter")
    assert page.status_code == 200 and "Quitter le programme" in page.get_data(as_text=True)
    r = b.post("/tuteur/quitter", {}, page="/tuteur/quitter")
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get_one(User, tutor_id).active is False
        assert db.session.get_one(Pair, pair_id).status == PairStatus.WITHDRAWN
    # Logged out, and the account no longer opens.
    assert b.client.get("/tuteur/").status_code == 302
    assert Browser(app.test_client()).login(tutor_email, PASSWORD).status_code != 302
