"""Issue 17, the rest: the loop (a former mentee invited to become a tutor), the tutor's
« attestation de bénévolat », the applicant's withdrawal and the purge of old applications, and the
public form's typing suggestions."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from tests.conftest import Browser
from tests.factories import (
    PASSWORD,
    make_active_pair,
    make_admin,
    make_mentee,
    make_referent,
    make_tutor,
)
from tests.tutorat.test_letters_sms import pdf_text
from tutorat.extensions import db
from tutorat.models import (
    ApplicationEvent,
    ApplicationSource,
    ApplicationStatus,
    ChecklistItem,
    Letter,
    MenteeProfile,
    OutboxEmail,
    Pair,
    TutorApplication,
    TutorProfile,
    User,
)
from tutorat.services import followup, loop, meetings, privacy, vetting
from tutorat.services import pairs as pair_service
from tutorat.services.errors import Conflict, DomainError


def _login(app, email: str) -> Browser:
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b


def _ended_pair(outcomes=("job",), *, meetings_spec=(), letter=False, ended_days_ago=0):
    """A binôme confirmed, with meetings (minutes, confirmed?), then ended with `outcomes`."""
    referent = make_referent()
    mentee = make_mentee(referent, first_name="Sonia", last_name="Lafitte")
    profile = db.session.get_one(MenteeProfile, mentee.id)
    profile.obstacles = "childcare,mobility"
    if letter:
        mentee.contact_letter, mentee.contact_email = True, False
        mentee.street_address, mentee.postal_code = "3 rue Gambetta", "32000"
    tutor = make_tutor(first_name="Marc", last_name="Sabathé")
    pair = make_active_pair(referent, mentee, tutor)
    for minutes, confirmed in meetings_spec:
        meeting = meetings.log_meeting(
            pair, actor=tutor, day=date.today(), duration_minutes=minutes, mode="in_person"
        )
        if confirmed is not None:
            meetings.confirm_meeting(meeting, pair, actor=mentee, confirmed=confirmed)
    end = datetime.now(UTC) - timedelta(days=ended_days_ago)
    pair_service.end(
        pair,
        actor=referent,
        outcomes=list(outcomes),
        contract="permanent" if "job" in outcomes else None,
        stop_reason="moved" if "stopped" in outcomes else None,
        now=end,
    )
    db.session.commit()
    return pair


# ---- The attestation de bénévolat ----


def test_the_tutor_downloads_an_attestation_counting_confirmed_meetings(app):
    with app.app_context():
        pair = _ended_pair(meetings_spec=[(90, True), (60, True), (45, None), (30, False)])
        other_tutor = make_tutor().email
        admin = make_admin().email
        db.session.commit()
        pair_id, tutor_email, mentee_email = pair.id, pair.tutor.email, pair.mentee.email
        referent_email = pair.referent.email
    url = f"/tuteur/binome/{pair_id}/attestation.pdf"
    tutor = _login(app, tutor_email)
    page = tutor.get(f"/tuteur/binome/{pair_id}").get_data(as_text=True)
    assert url in page and "attestation de bénévolat" in page
    response = tutor.client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(pdf_text(response.data).split())
    assert "Attestation de bénévolat" in text and "Marc Sabathé" in text
    assert re.search(r"Rencontres\s+2\b", text), text
    assert re.search(r"Heures de rencontre\s+2 h 30", text), text
    assert "confirmées par la personne accompagnée" in text
    assert "2 autre(s) rencontre(s)" in text
    assert "Le service Insertion du Conseil départemental du Gers" in text
    # The mentee is never named.
    assert "Sonia" not in text and "Lafitte" not in text

    # Another tutor: 404; the mentee and the référent: not their page (403); the admin: yes.
    assert _login(app, other_tutor).client.get(url).status_code == 404
    assert _login(app, mentee_email).client.get(url).status_code == 403
    assert _login(app, referent_email).client.get(url).status_code == 403
    admin_pdf = _login(app, admin).client.get(f"/admin/binomes/{pair_id}/attestation.pdf")
    assert admin_pdf.status_code == 200 and "Marc Sabathé" in pdf_text(admin_pdf.data)
    assert _login(app, admin).client.get("/admin/binomes/999999/attestation.pdf").status_code == 404


def test_no_attestation_before_the_end(app):
    with app.app_context():
        referent = make_referent()
        tutor = make_tutor()
        pair = make_active_pair(referent, make_mentee(referent), tutor)
        db.session.commit()
        pair_id, email = pair.id, tutor.email
    b = _login(app, email)
    assert b.client.get(f"/tuteur/binome/{pair_id}/attestation.pdf").status_code == 404
    assert "attestation.pdf" not in b.get(f"/tuteur/binome/{pair_id}").get_data(as_text=True)


# ---- The loop: asked at the end, invited months later ----


def test_the_end_asks_the_mentee_and_records_her_answer(app):
    with app.app_context():
        pair = _ended_pair(("job", "left_rsa"))
        pair_id, mentee_email, tutor_login = pair.id, pair.mentee.email, pair.tutor.email
        [ended] = db.session.scalars(
            select(OutboxEmail).where(
                OutboxEmail.kind == "pair_ended", OutboxEmail.recipient == mentee_email
            )
        ).all()
        assert "aider à votre tour" in ended.body_text
        assert f"/beneficiaire/binome/{pair_id}" in ended.body_text
        tutor_email = db.session.scalars(
            select(OutboxEmail).where(
                OutboxEmail.kind == "pair_ended", OutboxEmail.recipient != mentee_email
            )
        ).one()
        assert "aider à votre tour" not in tutor_email.body_text
        assert "attestation de bénévolat" in tutor_email.body_text
    b = _login(app, mentee_email)
    page = f"/beneficiaire/binome/{pair_id}"
    html = b.get(page).get_data(as_text=True)
    assert "aider à votre tour une personne au RSA" in html and "dans 3 mois" in html
    # No answer chosen: a French 422, nothing recorded.
    r = b.post(f"{page}/aider-plus-tard", {}, page=page)
    assert r.status_code == 422 and "Choisissez une réponse" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get_one(Pair, pair_id).mentee_would_help is None
    r = b.post(f"{page}/aider-plus-tard", {"help-would_help": "yes"}, page=page)
    assert r.status_code == 302
    with app.app_context():
        pair = db.session.get_one(Pair, pair_id)
        assert pair.mentee_would_help is True and pair.mentee_would_help_at is not None
    assert "Vous pouvez changer d'avis" in b.get(page).get_data(as_text=True)
    # Her answer is in her own data export, and not in her tutor's.
    [mine] = b.get("/compte/mes-donnees.json").get_json()["binomes"]
    assert mine["devenir_tuteur_plus_tard"]["reponse"] == "oui"
    [theirs] = _login(app, tutor_login).get("/compte/mes-donnees.json").get_json()["binomes"]
    assert "devenir_tuteur_plus_tard" not in theirs
    # Without the CSRF token: refused, nothing changes.
    r = b.client.post(f"{page}/aider-plus-tard", data={"help-would_help": "no"})
    assert r.status_code == 400
    with app.app_context():
        assert db.session.get_one(Pair, pair_id).mentee_would_help is True


def test_no_question_after_a_binome_without_a_job_and_others_cannot_answer(app):
    with app.app_context():
        training = _ended_pair(("training",))
        job = _ended_pair(("job",))
        training_id, job_id = training.id, job.id
        email = training.mentee.email
        assert not loop.asks_to_help(training)
        with pytest.raises(Conflict):
            loop.record_answer(training, actor=training.mentee, yes=True)
        # Another binôme's tutor (or mentee) cannot answer for her.
        with pytest.raises(DomainError):
            loop.record_answer(job, actor=training.mentee, yes=True)
        with pytest.raises(DomainError):
            loop.record_answer(job, actor=job.tutor, yes=True)
    b = _login(app, email)
    assert "aider à votre tour" not in b.get(f"/beneficiaire/binome/{training_id}").get_data(
        as_text=True
    )
    r = b.post(
        f"/beneficiaire/binome/{job_id}/aider-plus-tard",
        {"help-would_help": "yes"},
        page=f"/beneficiaire/binome/{training_id}",
    )
    assert r.status_code == 404


def test_the_referent_notes_her_answer_given_by_phone(app):
    with app.app_context():
        pair = _ended_pair(("left_rsa",), letter=True)
        pair_id, referent_email = pair.id, pair.referent.email
        # Her end letter asks the question and says the référent may note her answer.
        letter = db.session.scalars(
            select(Letter).where(Letter.kind == "pair_ended", Letter.recipient_id == pair.mentee_id)
        ).one()
        assert "aider à votre tour" in letter.body_text and "référent" in letter.body_text
    b = _login(app, referent_email)
    page = f"/referent/binomes/{pair_id}"
    assert "aimerait-elle devenir tuteur plus tard" in b.get(page).get_data(as_text=True)
    r = b.post(f"{page}/aider-plus-tard", {"help-would_help": "yes"}, page=page)
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get_one(Pair, pair_id).mentee_would_help is True
    assert "Oui, depuis le" in b.get(page).get_data(as_text=True)


def test_run_reminders_invites_her_once_after_the_months_set(app):
    with app.app_context():
        pair = _ended_pair(("job",))
        loop.record_answer(pair, actor=pair.mentee, yes=True)
        # She said no: never invited.
        other = _ended_pair(("job",))
        loop.record_answer(other, actor=other.mentee, yes=False)
        db.session.commit()
        ended = pair.ended_at
        assert (
            followup.run_reminders(ended + timedelta(days=80))["invitations à devenir tuteur"] == 0
        )
        report = followup.run_reminders(ended + timedelta(days=93))
        assert report["invitations à devenir tuteur"] == 1
        # Idempotent: a second run sends nothing more.
        assert (
            followup.run_reminders(ended + timedelta(days=120))["invitations à devenir tuteur"] == 0
        )
        [email] = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.kind == "former_mentee_invitation")
        ).all()
        assert email.recipient == pair.mentee.email
        assert "Il y a 3 mois" in email.body_text and "/devenir-tuteur?ancien=" in email.body_text
        assert db.session.get_one(Pair, pair.id).help_invited_at is not None


def test_the_setting_and_a_letter_for_who_chose_paper(app):
    with app.app_context():
        admin = make_admin()
        with pytest.raises(DomainError):
            loop.set_invite_months(0, actor=admin)
        with pytest.raises(DomainError):
            loop.set_invite_months(6, actor=make_referent())
        db.session.commit()
        admin_email = admin.email
    b = _login(app, admin_email)
    listing = "/admin/candidatures/"
    assert "Anciens bénéficiaires invités" in b.get(listing).get_data(as_text=True)
    r = b.post(f"{listing}reglage-anciens-beneficiaires", {"loop-months": "40"}, page=listing)
    assert r.status_code == 422 and "Entre 1 et 24 mois" in r.get_data(as_text=True)
    r = b.post(f"{listing}reglage-anciens-beneficiaires", {"loop-months": "1"}, page=listing)
    assert r.status_code == 302
    with app.app_context():
        assert loop.invite_months() == 1
        pair = _ended_pair(("job",), letter=True)
        loop.record_answer(pair, actor=pair.mentee, yes=True)
        db.session.commit()
        assert loop.send_invitations(pair.ended_at + timedelta(days=20)) == 0
        assert loop.send_invitations(pair.ended_at + timedelta(days=32)) == 1
        letter = db.session.scalars(
            select(Letter).where(Letter.kind == "former_mentee_invitation")
        ).one()
        assert letter.recipient_id == pair.mentee_id and "devenir-tuteur?ancien=" in (
            letter.body_text
        )
        assert not db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.kind == "former_mentee_invitation")
        ).all()


def test_she_withdraws_her_yes_from_her_account(app):
    with app.app_context():
        pair = _ended_pair(("job",))
        loop.record_answer(pair, actor=pair.mentee, yes=True)
        db.session.commit()
        pair_id, email, ended = pair.id, pair.mentee.email, pair.ended_at
        token = loop.invitation_token(pair)
    b = _login(app, email)
    settings = b.get("/compte/").get_data(as_text=True)
    assert "Devenir tuteur ou tutrice plus tard" in settings
    r = b.post("/compte/devenir-tuteur/retirer", {}, page="/compte/")
    assert r.status_code == 302
    assert "Devenir tuteur ou tutrice plus tard" not in b.get("/compte/").get_data(as_text=True)
    with app.app_context():
        pair = db.session.get_one(Pair, pair_id)
        assert pair.mentee_would_help is False and pair.mentee_would_help_at is not None
        assert loop.send_invitations(ended + timedelta(days=200)) == 0
        # An invitation link sent before no longer opens her profile.
        assert loop.pair_from_token(token) is None


def _started() -> str:
    return vetting.form_started_token(now=time.time() - 30)


def test_the_invitation_prefills_only_with_her_consent_then_she_becomes_a_tutor(app):
    with app.app_context():
        pair = _ended_pair(("job",))
        loop.record_answer(pair, actor=pair.mentee, yes=True)
        # The job title she picked (J1501) is offered to her as a tutor's trade.
        pair.mentee.mentee_profile.target_titles = "Aide-soignant / Aide-soignante en gériatrie"
        db.session.commit()
        mentee_id, mentee_email = pair.mentee_id, pair.mentee.email
        token = loop.invitation_token(pair)
        admin = make_admin()
        db.session.commit()
        admin_id = admin.id
    client = app.test_client()
    url = f"/devenir-tuteur?ancien={token}"
    page = client.get(url).get_data(as_text=True)
    assert "Remplir avec mon profil" in page
    assert mentee_email not in page and "Lafitte" not in page
    # The button without the box ticked: nothing copied.
    page = client.get(url + "&reprendre=").get_data(as_text=True)
    assert mentee_email not in page and "Rien n'a été recopié" in page
    page = client.get(url + "&reprendre=oui").get_data(as_text=True)
    assert mentee_email in page and "Lafitte" in page and "Auch" in page
    assert re.search(r'value="childcare"[^>]*checked', page)
    assert 'value="Aide-soignant / Aide-soignante en gériatrie — J1501"' in page
    # A forged or withdrawn link: the plain form.
    assert "Remplir avec mon profil" not in client.get(
        "/devenir-tuteur?ancien=faux&reprendre=oui"
    ).get_data(as_text=True)

    b = Browser(client)
    b.get(url + "&reprendre=oui")
    answers = {
        "first_name": "Sonia",
        "last_name": "Lafitte",
        "email": mentee_email,
        "commune": "32013",
        "metier": "J1501",
        "slots": ["5"],
        "capacity": "1",
        "has_car": "no",
        "max_km": "10",
        "obstacles": ["childcare"],
        "charter": "y",
        "consent": "y",
        "website": "",
    }
    with app.app_context():
        answers["started"] = _started()
    r = b.post(url, answers)
    assert r.status_code == 302 and r.location.endswith("/devenir-tuteur/merci")
    with app.app_context():
        application = db.session.scalars(select(TutorApplication)).one()
        assert application.source == ApplicationSource.FORMER_MENTEE
        assert application.former_mentee_id == mentee_id
        assert application.status == ApplicationStatus.TO_REVIEW
        admin = db.session.get_one(User, admin_id)
        for item in (
            ChecklistItem.IDENTITY,
            ChecklistItem.CRIMINAL_RECORD,
            ChecklistItem.INFO_MEETING,
        ):
            vetting.record_check(application, item, date.today(), actor=admin)
        tutor = vetting.validate(application, actor=admin)
        db.session.commit()
        # Her tutor account takes her address; her beneficiary account is closed.
        assert tutor.email == mentee_email and tutor.role == "tutor"
        mentee = db.session.get_one(User, mentee_id)
        assert mentee.email is None and not mentee.active


# ---- The applicant withdraws; old applications are purged ----


def _apply_public(app, email="lea.darre@test.example.org"):
    b = Browser(app.test_client())
    b.get("/devenir-tuteur")
    data = {
        "first_name": "Léa",
        "last_name": "Darré",
        "email": email,
        "commune": "32013",
        "metier": "J1501",
        "slots": ["5"],
        "capacity": "1",
        "has_car": "no",
        "max_km": "10",
        "charter": "y",
        "consent": "y",
        "website": "",
    }
    with app.app_context():
        data["started"] = _started()
    assert b.post("/devenir-tuteur", data).status_code == 302
    with app.app_context():
        return db.session.scalars(
            select(TutorApplication).where(TutorApplication.email == email)
        ).one()


def test_an_applicant_withdraws_with_the_link_of_the_confirmation_email(app):
    application = _apply_public(app)
    with app.app_context():
        [email] = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.kind == "application_received")
        ).all()
        link = re.search(r"http://localhost(/devenir-tuteur/retirer/\S+)", email.body_text)
        assert link, email.body_text
    b = Browser(app.test_client())
    page = b.get(link.group(1))
    assert page.status_code == 200 and "Retirer ma candidature" in page.get_data(as_text=True)
    # Without the CSRF token: refused.
    assert b.client.post(link.group(1)).status_code == 400
    r = b.post(link.group(1), {})
    assert r.status_code == 302
    with app.app_context():
        application = db.session.get_one(TutorApplication, application.id)
        assert application.status == ApplicationStatus.WITHDRAWN
        events = db.session.scalars(
            select(ApplicationEvent.to_status).where(
                ApplicationEvent.application_id == application.id
            )
        ).all()
        assert ApplicationStatus.WITHDRAWN in events
    # Twice: a 409 that says so, nothing changes.
    r = b.post(link.group(1), {})
    assert r.status_code == 409
    assert "Cette candidature est retirée" in b.get(link.group(1)).get_data(as_text=True)
    assert b.get("/devenir-tuteur/retirer/jeton-faux").status_code == 404


def test_refused_and_withdrawn_applications_are_purged_after_the_delay(app):
    withdrawn = _apply_public(app, "un@test.example.org")
    refused = _apply_public(app, "deux@test.example.org")
    recent = _apply_public(app, "trois@test.example.org")
    waiting = _apply_public(app, "quatre@test.example.org")
    with app.app_context():
        admin = make_admin()
        old = datetime.now(UTC) - timedelta(days=400)
        vetting.withdraw_by_applicant(db.session.get_one(TutorApplication, withdrawn.id), now=old)
        vetting.refuse(
            db.session.get_one(TutorApplication, refused.id),
            "Nous ne recrutons pas dans votre secteur.",
            actor=admin,
            now=old,
        )
        vetting.withdraw_by_applicant(db.session.get_one(TutorApplication, recent.id))
        db.session.commit()
        report = privacy.purge()
        assert report["candidatures"] == 2
        left = set(db.session.scalars(select(TutorApplication.id)))
        assert left == {recent.id, waiting.id}
        assert not db.session.scalar(
            select(func.count())
            .select_from(ApplicationEvent)
            .where(ApplicationEvent.application_id.in_([withdrawn.id, refused.id]))
        )
        # Safe twice.
        assert privacy.purge()["candidatures"] == 0


def test_the_public_form_suggests_communes_and_metiers_without_an_account(app, client):
    html = client.get("/devenir-tuteur").get_data(as_text=True)
    assert 'data-autocomplete="/devenir-tuteur/communes"' in html
    assert 'data-autocomplete="/devenir-tuteur/metiers"' in html
    communes = client.get("/devenir-tuteur/communes?q=auch").get_json()
    assert any(c["code"] == "32013" for c in communes)
    metiers = client.get("/devenir-tuteur/metiers?q=aide-soignant").get_json()
    assert metiers and all({"value", "code", "label"} <= set(m) for m in metiers)
    # The signed-in look-ups stay closed to strangers.
    assert client.get("/api/communes?q=auch").status_code in (302, 401)


# ---- Indicators for recruiting ----


def _count_queries(fn):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return result, len(statements)


def _recruiting_world(n: int) -> None:
    """An application of each kind, tutors at each stage, demandes in Auch without free tutors."""
    from tutorat.services import requests as request_service

    now = datetime.now(UTC)
    admin = make_admin()
    referent = make_referent()
    for i in range(n):
        # Validated: applied 10 days ago, checked 4 days ago, validated 2 days ago.
        application = TutorApplication(
            status=ApplicationStatus.TO_REVIEW,
            source=ApplicationSource.PUBLIC,
            first_name="A",
            last_name=f"Validée{i}",
            email=f"validee{i}-{n}@test.example.org",
            commune_code="32013",
            metier_code="J1501",
            availability=1 << 5,
            capacity=1,
            consent_at=now - timedelta(days=10),
            charter_version=1,
            charter_accepted_at=now - timedelta(days=10),
            submitted_at=now - timedelta(days=10),
            created_at=now - timedelta(days=10),
            updated_at=now - timedelta(days=10),
            identity_checked_on=(now - timedelta(days=6)).date(),
            criminal_record_seen_on=(now - timedelta(days=5)).date(),
            info_meeting_on=(now - timedelta(days=4)).date(),
        )
        db.session.add(application)
        db.session.flush()
        tutor = vetting.validate(application, actor=admin, now=now - timedelta(days=2))
        tutor.active = False  # then left
        # Waiting « à examiner ».
        db.session.add(
            TutorApplication(
                status=ApplicationStatus.TO_REVIEW,
                source=ApplicationSource.PUBLIC,
                first_name="B",
                last_name=f"Attente{i}",
                email=f"attente{i}-{n}@test.example.org",
                submitted_at=now,
            )
        )
        # Tutors far from Auch: one active, one resting, one free (in Lectoure's canton).
        active = make_tutor(commune="32208")
        make_active_pair(referent, make_mentee(referent, commune="32208"), active)
        resting = make_tutor(commune="32208")
        db.session.get_one(TutorProfile, resting.id).rest_until = now + timedelta(days=5)
        make_tutor(commune="32208", capacity=2)
        # Two open demandes in Auch.
        for _ in range(2):
            request_service.open_request(
                make_mentee(referent, commune="32013"),
                actor=referent,
                topics=["cv"],
                meeting_modes=["in_person"],
                message="Bonjour",
            )
    db.session.commit()


def test_recruitment_indicators_in_a_constant_number_of_queries(app):
    from tutorat.services.indicators import recruitment as recruiting

    with app.app_context():
        _recruiting_world(1)
        small, small_queries = _count_queries(recruiting.recruitment)
        stages = {s.key: s.count for s in small.stages}
        assert stages == {
            "applied": 2,
            "vetted": 1,
            "validated": 1,
            "tutoring": 1,
            "resting": 1,
            "available": 1,
            "left": 1,
        }
        delays = {d.label: d.median_days for d in small.delays}
        assert delays["la candidature et la vérification complète"] == 6
        assert delays["la vérification complète et la validation"] == 2
        assert delays["la candidature et la validation"] == 8
        # Auch's canton first: two demandes, no free place there.
        first = small.cantons[0]
        assert first.demandes == 2 and first.free_places == 0 and first.lacks_tutors
        assert first in small.short_cantons
        assert any(t.free_places == 2 and not t.lacks_tutors for t in small.cantons)
        assert small.epcis[0].demandes == 2
        _recruiting_world(3)
        big, big_queries = _count_queries(recruiting.recruitment)
        assert {s.key: s.count for s in big.stages}["applied"] == 8
        assert small_queries == big_queries == 4


def test_recruitment_page_and_csv_for_the_administration_only(app):
    with app.app_context():
        _recruiting_world(1)
        admin = make_admin().email
        referent = make_referent().email
        db.session.commit()
    b = _login(app, admin)
    assert "/indicateurs/recrutement" in b.get("/indicateurs/").get_data(as_text=True)
    page = b.get("/indicateurs/recrutement")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Candidatures reçues" in html and "Auch" in html
    csv = b.client.get("/indicateurs/recrutement/recrutement-cantons.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.data.decode("utf-8-sig")
    assert text.startswith("Canton;Places libres;") and ";oui\r\n" in text
    assert b.client.get("/indicateurs/recrutement/inconnu.csv").status_code == 404
    r = _login(app, referent)
    assert r.client.get("/indicateurs/recrutement").status_code == 403
    assert r.client.get("/indicateurs/recrutement/recrutement-etapes.csv").status_code == 403
